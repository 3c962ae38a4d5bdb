"""In Chromium: a guest gives in French; a member starts and cancels a monthly gift."""

import pytest
import sqlalchemy as sa

from core.db import db
from donations.models import Donation, MonthlyGift, MonthlyStatus
from tests.helpers import Mailbox

pytestmark = pytest.mark.browser


def fill_donor(page, name="Geneviève Gagnon", email="genevieve@example.org"):
    page.fill("#donor_name", name)
    page.fill("#email", email)
    page.fill("#address_line1", "200 rue Wellington")
    page.fill("#city", "Gatineau")
    page.fill("#province", "QC")
    page.fill("#postal_code", "J8X 2J1")


def test_a_guest_gives_25_dollars_to_mondial_in_french(
    app, live_server, page, stripe_sim, funds, deliver, charity
):
    page.goto(f"{live_server.url}/donate?lang=fr&fund=mondial")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.check('input[name="amount_choice"][value="2500"]')
    assert page.input_value("#fund") == "mondial"
    fill_donor(page)
    page.click("#donate")

    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    assert page.input_value("#email") == "genevieve@example.org"
    page.check("#card-success")
    page.click("#pay")

    page.wait_for_url(f"{live_server.url}/donate/thanks?session_id=cs_test_*")
    assert "Merci de votre don" in page.content()
    assert "25,00" in page.content()

    [message] = deliver().to("genevieve@example.org")
    assert message["Subject"] == "Merci de votre don"
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename().startswith("recu-")
    with app.app_context():
        donation = db.session.scalar(sa.select(Donation))
        assert (donation.amount, donation.fund.slug, donation.language) == (2500, "mondial", "fr")


def test_a_member_starts_and_cancels_a_monthly_gift(
    app, client, live_server, page, stripe_sim, funds, make_user, deliver
):
    make_user(email="mia@example.org", password="mia's long password", name="Mia Member")
    page.goto(f"{live_server.url}/login")
    page.fill("#email", "mia@example.org")
    page.fill("#password", "mia's long password")
    page.click("#sign-in")
    page.wait_for_selector("h1:has-text('Your account')")

    page.goto(f"{live_server.url}/donate")
    assert page.input_value("#email") == "mia@example.org"  # filled in for a member
    assert page.input_value("#donor_name") == "Mia Member"
    page.check('input[name="frequency"][value="monthly"]')
    page.check('input[name="amount_choice"][value="other"]')
    page.fill("#other_amount", "15")
    fill_donor(page, name="Mia Member", email="mia@example.org")
    page.click("#donate")
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(f"{live_server.url}/donate/thanks?session_id=cs_test_*")
    assert "We have emailed you a link to change or stop your monthly gift" in page.content()
    [welcome] = deliver().to("mia@example.org")
    [manage] = [u for u in Mailbox.links(welcome) if "/donate/manage/" in u]
    page.goto(manage)

    page.wait_for_selector("#gift-status:has-text('Active')")
    page.click("#open-portal")
    page.wait_for_url(f"{stripe_sim.url}/p/session/bps_*")
    page.click(".cancel-subscription")
    page.wait_for_selector("#notice")
    page.click("#return")
    page.wait_for_selector("#gift-status:has-text('nothing more will be charged')")

    stripe_sim.advance(days=32)
    page.reload()
    page.wait_for_selector("#gift-status:has-text('Ended on')")
    with app.app_context():
        gift = db.session.scalar(sa.select(MonthlyGift))
        assert gift.status == MonthlyStatus.cancelled and gift.user_id is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Donation)) == 1
    # The gift is in the member's account.
    page.goto(f"{live_server.url}/account/gifts")
    assert "$15.00" in page.content()


def test_the_treasurers_gift_pages_fit_the_window_with_long_stripe_ids(
    app, live_server, page, stripe_sim, funds, make_user, give
):
    """Long Stripe ids and email addresses wrap (or their table scrolls), at 1 280 and 375 px."""
    from payments.models import Payment

    _, session_id = give(email="a.very.long.address.for.a.donor.who.likes.letters@example.org")
    stripe_sim.pay(session_id)
    with app.app_context():
        donation = db.session.scalar(sa.select(Donation))
        payment = db.session.get(Payment, donation.payment_id)
        payment.charge_id = "ch_" + "3PqLongStripeIdentifier" * 8
        payment.checkout_session_id = "cs_test_" + "b1Y2LongCheckoutSession" * 8
        db.session.commit()
        donation_id, email = donation.id, donation.email
    make_user(email="tess@example.org", password="tess's long password", role="treasurer")
    page.goto(f"{live_server.url}/login")
    page.fill("#email", "tess@example.org")
    page.fill("#password", "tess's long password")
    page.click("#sign-in")
    page.wait_for_load_state()
    for path in (
        f"/treasurer/donations/{donation_id}",
        "/treasurer/donations",
        f"/treasurer/donors?email={email}",
    ):
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(live_server.url + path)
            wide = page.evaluate(
                "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            )
            culprits = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => "
                "e.getBoundingClientRect().right > window.innerWidth + 1).slice(-3)"
                ".map(e => e.tagName + '.' + e.className + ' '"
                " + (e.textContent || '').slice(0, 40))"
            )
            assert wide <= width, (path, width, wide, culprits)
