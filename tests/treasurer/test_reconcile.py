"""Reconciling a payout built on the simulator: Balanced, frozen, and what changes it."""

import csv
import io
from decimal import Decimal

import sqlalchemy as sa

from core.db import db
from payments.models import Allocation, Payment, PayoutLine, StripeAttempt
from tests.helpers import post_form
from treasurer.models import PayoutCheck, PayoutReview


def review(app, payout_id):
    with app.app_context():
        row = db.session.scalar(sa.select(PayoutReview).where(PayoutReview.payout_id == payout_id))
        db.session.expunge(row)
        return row


def journal(client, payout_id):
    response = client.get(f"/treasurer/payouts/{payout_id}/journal.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    debits = sum(Decimal(r["debit"] or 0) for r in rows)
    credits = sum(Decimal(r["credit"] or 0) for r in rows)
    return rows, debits, credits


def test_a_month_of_money_reconciles_and_the_journal_balances(app, month_of_money, signed_in):
    scenario = month_of_money()
    client = signed_in("treasurer")
    page = client.get(f"/treasurer/payouts/{scenario.payout_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert review(app, scenario.payout_id).check == PayoutCheck.balanced, html
    # 3 gifts, the monthly gift and its renewal, dues, an order, a mixed cart: 8 charges;
    # a refund, a dispute (with its fee), and the payout's own line.
    assert 'id="count-charge">8<' in html
    assert 'id="count-refund">1<' in html
    assert 'id="count-dispute">1<' in html
    assert 'id="count-payout">1<' in html
    rows, debits, credits = journal(client, scenario.payout_id)
    assert debits == credits and debits > 0
    accounts = {r["account"] for r in rows}
    assert {"1000 Bank", "5100 Stripe fees", "4100 Membership dues", "4200 Publication sales"} <= (
        accounts
    )
    assert "2200 GST/HST payable" in accounts
    assert "5150 Disputes and chargebacks" in accounts
    tax = sum(Decimal(r["credit"] or 0) for r in rows if r["account"] == "2200 GST/HST payable")
    assert tax == Decimal("6.89")  # 4.42 + 2.47
    bank = sum(Decimal(r["debit"] or 0) for r in rows if r["account"] == "1000 Bank")
    with app.app_context():
        from payments.models import Payout

        assert bank * 100 == db.session.get(Payout, scenario.payout_id).amount

    response = post_form(
        client,
        f"/treasurer/payouts/{scenario.payout_id}/reconcile",
        {"note": "Matches the bank statement."},
        token_from=f"/treasurer/payouts/{scenario.payout_id}",
    )
    assert response.status_code == 303
    done = review(app, scenario.payout_id)
    assert done.is_reconciled and done.reconciled_by == "treasurer@example.org"
    assert done.frozen_count == done.line_count
    again = post_form(
        client,
        f"/treasurer/payouts/{scenario.payout_id}/reconcile",
        {},
        token_from=f"/treasurer/payouts/{scenario.payout_id}",
    )
    assert again.status_code == 303
    assert review(app, scenario.payout_id).reconciled_at == done.reconciled_at


def test_removing_one_of_our_payments_leaves_its_line_unmatched(app, month_of_money, signed_in):
    scenario = month_of_money()
    with app.app_context():
        db.session.execute(
            sa.update(PayoutLine)
            .where(PayoutLine.payment_id == scenario.order_payment_id)
            .values(payment_id=None)
        )
        db.session.execute(
            sa.delete(StripeAttempt).where(StripeAttempt.payment_id == scenario.order_payment_id)
        )
        db.session.execute(
            sa.delete(Allocation).where(Allocation.payment_id == scenario.order_payment_id)
        )
        db.session.execute(sa.delete(Payment).where(Payment.id == scenario.order_payment_id))
        db.session.commit()
    client = signed_in("treasurer")
    path = f"/treasurer/payouts/{scenario.payout_id}"
    assert post_form(client, f"{path}/sync", {}, token_from=path).status_code == 303
    assert review(app, scenario.payout_id).check == PayoutCheck.unmatched
    html = client.get(path).get_data(as_text=True)
    assert scenario.order_charge_id in html.split('id="unmatched"', 1)[1].split("</ul>", 1)[0]
    refused = post_form(client, f"{path}/reconcile", {}, token_from=path)
    assert refused.status_code == 303
    assert not review(app, scenario.payout_id).is_reconciled


def test_a_later_dispute_is_a_note_on_the_frozen_payout_and_a_changed_one_a_discrepancy(
    app, month_of_money, signed_in, stripe_sim, give
):
    from tests.treasurer_fixtures import run_payout_sync

    scenario = month_of_money()
    client = signed_in("treasurer")
    first = f"/treasurer/payouts/{scenario.payout_id}"
    client.get(first)
    assert post_form(client, f"{first}/reconcile", {}, token_from=first).status_code == 303
    assert review(app, scenario.payout_id).is_reconciled

    dispute = stripe_sim.dispute(scenario.gift_charge_ids[0])
    stripe_sim.close_dispute(dispute["id"], "lost")
    _, session = give(other_amount="250", email="later@example.org")
    stripe_sim.pay(session)
    stripe_sim.advance(days=3)
    later = stripe_sim.payout()
    run_payout_sync(app)
    with app.app_context():
        from payments.models import Payout

        second = db.session.scalar(sa.select(Payout).where(Payout.stripe_payout_id == later["id"]))
        second_id = second.id
    assert review(app, second_id).check == PayoutCheck.balanced
    html = client.get(first).get_data(as_text=True)
    assert "Disputed on" in html
    assert f"/treasurer/payouts/{second_id}" in html and later["id"] in html
    assert review(app, scenario.payout_id).is_reconciled  # still frozen, still balanced
    assert review(app, scenario.payout_id).check == PayoutCheck.balanced
    # Fetched again, the lines are the same: no discrepancy.
    assert post_form(client, f"{first}/sync", {}, token_from=first).status_code == 303
    assert review(app, scenario.payout_id).discrepancy_at is None

    # Stripe now lists a different fee on one of the frozen lines.
    store = stripe_sim.sim.store
    txn_id = store.payout_txns[scenario.stripe_payout_id][-1]
    store.objects[txn_id]["fee"] += 1
    store.objects[txn_id]["net"] -= 1
    assert post_form(client, f"{first}/sync", {}, token_from=first).status_code == 303
    assert review(app, scenario.payout_id).discrepancy_at is not None
    dashboard = client.get("/treasurer/").get_data(as_text=True)
    assert 'id="discrepancies"' in dashboard and scenario.stripe_payout_id in dashboard
