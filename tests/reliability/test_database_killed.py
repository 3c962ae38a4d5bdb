"""The database connection killed in the middle of a request, a webhook, or an event's handling.

Another connection ends the app's own with ``pg_terminate_backend`` just before a chosen
statement, as a failover or an administrator would. The answer is a 5xx, nothing is half
written (each is one transaction), and the retry (the person submitting again, Stripe
sending again, the worker's next try) ends as if nothing had happened.
"""

import re
import threading

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from payments.models import StripeEvent
from tests.helpers import POSTGRES, require
from tests.reliability.purposes import (
    MEMBERSHIP,
    MIXED_CART,
    MONTHLY_GIFT,
    ONE_TIME_GIFT,
    SHOP_ORDER,
    Ctx,
    by_name,
    expected,
    state,
)

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres_only(app):
    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")


class Killer:
    """Ends the connection about to run the first statement that matches, from another one."""

    def __init__(self, app):
        self.admin = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.NullPool)
        self.pattern = None
        self.killed = []
        self.lock = threading.Lock()

    def arm(self, pattern):
        with self.lock:
            self.pattern = re.compile(pattern, re.IGNORECASE)

    def before(self, conn, cursor, statement, parameters, context, executemany):
        with self.lock:
            if self.pattern is None or not self.pattern.search(statement):
                return
            self.pattern = None  # once
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            # Waits (up to 5 s) until that server process has gone.
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        self.killed.append(statement.split("(")[0].strip())


@pytest.fixture
def killer(app):
    found = Killer(app)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", found.before)
    yield found
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", found.before)
    found.admin.dispose()


def nothing_written(found):
    """Every table a checkout writes is empty: no orphan row of a half-done request."""
    written = {
        key: rows
        for key, rows in found.items()
        if key != "stock" and key != "events not handled" and rows
    }
    return written == {}


def accounts(app):
    from core.accounts.models import User

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


# -- mid-request --------------------------------------------------------------------------


@pytest.mark.parametrize(**by_name([ONE_TIME_GIFT, MEMBERSHIP, SHOP_ORDER, MIXED_CART]))
def test_a_connection_killed_mid_request_answers_500_writes_nothing_and_the_retry_works(
    request, purpose, killer
):
    ctx = Ctx(request, purpose)
    before = state(ctx.app)
    # The purpose's own rows are written; the payment that pays for them is next.
    killer.arm(r"^\s*INSERT INTO payment\b")
    page = purpose.submit(ctx)
    assert killer.killed == ["INSERT INTO payment"]
    assert page.status_code == 500
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    after = state(ctx.app)
    assert nothing_written(after) and after["stock"] == before["stock"]
    assert accounts(ctx.app) == 0  # nor the account a visitor makes while joining

    ctx.stripe_sim.pay(purpose.start(ctx, again=True))  # the person submits again
    end = expected(purpose, order_number=2)  # the first's number was taken, then undone
    # The first request's confirmation link was rolled back with it, and so was its count
    # against the mailbox's limit: the retry's new account gets its link.
    assert state(ctx.app) == end


# -- mid-webhook ----------------------------------------------------------------------------


def test_a_connection_killed_while_the_webhook_stores_answers_500_and_stripes_retry_is_kept(
    request, killer
):
    ctx = Ctx(request, ONE_TIME_GIFT)
    session_id = ONE_TIME_GIFT.start(ctx)
    killer.arm(r"^\s*INSERT INTO stripe_event\b")
    ctx.stripe_sim.pay(session_id)
    assert killer.killed == ["INSERT INTO stripe_event"]
    [refused] = [e for e in ctx.stripe_sim.events() if e["attempts"][0]["status"] != 200]
    assert refused["attempts"][0]["status"] == 500 and not refused["delivered"]
    with ctx.app.app_context():
        assert db.session.get(StripeEvent, refused["id"]) is None

    again = ctx.stripe_sim.deliver(refused["id"])  # Stripe sends it again
    assert again["webhook_status"] == 200
    assert state(ctx.app) == expected(ONE_TIME_GIFT)


@pytest.mark.parametrize(
    **by_name([ONE_TIME_GIFT, MONTHLY_GIFT, MEMBERSHIP, SHOP_ORDER, MIXED_CART])
)
def test_a_connection_killed_while_the_worker_applies_an_event_rolls_it_all_back(
    request, purpose, killer
):
    ctx = Ctx(request, purpose)
    session_id = purpose.start(ctx)
    before = state(ctx.app)
    # The purpose's rows are marked paid; the email that announces it is next.
    killer.arm(r"^\s*INSERT INTO outbox_message\b")
    ctx.stripe_sim.pay(session_id)
    assert killer.killed == ["INSERT INTO outbox_message"]
    with ctx.app.app_context():
        [failed] = db.session.scalars(
            sa.select(StripeEvent).where(StripeEvent.last_error.is_not(None))
        ).all()
        assert failed.processed_at is None and failed.attempts == 1
        assert "terminat" in failed.last_error or "closed" in failed.last_error
    after = state(ctx.app)
    after["events not handled"] = []
    # Nothing half-written: as before, or (a subscription, whose invoice and checkout
    # are two objects with events of their own) applied whole through its other event.
    assert after in (before, expected(purpose))

    clock.advance(seconds=31)  # the worker's back-off
    ctx.stripe_sim.flush()
    request.getfixturevalue("run_worker")()
    assert state(ctx.app) == expected(purpose)
