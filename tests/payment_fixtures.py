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
        def paid(allocation):
            if self.before_paid is not None:
                self.before_paid(allocation)
            self._add("paid", allocation.row_id, allocation.amount, allocation.fee)

        def renewed(original, payment):
            row_id = original.row_id * 1000 + len(self.of("renewed")) + 1
            self._add("renewed", original.row_id, row_id)
            return row_id, f"renewal {row_id}"

        return Purpose(
            name="test",
            paid=paid,
            refunded=lambda a, amount, refund: self._add("refunded", a.row_id, amount),
            refund_failed=lambda a, amount, refund: self._add("refund_failed", a.row_id, amount),
            disputed=lambda a, amount, d: self._add("disputed", a.row_id, amount),
            dispute_closed=lambda a, amount, d: self._add("dispute_closed", a.row_id, d.status),
            expired=lambda a: self._add("expired", a.row_id),
            renewed=renewed,
            renewal_failed=lambda a, invoice: self._add("renewal_failed", a.row_id, invoice["id"]),
            subscription_updated=lambda a, s: self._add(
                "subscription_updated", a.row_id, s["status"], s["cancel_at_period_end"]
            ),
            subscription_cancelled=lambda a, s: self._add("subscription_cancelled", a.row_id),
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
    ):
        with app.app_context():
            payment = start_checkout(
                parts=parts or [Part("test", row_id, amount, description="test thing")],
                lines=lines or [Line("Test thing", amount)],
                email=email,
                language=language,
                success_url=return_url("payments.checkout_return"),
                cancel_url=absolute_url("core.home"),
                mode=mode,
                interval="month" if mode == "subscription" else None,
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
