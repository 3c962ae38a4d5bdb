"""Monthly gifts: one gift per month paid, failures, amount changes, cancelling, annual receipts."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

from core import clock
from core.db import db
from donations import receipts as receipt_rules
from donations.gifts import manage_token
from donations.models import Donation, MonthlyGift, MonthlyStatus, Receipt
from payments.models import Payment
from tests.helpers import Mailbox, post_form


def monthly(app, give, stripe_sim, amount="20", card="success", **extra):
    extra.setdefault("annual_receipt", "y")
    response, session_id = give(frequency="monthly", other_amount=amount, **extra)
    assert response.status_code == 303
    stripe_sim.pay(session_id, card=card)
    with app.app_context():
        gift = db.session.scalar(sa.select(MonthlyGift))
        return gift.id, manage_token(gift)


def gifts(app):
    with app.app_context():
        return [
            (d.amount, d.status.value, d.payment_id is not None)
            for d in db.session.scalars(sa.select(Donation).order_by(Donation.id))
        ]


def gift_row(app):
    with app.app_context():
        gift = db.session.scalar(sa.select(MonthlyGift))
        db.session.expunge(gift)
        return gift


def test_the_first_month_is_one_gift_and_each_renewal_another(app, give, stripe_sim, deliver):
    monthly(app, give, stripe_sim)
    assert gifts(app) == [(2000, "paid", True)]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
    for _ in range(3):
        stripe_sim.advance(days=31)
    assert gifts(app) == [(2000, "paid", True)] * 4
    gift = gift_row(app)
    assert gift.status == MonthlyStatus.active and gift.subscription_id.startswith("sub_")
    # A welcome and thank-you for the first month only (an annual receipt comes in January).
    [welcome] = deliver().to("dana@example.org")
    assert "/donate/manage/" in Mailbox.text(welcome)
    assert list(welcome.iter_attachments()) == []


def test_monthly_without_annual_receipt_gets_a_receipt_each_month(
    app, give, stripe_sim, deliver, charity
):
    monthly(app, give, stripe_sim, annual_receipt=None)
    stripe_sim.advance(days=31)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 2
    assert len([m for m in deliver().to("dana@example.org") if list(m.iter_attachments())]) == 2


def test_a_failing_card_emails_the_fix_link_once(app, client, give, stripe_sim, deliver):
    gift_id, token = monthly(app, give, stripe_sim, card="renewal_fails")
    stripe_sim.advance(days=31)
    assert gift_row(app).status == MonthlyStatus.past_due
    mailbox = deliver()
    [failed] = [
        m
        for m in mailbox.to("dana@example.org")
        if m["Subject"] == "Your monthly gift could not be processed"
    ]
    [link] = [u for u in Mailbox.links(failed) if "/donate/manage/" in u]
    page = client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "The last payment failed: please update your card" in page.get_data(as_text=True)
    assert 'id="open-portal"' in page.get_data(as_text=True)


def test_an_amount_change_takes_effect_at_the_next_renewal(app, client, give, stripe_sim):
    gift_id, token = monthly(app, give, stripe_sim, amount="20")
    response = post_form(
        client,
        f"/donate/manage/{token}/amount",
        {"amount": "35"},
        token_from=f"/donate/manage/{token}",
    )
    assert response.status_code == 302
    assert gifts(app) == [(2000, "paid", True)]  # this month is not charged again
    stripe_sim.advance(days=31)
    assert gifts(app) == [(2000, "paid", True), (3500, "paid", True)]
    assert gift_row(app).amount == 3500


def test_a_bad_new_amount_is_refused(app, client, give, stripe_sim):
    gift_id, token = monthly(app, give, stripe_sim)
    response = post_form(
        client,
        f"/donate/manage/{token}/amount",
        {"amount": "0.10"},
        token_from=f"/donate/manage/{token}",
    )
    assert response.status_code == 400
    assert "The minimum is $1.00." in response.get_data(as_text=True)
    assert gift_row(app).amount == 2000


def test_cancelling_in_the_portal_ends_the_subscription(app, client, give, stripe_sim, run_worker):
    gift_id, token = monthly(app, give, stripe_sim)
    response = post_form(
        client, f"/donate/manage/{token}/portal", {}, token_from=f"/donate/manage/{token}"
    )
    assert response.status_code == 303 and "/p/session/bps_" in response.location
    portal = requests.Session()
    page = portal.get(response.location, timeout=10).text
    sub_id = gift_row(app).subscription_id
    assert sub_id in page
    portal_path = urlsplit(response.location).path
    done = portal.post(
        f"{stripe_sim.url}{portal_path}/subscriptions/{sub_id}/cancel",
        allow_redirects=False,
        timeout=10,
    )
    assert done.status_code == 303
    run_worker()  # the worker handles the portal's news, as it does within seconds
    gift = gift_row(app)
    assert gift.status == MonthlyStatus.active and gift.ends_at_period_end
    assert "nothing more will be charged" in client.get(f"/donate/manage/{token}").get_data(
        as_text=True
    )
    stripe_sim.advance(days=31)
    assert gift_row(app).status == MonthlyStatus.cancelled
    stripe_sim.advance(days=31)
    assert len(gifts(app)) == 1  # nothing after it ended


def test_an_annual_receipt_sums_the_year_and_a_second_run_issues_nothing(
    app, give, stripe_sim, deliver, charity
):
    # Start in February, so that three months fall in one year whatever today's date.
    now = datetime.fromtimestamp(stripe_sim.call("GET", "/clock")["now"], UTC)
    february = datetime(now.year + 1, 2, 1, 12, tzinfo=UTC)
    stripe_sim.advance(seconds=int((february - now).total_seconds()))
    monthly(app, give, stripe_sim, amount="20", cover_fee="y")
    for _ in range(2):
        stripe_sim.advance(days=31)
    with app.app_context():
        donations = db.session.scalars(sa.select(Donation)).all()
        years = {clock.local_date(d.received_at).year for d in donations}
        total = sum(d.total for d in donations)
    assert years == {now.year + 1}
    [year] = years
    runner = app.test_cli_runner()
    first = runner.invoke(args=["receipts", "annual", "--year", str(year)])
    assert first.exit_code == 0, first.output
    assert f"Issued 1 annual receipts for {year}" in first.output
    second = runner.invoke(args=["receipts", "annual", "--year", str(year)])
    assert f"Issued 0 annual receipts for {year}" in second.output
    with app.app_context():
        [receipt] = db.session.scalars(sa.select(Receipt)).all()
        assert receipt.annual and receipt.amount == total == 3 * 2091  # $20 + the $0.91 fee
        assert len(receipt.items) == 3
    [mail] = [m for m in deliver().to("dana@example.org") if m["Subject"] == "Your annual receipt"]
    assert list(mail.iter_attachments())


def test_a_gift_at_9pm_on_december_31_in_toronto_belongs_to_that_year(app, funds):
    from donations.models import DonationKind, DonationStatus, Fund

    late = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)  # 21:00 on 31 December 2026 in Toronto
    with app.app_context():
        fund = db.session.scalar(sa.select(Fund))
        gift = MonthlyGift(
            fund=fund,
            amount=1000,
            charged=1000,
            donor_name="Eve",
            email="eve@x.org",
            address_line1="1 A St",
            city="Toronto",
            province="ON",
            postal_code="M5V 1A1",
            status=MonthlyStatus.active,
        )
        db.session.add(
            Donation(
                kind=DonationKind.monthly,
                status=DonationStatus.paid,
                fund=fund,
                amount=1000,
                received_at=late,
                monthly_gift=gift,
                donor_name="Eve",
                email="eve@x.org",
                address_line1="1 A St",
                city="Toronto",
                province="ON",
                postal_code="M5V 1A1",
            )
        )
        db.session.commit()
        assert clock.local_date(late).isoformat() == "2026-12-31"
        assert [d.received_at for d in receipt_rules.gifts_for_annual(2026)] == [late]
        assert receipt_rules.gifts_for_annual(2027) == []


def cancel_in_portal(app, client, stripe_sim, run_worker, token):
    response = post_form(
        client, f"/donate/manage/{token}/portal", {}, token_from=f"/donate/manage/{token}"
    )
    portal = requests.Session()
    portal.get(response.location, timeout=10)
    sub_id = gift_row(app).subscription_id
    portal_path = urlsplit(response.location).path
    portal.post(
        f"{stripe_sim.url}{portal_path}/subscriptions/{sub_id}/cancel",
        allow_redirects=False,
        timeout=10,
    )
    run_worker()


def test_after_cancelling_the_manage_page_words_the_real_last_day_and_offers_no_change(
    app, client, give, stripe_sim, run_worker
):
    from flask_babel import force_locale, format_date

    _, token = monthly(app, give, stripe_sim)
    cancel_in_portal(app, client, stripe_sim, run_worker, token)
    gift = gift_row(app)
    assert gift.ends_at_period_end
    with app.test_request_context():
        last_day = clock.local_date(gift.paid_through)
        with force_locale("en"):
            english = format_date(last_day, "long")
        with force_locale("fr"):
            french = format_date(last_day, "long")
    html = client.get(f"/donate/manage/{token}?lang=en").get_data(as_text=True)
    assert f"Ends on {english}: nothing more will be charged" in html
    assert "end of this month" not in html
    # Nothing that no longer applies: no new amount, no cancelling again; keeping it does.
    assert 'id="change-amount"' not in html and 'id="open-portal"' not in html
    assert 'id="keep-giving"' in html
    html = client.get(f"/donate/manage/{token}?lang=fr").get_data(as_text=True)
    assert f"Prend fin le {french} : plus rien ne sera prélevé" in html
    # A new amount posted anyway is refused.
    refused = post_form(
        client,
        f"/donate/manage/{token}/amount",
        {"amount": "35"},
        token_from=f"/donate/manage/{token}",
    )
    assert refused.status_code in (400, 409) and gift_row(app).amount == 2000


def test_keeping_a_cancelled_monthly_gift_before_its_last_day(
    app, client, give, stripe_sim, run_worker
):
    _, token = monthly(app, give, stripe_sim)
    cancel_in_portal(app, client, stripe_sim, run_worker, token)
    kept = post_form(
        client, f"/donate/manage/{token}/keep", {}, token_from=f"/donate/manage/{token}"
    )
    assert kept.status_code == 302
    run_worker()
    assert not gift_row(app).ends_at_period_end
    html = client.get(f"/donate/manage/{token}").get_data(as_text=True)
    assert 'id="change-amount"' in html and "Active" in html
    stripe_sim.advance(days=31)
    assert len(gifts(app)) == 2  # it went on


def test_an_ended_monthly_gift_says_when_it_ended_and_offers_a_new_one(
    app, client, give, stripe_sim, run_worker
):
    _, token = monthly(app, give, stripe_sim)
    cancel_in_portal(app, client, stripe_sim, run_worker, token)
    stripe_sim.advance(days=31)
    gift = gift_row(app)
    assert gift.status == MonthlyStatus.cancelled
    html = client.get(f"/donate/manage/{token}").get_data(as_text=True)
    assert "Ended on " in html and 'id="change-amount"' not in html
    assert "Start a new monthly gift" in html


def test_changing_the_amount_renames_the_one_recurring_line_with_the_new_split(
    app, client, give, stripe_sim
):
    from donations.charges import with_fee_covered
    from payments.gateway import gateway

    _, token = monthly(app, give, stripe_sim, amount="20", cover_fee="y")
    response = post_form(
        client,
        f"/donate/manage/{token}/amount",
        {"amount": "35"},
        token_from=f"/donate/manage/{token}",
    )
    assert response.status_code == 302
    gift = gift_row(app)
    with app.app_context():
        fee = with_fee_covered(3500) - 3500
        subscription = gateway().retrieve_subscription(gift.subscription_id)
    [item] = subscription["items"]["data"]
    assert item["price"]["unit_amount"] == 3500 + fee
    product = requests.get(
        f"{stripe_sim.url}/v1/products/{item['price']['product']}",
        headers={"Authorization": f"Bearer {app.config['STRIPE_SECRET_KEY']}"},
        timeout=10,
    ).json()
    total = f"${(3500 + fee) / 100:.2f}"
    assert product["name"] == (
        f"Monthly gift to General fund: Your gift $35.00 + card fee ${fee / 100:.2f} = {total}"
        " each month"
    )


def test_a_manage_link_expires_after_60_days_and_emails_a_fresh_one_to_the_gifts_address(
    app, client, give, stripe_sim, deliver
):
    _, token = monthly(app, give, stripe_sim)
    deliver()  # the welcome
    assert client.get(f"/donate/manage/{token}").status_code == 200
    clock.advance(days=app.config["MANAGE_LINK_DAYS"] + 1)
    expired = client.get(f"/donate/manage/{token}")
    page = expired.get_data(as_text=True)
    assert expired.status_code == 400
    assert "This link has expired" in page and "d•••@example.org" in page
    assert "Change my monthly gift" not in page
    sent = post_form(
        client, f"/donate/manage/{token}/fresh-link", {}, token_from=f"/donate/manage/{token}"
    )
    assert sent.status_code == 200 and 'id="fresh-link-sent"' in sent.get_data(as_text=True)
    [message] = [
        m
        for m in deliver().to("dana@example.org")
        if m["Subject"] == "Your link to manage your monthly gift"
    ]
    [link] = [u for u in Mailbox.links(message) if "/donate/manage/" in u]
    fresh = urlsplit(link).path
    assert fresh != f"/donate/manage/{token}"
    assert client.get(fresh).status_code == 200
    # A forged link gets nothing sent anywhere.
    forged = post_form(
        client, f"/donate/manage/{token}x/fresh-link", {}, token_from=f"/donate/manage/{token}"
    )
    assert forged.status_code == 400
