"""Refunds and disputes of dues: suspended, the member sees it, receipts follow."""

import sqlalchemy as sa

from core.db import db
from members.models import DuesStatus, MembershipStatus
from payments.models import Payment
from tests.member_fixtures import confirm_and_sign_in, dues_rows, membership_row, subjects


def paid(app, join, stripe_sim, **kw):
    response, session_id = join(**kw)
    stripe_sim.pay(session_id)
    with app.app_context():
        return db.session.scalar(sa.select(Payment.charge_id).where(Payment.charge_id.is_not(None)))


def receipts_enabled(app):
    from core.settings import set_setting

    with app.app_context():
        set_setting("members.receipt_dues", True)
        db.session.commit()


def test_a_refund_from_stripes_dashboard_suspends_and_the_member_sees_it(
    app, client, join, stripe_sim, deliver
):
    charge = paid(app, join, stripe_sim)
    deliver().clear()
    stripe_sim.refund(charge)
    membership = membership_row(app)
    assert membership.status == MembershipStatus.suspended
    [dues] = dues_rows(app)
    assert (dues.status, dues.refunded) == (DuesStatus.refunded, 5000)
    assert "Your membership is suspended" in subjects(deliver())
    confirm_and_sign_in(app, client)
    page = client.get("/account/membership").get_data(as_text=True)
    assert '<span class="badge bad">Suspended</span>' in page
    assert "dues were refunded or disputed" in page
    # The entitlement to Mondial goes with it.
    from members import entitlement

    with app.app_context():
        assert entitlement.recipients(membership.ends_on) == []


def test_a_partial_refund_corrects_the_official_receipt_and_keeps_the_membership(
    app, client, join, stripe_sim, deliver, charity
):
    receipts_enabled(app)
    charge = paid(app, join, stripe_sim)
    from donations.models import Receipt

    with app.app_context():
        [receipt] = db.session.scalars(sa.select(Receipt)).all()
        # $50 of dues, $20 of benefits: $30 is a gift.
        assert (receipt.amount, receipt.advantage, receipt.eligible_amount) == (5000, 2000, 3000)
        assert (
            receipt.kind.value == "official" and receipt.fund_name == "Membership dues: Individual"
        )
    welcome = [
        m for m in deliver().to("ines@example.org") if m["Subject"] == "Welcome: your membership"
    ]
    [attachment] = list(welcome[0].iter_attachments())
    assert attachment.get_filename().startswith("receipt-")
    deliver().clear()
    stripe_sim.refund(charge, amount=1000)
    assert membership_row(app).status == MembershipStatus.current
    with app.app_context():
        rows = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
        assert [r.is_void for r in rows] == [True, False]
        assert (rows[1].amount, rows[1].eligible_amount) == (4000, 2000)
        assert rows[1].replaces_id == rows[0].id
    assert "Your receipt for membership dues is corrected" in subjects(deliver())


def test_a_lost_dispute_suspends(app, client, join, stripe_sim):
    charge = paid(app, join, stripe_sim)
    dispute = stripe_sim.dispute(charge)
    assert membership_row(app).status == MembershipStatus.current  # disputed is not decided
    stripe_sim.close_dispute(dispute["id"], "lost")
    assert membership_row(app).status == MembershipStatus.suspended
    [dues] = dues_rows(app)
    assert dues.status == DuesStatus.charged_back


def test_a_won_dispute_changes_nothing(app, client, join, stripe_sim):
    charge = paid(app, join, stripe_sim)
    dispute = stripe_sim.dispute(charge)
    stripe_sim.close_dispute(dispute["id"], "won")
    assert membership_row(app).status == MembershipStatus.current
