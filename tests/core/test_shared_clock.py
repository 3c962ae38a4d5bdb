"""One simulated clock for every process: the app, the worker and the CLI (development, tests)."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from core import clock
from core.db import db
from donations.models import MonthlyGift, MonthlyStatus, Receipt
from tests.conftest import WEBHOOK_SECRETS
from tests.helpers import ROOT


def flask(app, smtp_server, stripe_sim, *args):
    """Run ``flask ARGS`` in a process of its own, against the test database and mail server."""
    environ = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BASE_URL", "CLOCK_FILE"}
    }
    environ.update(
        APP_ENV="testing",
        FLASK_APP="wsgi",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server.port),
        STRIPE_API_BASE=stripe_sim.url,
        STRIPE_WEBHOOK_SECRET=",".join(WEBHOOK_SECRETS),
    )
    flask_bin = os.path.join(os.path.dirname(sys.executable), "flask")
    done = subprocess.run(
        [flask_bin, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_offset_is_read_by_a_process_that_did_not_set_it(app):
    clock.set_offset(86400 * 40)
    code = "from core import clock, create_app; create_app(); print(int(clock.offset_seconds()))"
    environ = {k: v for k, v in os.environ.items() if k != "CLOCK_FILE"}
    environ["APP_ENV"] = "testing"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert out.stdout.strip().splitlines()[-1] == str(86400 * 40), out.stderr
    clock.reset()
    assert clock.offset_seconds() == 0


def test_the_worker_and_the_cli_in_their_own_processes_follow_the_simulator(
    app, give, stripe_sim, smtp_server, mailbox, charity
):
    # Into February of next year, so that the gifts and the receipt fall in one year.
    now = datetime.fromtimestamp(stripe_sim.call("GET", "/clock")["now"], UTC)
    february = datetime(now.year + 1, 2, 1, 12, tzinfo=UTC)
    stripe_sim.advance(seconds=int((february - now).total_seconds()))
    response, session_id = give(frequency="monthly", other_amount="20", annual_receipt="y")
    stripe_sim.pay(session_id, card="renewal_fails")
    stripe_sim.advance(days=31)  # the renewal fails: an email is queued, in simulated March
    with app.app_context():
        assert db.session.scalar(sa.select(MonthlyGift.status)) == MonthlyStatus.past_due
    mailbox.clear()

    out = flask(app, smtp_server, stripe_sim, "worker", "run", "--rounds", "1")
    assert "Worker started" in out
    subjects = [m["Subject"] for m in mailbox.to("dana@example.org")]
    assert "Your monthly gift could not be processed" in subjects  # sent "in the future"

    year = now.year + 1
    out = flask(app, smtp_server, stripe_sim, "receipts", "annual", "--year", str(year))
    assert f"Issued 1 annual receipts for {year}" in out
    with app.app_context():
        receipt = db.session.scalar(sa.select(Receipt))
        assert receipt.issued_on == clock.today()  # simulated March
        assert receipt.issued_on.year == year and receipt.issued_on.month == 3
