"""The treasurer's pages with a month of money behind them, in both languages; the reports."""

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from payments.models import Payment, StripeEvent
from tests.helpers import post_form


def pages(scenario, payment_id, event_id):
    return [
        "/treasurer/",
        "/treasurer/payouts",
        "/treasurer/payouts?state=balanced&date_from=2020-01-01",
        f"/treasurer/payouts/{scenario.payout_id}",
        f"/treasurer/payouts/{scenario.payout_id}?kind=refund",
        f"/treasurer/payouts/{scenario.payout_id}?kind=unmatched",
        "/treasurer/payments",
        "/treasurer/payments?q=gift25",
        "/treasurer/payments?q=25.00",
        f"/treasurer/payments/{payment_id}",
        "/treasurer/refunds",
        "/treasurer/disputes",
        "/treasurer/events",
        "/treasurer/events?outcome=handled",
        f"/treasurer/events/{event_id}",
        "/treasurer/audit",
        "/treasurer/exports",
        "/treasurer/not-paid-out",
        "/treasurer/reports/receipts",
        "/treasurer/reports/gst-hst",
    ]


def test_every_page_answers_in_both_languages(app, month_of_money, signed_in):
    scenario = month_of_money()
    with app.app_context():
        payment_id = db.session.scalar(sa.select(Payment.id).order_by(Payment.id))
        event_id = db.session.scalar(sa.select(StripeEvent.id))
    client = signed_in("treasurer")
    for path in pages(scenario, payment_id, event_id):
        for lang in ("en", "fr"):
            response = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert response.status_code == 200, (path, lang, response.status_code)
    dashboard = client.get("/treasurer/").get_data(as_text=True)
    assert "<svg" in dashboard and 'id="chart-title"' in dashboard


@pytest.mark.parametrize(
    "query",
    [
        "/treasurer/payouts?page=0",
        "/treasurer/payouts?state=nonsense",
        "/treasurer/payouts?date_from=2026-02-30",
        "/treasurer/payouts/1?kind=nonsense",
        "/treasurer/reports/receipts?year=19999",
        "/treasurer/reports/gst-hst?date_from=2026-05-01&date_to=2026-01-01",
        "/treasurer/journal.csv?date_from=nope&date_to=2026-01-01",
        "/api/v1/treasurer/payouts?page=0",
    ],
)
def test_bad_input_is_a_4xx(app, signed_in, query):
    client = signed_in("treasurer")
    assert 400 <= client.get(query).status_code < 500


def test_the_api_lists_payouts_and_one_payout_with_its_lines(app, month_of_money, signed_in):
    scenario = month_of_money()
    client = signed_in("treasurer")
    listed = client.get("/api/v1/treasurer/payouts").get_json()
    assert listed["total"] == 1 and listed["items"][0]["check"] == "balanced"
    detail = client.get(f"/api/v1/treasurer/payouts/{scenario.payout_id}").get_json()
    assert detail["stripe_payout_id"] == scenario.stripe_payout_id
    assert (
        sum(line["net"] for line in detail["lines"] if line["type"] != "payout")
        == (detail["amount"])
    )
    purposes = {a["purpose"] for line in detail["lines"] for a in line["allocations"]}
    assert {"donation", "membership", "order"} <= purposes
    assert client.get("/api/v1/treasurer/payouts/999").status_code == 404


def test_the_range_exports_are_formula_safe_and_balance(app, month_of_money, signed_in):
    scenario = month_of_money()
    client = signed_in("treasurer")
    with app.app_context():
        db.session.execute(sa.text("UPDATE payout_line SET description = '=HYPERLINK(\"x\")'"))
        db.session.commit()
    start = (clock.now().date() - timedelta(days=60)).isoformat()
    end = (clock.now().date() + timedelta(days=1)).isoformat()
    lines = client.get(f"/treasurer/lines.csv?date_from={start}&date_to={end}")
    assert lines.status_code == 200
    rows = list(csv.DictReader(io.StringIO(lines.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and all(r["description"].startswith("'=") for r in rows)
    assert {r["payout"] for r in rows} == {scenario.stripe_payout_id}
    journal = client.get(f"/treasurer/journal.csv?date_from={start}&date_to={end}")
    text = journal.get_data(as_text=True).lstrip("\ufeff")
    entries = list(csv.DictReader(io.StringIO(text)))
    from decimal import Decimal

    assert sum(Decimal(r["debit"] or 0) for r in entries) == sum(
        Decimal(r["credit"] or 0) for r in entries
    )


def test_a_refund_from_the_payment_page_shows_everywhere(app, give, stripe_sim, signed_in, funds):
    _, session = give(other_amount="80", email="refund@example.org")
    stripe_sim.pay(session)
    client = signed_in("treasurer")
    with app.app_context():
        payment_id = db.session.scalar(
            sa.select(Payment.id).where(Payment.checkout_session_id == session)
        )
    path = f"/treasurer/payments/{payment_id}"
    too_much = post_form(client, f"{path}/refund", {"amount": "81", "reason": "duplicate"})
    assert too_much.status_code == 303
    done = post_form(
        client, f"{path}/refund", {"amount": "30", "reason": "duplicate", "note": "Twice"}
    )
    assert done.status_code == 303
    stripe_sim.flush()
    page = client.get(path).get_data(as_text=True)
    assert "$30.00" in page.split('id="refunded"', 1)[1][:80]
    assert "Twice" in client.get("/treasurer/refunds").get_data(as_text=True)
    audit = client.get("/treasurer/audit?action=refund").get_data(as_text=True)
    assert "refund.requested" in audit


def test_payments_in_no_payout_after_their_money_is_available_are_listed(
    app, give, stripe_sim, signed_in, funds
):
    _, session = give(other_amount="60", email="waiting@example.org")
    stripe_sim.pay(session)
    client = signed_in("treasurer")
    assert "waiting@example.org" not in client.get("/treasurer/not-paid-out").get_data(as_text=True)
    stripe_sim.advance(days=8)
    assert "waiting@example.org" in client.get("/treasurer/not-paid-out").get_data(as_text=True)
    stripe_sim.payout()
    from tests.treasurer_fixtures import run_payout_sync

    run_payout_sync(app)
    assert "waiting@example.org" not in client.get("/treasurer/not-paid-out").get_data(as_text=True)
