"""Fixtures for payments: a test purpose that records what it is told, and payments for it."""

import threading

import pytest
import sqlalchemy as sa

from core.db import db
from core.urls import absolute_url
from payments.models import Payment
from payments.purposes import Purpose, register_purpose
from payments.services import Line, Part, open_checkout, return_url, start_checkout


class Recorder:
    """Calls made to the ``test`` purpose, in order; thread-safe (handlers run in the server)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []
        self.before_paid = None

    def reset(self):
        with self.lock:
            self.calls = []
        self.before_paid = None

    def _add(self, *call):
        with self.lock:
            self.calls.append(call)

    def of(self, kind):
        with self.lock:
            return [c for c in self.calls if c[0] == kind]

    def purpose(self):
        def paid(event):
            if self.before_paid is not None:
                self.before_paid(event.allocation)
            a = event.allocation
            self._add("paid", a.row_id, a.amount, a.fee)
            self._add("paid_event", a.row_id, event.first, event.period_start, event.period_end)

        def new_period(event):
            original = event.first_allocation
            row_id = original.row_id * 1000 + len(self.of("renewed")) + 1
            self._add("renewed", original.row_id, row_id)
            return row_id, f"renewal {row_id}"

        def changed(event):
            a = event.allocation
            self._add("recurring_changed", a.row_id, event)

        def won_or_lost(event):
            return "won" if event.won else "lost"

        return Purpose(
            name="test",
            paid=paid,
            refunded=lambda e: self._add("refunded", e.allocation.row_id, e.amount),
            refund_failed=lambda e: self._add("refund_failed", e.allocation.row_id, e.amount),
            disputed=lambda e: self._add("disputed", e.allocation.row_id, e.amount),
            dispute_closed=lambda e: self._add(
                "dispute_closed", e.allocation.row_id, won_or_lost(e)
            ),
            expired=lambda e: self._add("expired", e.allocation.row_id),
            new_period=new_period,
            renewal_failed=lambda e: self._add("renewal_failed", e.allocation.row_id, e.renewal_id),
            recurring_changed=changed,
            recurring_ended=lambda e: self._add("recurring_ended", e.allocation.row_id),
        )


@pytest.fixture
def recorder(app):
    existing = app.extensions.get("test_purpose_recorder")
    if existing is None:
        existing = app.extensions["test_purpose_recorder"] = Recorder()
        register_purpose(app, existing.purpose())
    existing.reset()
    yield existing
    existing.reset()


@pytest.fixture
def start_payment(app, recorder, stripe_sim):
    """Start and open a Checkout for the ``test`` purpose; returns (payment id, session id)."""

    def start(
        amount=2500,
        *,
        row_id=1,
        mode="payment",
        email="payer@example.org",
        language="en",
        parts=None,
        lines=None,
        every=None,
        first_charge_at=None,
    ):
        if mode == "subscription":
            every = every or "month"
        with app.app_context():
            payment = start_checkout(
                parts or [Part("test", row_id, amount, description="test thing")],
                lines=lines or [Line("Test thing", amount)],
                email=email,
                language=language,
                success_url=return_url("payments.checkout_return"),
                cancel_url=absolute_url("core.home"),
                every=every,
                first_charge_at=first_charge_at,
            )
            db.session.commit()
            open_checkout(payment)
            db.session.commit()
            return payment.id, payment.checkout_session_id

    return start


def load_payment(app, payment_id):
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        db.session.expunge(payment)
        return payment


def payments_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Payment))


@pytest.fixture
def short_timeout(app):
    """A gateway that gives up on Stripe after half a second."""
    saved = app.config["STRIPE_TIMEOUT"]
    app.config["STRIPE_TIMEOUT"] = 0.5
    app.extensions.pop("stripe_gateway", None)
    yield
    app.config["STRIPE_TIMEOUT"] = saved
    app.extensions.pop("stripe_gateway", None)
