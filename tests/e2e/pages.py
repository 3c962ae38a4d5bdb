"""Every page of the site, who opens it, and the records it needs: the table the browser walk
(``test_every_page.py``) goes through.

A feature that adds a page adds a row to ``PAGES`` (its path may use ``{names}`` that a
maker fills in) and, if the page needs records, a maker to ``MAKERS``. A page that is not
HTML for a person (a PDF, a CSV, JSON, a redirect) goes in ``NOT_PAGES`` with the reason.
``test_every_html_route_is_walked`` fails until a new route is in one or the other.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from core.db import db

PASSWORD = "a long enough passphrase"

#: Who opens the pages: signed out, or signed in with this role.
PEOPLE = {
    "visitor": None,
    "member": "member",
    "moderator": "moderator",
    "treasurer": "treasurer",
    "admin": "admin",
}


@dataclass(frozen=True)
class Page:
    path: str
    who: str = "visitor"
    status: int = 200


PAGES = [
    # Public
    Page("/"),
    Page("/get-involved"),
    Page("/donate"),
    Page("/funds"),
    Page("/funds/{fund_slug}"),
    Page("/login"),
    Page("/register"),
    Page("/reset-password"),
    Page("/reset-password/{reset_token}"),
    Page("/no-such-page", status=404),
    Page("/join"),
    Page("/join/individual"),
    Page("/join/household/{household_token}"),
    Page("/account/set-password/{set_password_token}"),
    Page("/take-action"),
    Page("/take-action/{campaign_slug}"),
    Page("/take-action/{campaign_slug}/confirm/{signature_token}"),
    Page("/pages/{page_slug}"),
    Page("/volunteer"),
    Page("/volunteer/thanks"),
    # Reached through a signed link or back from Stripe
    Page("/donate/thanks?session_id={paid_session}"),
    Page("/payments/return?session_id={paid_session}"),
    Page("/donate/manage/{manage_token}"),
    Page("/donate/back/{return_token}"),
    Page("/join/welcome?session_id={join_session}"),
    Page("/email-preferences/{preferences_token}"),
    Page("/unsubscribe/{preferences_token}"),
    # A member's account
    Page("/account", "member"),
    Page("/account/settings", "member"),
    Page("/account/gifts", "member"),
    Page("/account/membership", "member"),
    Page("/account/membership/dues/{dues_id}", "member"),
    # The moderator
    Page("/moderation/comments", "moderator"),
    Page("/treasurer/", "moderator", status=403),
    Page("/donate", "member"),
    Page("/treasurer/", "member", status=403),
    # The treasurer
    Page("/treasurer/", "treasurer"),
    Page("/treasurer/donations", "treasurer"),
    Page("/treasurer/donations/{donation_id}", "treasurer"),
    Page("/treasurer/donors", "treasurer"),
    Page("/treasurer/donors?email={donor_email}", "treasurer"),
    Page("/treasurer/donations/offline", "treasurer"),
    Page("/treasurer/donations/settings", "treasurer"),
    Page("/treasurer/members", "treasurer"),
    Page("/treasurer/members/{membership_id}", "treasurer"),
    Page("/treasurer/members/offline", "treasurer"),
    Page("/treasurer/members/grant", "treasurer"),
    Page("/treasurer/members/import", "treasurer"),
    Page("/treasurer/members/good-standing", "treasurer"),
    Page("/treasurer/members/settings", "treasurer"),
    Page("/treasurer/payouts", "treasurer"),
    Page("/treasurer/payouts?state=balanced", "treasurer"),
    Page("/treasurer/payouts/{payout_id}", "treasurer"),
    Page("/treasurer/payouts/{payout_id}?kind=charge", "treasurer"),
    Page("/treasurer/payments", "treasurer"),
    Page("/treasurer/payments?q=dana", "treasurer"),
    Page("/treasurer/payments/{payment_id}", "treasurer"),
    Page("/treasurer/refunds", "treasurer"),
    Page("/treasurer/disputes", "treasurer"),
    Page("/treasurer/events", "treasurer"),
    Page("/treasurer/events/{event_id}", "treasurer"),
    Page("/treasurer/audit", "treasurer"),
    Page("/treasurer/exports", "treasurer"),
    Page("/treasurer/not-paid-out", "treasurer"),
    Page("/treasurer/reports/receipts", "treasurer"),
    Page("/treasurer/reports/gst-hst", "treasurer"),
    Page("/treasurer/people/", "treasurer"),
    Page("/treasurer/people/?q=dana", "treasurer"),
    Page("/treasurer/people/record?email={donor_email}", "treasurer"),
    Page("/treasurer/people/merge?into={donor_email}&source=buyer@example.org", "treasurer"),
    Page("/treasurer/people/erase?email={donor_email}", "treasurer"),
    Page("/treasurer/people/erase?email=lea@example.org", "admin"),
    Page("/treasurer/", "admin"),
    # The admin's staff screens
    Page("/admin/", "admin"),
    Page("/admin/fund/", "admin"),
    Page("/admin/fund/new/", "admin"),
    Page("/admin/fund/edit/?id={fund_id}", "admin"),
    Page("/admin/user/", "admin"),
    Page("/admin/user/?flt0_0=admin", "admin"),
    Page("/admin/user/edit/?id={member_id}", "admin"),
    # The shop
    Page("/shop"),
    Page("/shop/{product_slug}"),
    Page("/shop/{sold_out_slug}"),
    Page("/cart"),
    Page("/cart/extras"),
    Page("/checkout"),
    Page("/orders/{order_token}"),
    Page("/account/orders", "member"),
    Page("/treasurer/orders", "treasurer"),
    Page("/treasurer/orders/{order_id}", "treasurer"),
    Page("/treasurer/mailing-lists", "treasurer"),
    Page("/treasurer/shop/settings", "treasurer"),
    Page("/admin/product/", "admin"),
    Page("/admin/product/new/", "admin"),
    Page("/admin/product/edit/?id={product_id}", "admin"),
    Page("/admin/taxrate/", "admin"),
    Page("/admin/taxrate/edit/?id={tax_rate_id}", "admin"),
    Page("/admin/shippingrate/", "admin"),
    Page("/admin/shippingrate/new/", "admin"),
    Page("/admin/tier/", "admin"),
    Page("/admin/tier/new/", "admin"),
    Page("/admin/tier/edit/?id={tier_id}", "admin"),
    Page("/admin/campaign/", "admin"),
    Page("/admin/campaign/new/", "admin"),
    Page("/admin/campaign/edit/?id={campaign_id}", "admin"),
    Page("/admin/contentpage/", "admin"),
    Page("/admin/contentpage/new/", "admin"),
    Page("/admin/contentpage/edit/?id={page_id}", "admin"),
    Page("/admin/pagelink/", "admin"),
    Page("/admin/pagelink/new/", "admin"),
    Page("/admin/pagelink/edit/?id={page_link_id}", "admin"),
    Page("/admin/take-action", "admin"),
    Page("/admin/take-action/{campaign_id}", "admin"),
    Page("/admin/volunteers", "admin"),
    Page("/admin/news-consent", "admin"),
]

#: Defects the walk finds that are being fixed elsewhere: ``(path, check): why``, where check
#: is "wider", "axe", "console" or "csp". Only that check of that page is excused, and the
#: walk fails once it passes, so that the entry is taken out with the fix.
KNOWN = {}

#: Routes that answer GET but are not pages for a person to look at.
NOT_PAGES = {
    "core.favicon": "a redirect to the icon",
    "core.healthz": "JSON for the load balancer",
    "core.readyz": "JSON for the load balancer",
    "donations.receipt_pdf": "a PDF (an expired link's page is checked in test_receipt_links)",
    "donations.charge": "JSON for the donate form's script",
    "donations.staff_export": "a CSV download",
    "accounts.verify_email": "confirms, then redirects",
    "accounts.confirm_email": "confirms, then redirects",
    "donations_api.funds": "the JSON API",
    "members_api.tiers": "the JSON API",
    "members_api.my_membership": "the JSON API",
    "donations.portal_return": "back from Stripe's billing portal: a redirect",
    "members.staff_export": "a CSV download",
    "involve.staff_letters_pdf": "a PDF",
    "involve.staff_signatures_csv": "a CSV download",
    "involve.staff_volunteers_csv": "a CSV download",
    "involve.staff_news_consent_csv": "a CSV download",
    "api-docs.openapi_json": "the JSON API's description",
    # Flask-Admin answers these, but our screens link to none of them.
    "fund.ajax_lookup": "Flask-Admin's JSON look-up",
    "user.ajax_lookup": "Flask-Admin's JSON look-up",
    "fund.export": "exports are off",
    "user.export": "exports are off",
    "fund.details_view": "details are off; the edit form shows everything",
    "user.details_view": "details are off; the edit form shows everything",
    "user.create_view": "people register themselves",
    "accounts.second_factor": "the middle of a staff sign-in: the walk signs staff in through it",
    "accounts.second_factor_setup": "the middle of a staff sign-in: the walk enrols through it",
    "treasurer.payout_journal": "a CSV download",
    "treasurer.payout_lines_csv": "a CSV download",
    "treasurer.journal_range": "a CSV download",
    "treasurer.lines_range": "a CSV download",
    "treasurer.receipt_register_csv": "a CSV download",
    "treasurer.gst_report_csv": "a CSV download",
    "people.export_json": "a JSON download",
    "people.export_csv": "a CSV download",
    "treasurer_api.payouts": "the JSON API",
    "treasurer_api.payout": "the JSON API",
    "shop.checkout_return": "a redirect back from Stripe to the order page",
    "shop.invoice": "a PDF",
    "shop.download": "the PDF of a digital issue",
    "shop.issue_download": "the PDF of an issue sent to its mailing list",
    "shop.staff_packing_slip": "a PDF",
    "shop.staff_mailing_csv": "a CSV download",
    "shop_api.products": "the JSON API",
    "shop_api.product": "the JSON API",
    "shop_api.get_cart": "the JSON API",
    "product.ajax_lookup": "Flask-Admin's JSON look-up",
    "product.export": "exports are off",
    "product.details_view": "details are off; the edit form shows everything",
    "taxrate.ajax_lookup": "Flask-Admin's JSON look-up",
    "taxrate.export": "exports are off",
    "taxrate.details_view": "details are off; the edit form shows everything",
    "taxrate.create_view": "one rate per province, seeded",
    "shippingrate.ajax_lookup": "Flask-Admin's JSON look-up",
    "shippingrate.export": "exports are off",
    "shippingrate.details_view": "details are off; the edit form shows everything",
    "shippingrate.edit_view": "the list and the new-rate form cover it",
}
for _view in ("tier", "campaign", "contentpage", "pagelink"):
    NOT_PAGES[f"{_view}.ajax_lookup"] = "Flask-Admin's JSON look-up"
    NOT_PAGES[f"{_view}.export"] = "exports are off"
    NOT_PAGES[f"{_view}.details_view"] = "details are off; the edit form shows everything"


# -- the records the pages show ----------------------------------------------------------------


def make_donations(app, give, stripe_sim):
    """A paid one-time gift, a monthly gift, and what the treasurer and admin open."""
    from core.mail.services import preferences_token
    from donations.gifts import manage_token, return_token
    from donations.models import Donation, Fund, MonthlyGift

    _, paid = give(donor_name="Dana Donor", email="dana@example.org")
    stripe_sim.pay(paid)
    _, monthly = give(frequency="monthly", other_amount="15", email="dana@example.org")
    stripe_sim.pay(monthly)
    give(other_amount="40", cover_fee="y", email="dana@example.org")  # left through Cancel
    with app.app_context():
        donation = db.session.scalar(sa.select(Donation).order_by(Donation.id))
        fund = db.session.scalar(sa.select(Fund).where(Fund.slug == "mondial"))
        return {
            "paid_session": paid,
            "donation_id": donation.id,
            "donor_email": donation.email,
            "manage_token": manage_token(db.session.scalar(sa.select(MonthlyGift))),
            "return_token": return_token(
                db.session.scalar(sa.select(Donation).order_by(Donation.id.desc()))
            ),
            "preferences_token": preferences_token("dana@example.org"),
            "fund_slug": fund.slug,
            "fund_id": fund.id,
        }


def make_accounts(app, give, stripe_sim):
    """A reset link for the member; the member's id for the admin's edit form."""
    from core.accounts.models import User
    from core.accounts.services import request_password_reset
    from core.mail.models import OutboxMessage

    with app.app_context():
        member = db.session.scalar(sa.select(User).where(User.email == "member@example.org"))
        request_password_reset(member.email)
        db.session.commit()
        body = db.session.scalar(
            sa.select(OutboxMessage.text_body).where(OutboxMessage.template.like("%reset%"))
        )
        link = re.search(r"https?://\S+/reset-password/\S+", body).group(0)
        return {
            "member_id": member.id,
            "reset_token": urlsplit(link).path.rsplit("/", 1)[-1],
        }


def make_payout(app, give, stripe_sim):
    """The gifts paid out once, fetched and checked, as the treasurer finds them.

    The gifts' money is made available at once in the simulator rather than by moving the
    clock on, which would expire the signed links of the other pages.
    """
    from payments.models import Payment, Payout, StripeEvent
    from payments.payouts import sync_flagged
    from treasurer import check_payouts_task

    store = stripe_sim.sim.store
    with store.lock:
        for txn in store.all("balance_transaction"):
            txn["available_on"] = min(txn["available_on"], store.clock.now())
    stripe_sim.payout()
    with app.app_context():
        sync_flagged()
        check_payouts_task()
        return {
            "payout_id": db.session.scalar(sa.select(Payout.id).order_by(Payout.id.desc())),
            "payment_id": db.session.scalar(sa.select(Payment.id).order_by(Payment.id)),
            "event_id": db.session.scalar(sa.select(StripeEvent.id).order_by(StripeEvent.id)),
        }


def make_shop(app, give, stripe_sim):
    """The demo catalogue and a paid order of a print issue."""
    from urllib.parse import urlsplit as split

    from shop import services
    from shop.cli import seed_shop
    from shop.models import Product, TaxRate

    with app.app_context():
        seed_shop()
        db.session.commit()
        issue = db.session.scalar(sa.select(Product).where(Product.slug == "mondial-42"))
        order = services.start_order(
            [(issue, 1)],
            services.Buyer(
                email="buyer@example.org",
                name="Bea Buyer",
                address_line1="1 Peace Street",
                city="Ottawa",
                province="ON",
                postal_code="K1A 0B1",
            ),
        )
        url = services.open_checkout(order)
        db.session.commit()
        found = {
            "order_token": order.token,
            "order_id": order.id,
            "product_slug": "mondial-42",
            "sold_out_slug": "mondial-41",
            "product_id": issue.id,
            "tax_rate_id": db.session.scalar(sa.select(TaxRate.id).where(TaxRate.province == "ON")),
        }
    stripe_sim.pay(split(url).path.rsplit("/", 1)[-1])
    return found


def make_members(app, give, stripe_sim):
    """Tiers; the member's paid membership; a visitor's join; an invitation; an import."""
    from datetime import timedelta

    from core.accounts.models import User
    from core.tokens import make_token
    from members import dates, household, management
    from members.cli import seed_tiers
    from members.models import Dues, Tier
    from tests.helpers import post_form
    from tests.member_fixtures import join_form, session_of

    with app.app_context():
        seed_tiers()
        db.session.commit()
    client = app.test_client()
    joined = post_form(client, "/join/individual", join_form(), token_from="/join/individual")
    join_session = session_of(joined)
    stripe_sim.pay(join_session)
    with app.app_context():
        member = db.session.scalar(sa.select(User).where(User.email == "member@example.org"))
        family = db.session.scalar(sa.select(Tier).where(Tier.slug == "family"))
        staff = db.session.scalar(sa.select(User).where(User.email == "treasurer@example.org"))
        dues = management.record_offline_dues(
            member,
            family,
            amount=family.price,
            method="cheque",
            received_on=dates.today() - timedelta(days=1),
            reference="Cheque 1024",
            recorded_by=staff,
        )
        membership = dues.membership
        household.invite(membership, email="sam@example.org", name="Sam Partner", inviter=member)
        invitation = max(membership.household, key=lambda place: place.id)
        imported, _ = management.person_for_staff(
            email="imported@example.org", name="Imported Member", language="en"
        )
        db.session.commit()
        return {
            "join_session": join_session,
            "dues_id": db.session.scalar(sa.select(Dues.id).where(Dues.id == dues.id)),
            "membership_id": membership.id,
            "tier_id": family.id,
            "household_token": make_token(
                "household-invitation", {"id": invitation.id, "token": invitation.token}
            ),
            "set_password_token": make_token(
                "member-set-password", {"id": imported.id, "m": imported.password_hash}
            ),
        }


def make_involvement(app, give, stripe_sim):
    """The NGO's campaigns and pages, a signature awaiting confirmation, a pending comment."""
    from core.mail.models import OutboxMessage
    from involve.content import DEMO_CAMPAIGN, ROADMAP, seed_demo
    from involve.models import Campaign, ContentPage, PageLink
    from tests.helpers import post_form

    with app.app_context():
        seed_demo()
        page = db.session.scalar(sa.select(ContentPage).where(ContentPage.slug == ROADMAP["slug"]))
        if not page.links:
            page.links.append(PageLink(label_en="Our roadmap", href="/pages/roadmap"))
        db.session.commit()
    client = app.test_client()
    slug = DEMO_CAMPAIGN["slug"]
    signed = post_form(
        client,
        f"/take-action/{slug}",
        {"name": "Léa Tremblay", "email": "lea@example.org", "postal_code": "H2X 1Y4"},
    )
    assert signed.status_code in (200, 302, 303), signed.status_code
    post_form(
        client,
        f"/pages/{ROADMAP['slug']}/comments",
        {"comment-name": "Léa", "comment-email": "lea@example.org", "comment-body": "Merci !"},
        token_from=f"/pages/{ROADMAP['slug']}",
    )
    with app.app_context():
        body = db.session.scalar(
            sa.select(OutboxMessage.text_body)
            .where(OutboxMessage.to_addr == "lea@example.org")
            .order_by(OutboxMessage.id.desc())
        )
        link = re.search(r"https?://\S+/confirm/\S+", body).group(0)
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
        page = db.session.scalar(sa.select(ContentPage).where(ContentPage.slug == ROADMAP["slug"]))
        return {
            "campaign_slug": slug,
            "campaign_id": campaign.id,
            "signature_token": urlsplit(link).path.rsplit("/", 1)[-1],
            "page_slug": page.slug,
            "page_id": page.id,
            "page_link_id": page.links[0].id,
        }


#: Called in order with (app, give, stripe_sim) after the people exist; each returns values
#: for the ``{names}`` in ``PAGES``.
MAKERS = [
    make_donations,
    make_accounts,
    make_members,
    make_involvement,
    make_payout,
    make_shop,
]
