"""The worker killed with SIGKILL while it hands a batch of emails to the SMTP server.

README, "Email": delivery is at least once; mail never attempted is always sent after a
crash, and a message that was being handed to the server when the worker died may be sent
a second time, with the same ``Message-ID``. Here a real ``flask worker run`` sends a batch
to an aiosmtpd server that holds the third message's answer; the worker is killed then,
and a second worker, once the batch's lease has run out, sends the rest.
"""

import asyncio
import collections
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from core import clock
from core.db import db
from core.mail.models import MailCategory, MailStatus, OutboxMessage
from core.mail.services import queue_email
from tests.conftest import WEBHOOK_SECRETS
from tests.helpers import ROOT, free_port

pytestmark = pytest.mark.slow

BATCH = 6
HELD = 3  # the message in flight when the worker dies


class HoldingMailbox:
    """Keeps what it receives; holds its answer to the ``HELD``-th message until released."""

    def __init__(self):
        self.messages = []
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # received: the server may deliver it whatever happens
        if len(self.messages) == HELD and not self.release.is_set():
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        return "250 Message accepted for delivery"


@pytest.fixture
def holding_server():
    mailbox = HoldingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    mailbox.release.set()
    controller.stop()


def worker(smtp_port, stripe_sim, *args, wait=False):
    """``flask worker run`` in a process of its own, against the test database."""
    environ = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BASE_URL", "CLOCK_FILE"}
    }
    environ.update(
        APP_ENV="testing",
        FLASK_APP="wsgi",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        STRIPE_API_BASE=stripe_sim.url,
        STRIPE_WEBHOOK_SECRET=",".join(WEBHOOK_SECRETS),
    )
    flask_bin = os.path.join(os.path.dirname(sys.executable), "flask")
    command = [flask_bin, "worker", "run", *args]
    if wait:
        done = subprocess.run(
            command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done
    return subprocess.Popen(
        command, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def statuses(app):
    with app.app_context():
        return dict(db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.status)).all())


def test_a_worker_killed_mid_batch_sends_the_rest_after_a_restart_and_the_one_in_flight_twice(
    app, holding_server, stripe_sim
):
    with app.app_context():
        ids = [
            queue_email(
                f"reader{n}@example.org",
                "news",
                subject=f"Mondial news {n}",
                context={"body": "The new issue is out."},
                category=MailCategory.news,
            ).id
            for n in range(1, BATCH + 1)
        ]
        db.session.commit()
        message_ids = dict(
            db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.message_id)).all()
        )
    mailbox = holding_server.handler

    running = worker(holding_server.port, stripe_sim)
    try:
        assert mailbox.holding.wait(timeout=180), "the worker never reached the third message"
    finally:
        os.kill(running.pid, signal.SIGKILL)
        running.wait(timeout=30)
    assert running.returncode == -signal.SIGKILL
    mailbox.release.set()

    # Two sent and marked so; the third in flight and the rest leased, never attempted.
    before = statuses(app)
    assert [before[i] for i in ids] == [MailStatus.sent] * (HELD - 1) + [MailStatus.sending] * (
        BATCH - HELD + 1
    )
    assert len(mailbox.messages) == HELD

    # (Until the lease runs out no worker sends them: tests/core/test_outbox.py.)
    clock.advance(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)  # every process's clock
    worker(holding_server.port, stripe_sim, "--rounds", "1", wait=True)
    assert set(statuses(app).values()) == {MailStatus.sent}

    copies = collections.Counter(m["Message-ID"] for m in mailbox.messages)
    in_flight = message_ids[ids[HELD - 1]]
    assert copies[in_flight] == 2  # sent twice, under one Message-ID
    assert all(copies[message_ids[i]] == 1 for i in ids if i != ids[HELD - 1])
    assert len(copies) == BATCH
    twice = [m for m in mailbox.messages if m["Message-ID"] == in_flight]
    assert twice[0]["Subject"] == twice[1]["Subject"] == f"Mondial news {HELD}"
