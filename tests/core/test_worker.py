import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from core.worker import TaskSchedule, register_task, run_due_tasks


def test_due_tasks_run_once_per_interval(app):
    calls = []
    register_task(app, "test.count", timedelta(minutes=5), lambda: calls.append(clock.now()))
    try:
        with app.app_context():
            assert "test.count" in run_due_tasks()
            assert "test.count" not in run_due_tasks()  # not due again yet
            clock.advance(minutes=5, seconds=1)
            assert "test.count" in run_due_tasks()
        assert len(calls) == 2
    finally:
        app.extensions["worker_tasks"].pop("test.count")


def test_a_failing_task_is_recorded_and_does_not_stop_the_others(app):
    ran = []

    def broken():
        raise RuntimeError("boom")

    register_task(app, "test.broken", timedelta(minutes=1), broken)
    register_task(app, "test.fine", timedelta(minutes=1), lambda: ran.append(1))
    try:
        with app.app_context():
            assert set(run_due_tasks()) >= {"test.broken", "test.fine"}
            row = db.session.get(TaskSchedule, "test.broken")
            assert row.last_error == "RuntimeError: boom"
        assert ran == [1]
    finally:
        app.extensions["worker_tasks"].pop("test.broken")
        app.extensions["worker_tasks"].pop("test.fine")


def test_worker_command_runs_a_round(app, mailbox):
    from core.mail.services import queue_email

    with app.app_context():
        queue_email("w@example.org", "news", subject="Hi", context={"body": "Hello"})
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["worker", "run", "--rounds", "1"])
    assert result.exit_code == 0, result.output
    assert len(mailbox.to("w@example.org")) == 1


def test_readyz_reports_an_unreachable_database(app, client, monkeypatch):
    ready = client.get("/readyz").get_json()
    assert (ready["status"], ready["database"]) == ("ok", "ok")

    def down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"
    assert client.get("/healthz").status_code == 200


LOWER = (
    "import os; from core.worker import lower_priority; n = lower_priority(19); "
    "group = open('/proc/self/autogroup').read().split() if os.path.exists("
    "'/proc/self/autogroup') else None; print(n, group[-1] if group else '-')"
)


def _lowered(own_session):
    answer = subprocess.run(
        [sys.executable, "-c", LOWER],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=own_session,
    )
    return answer.stdout.split()


def test_a_worker_in_a_session_of_its_own_lowers_its_session_group_too():
    """Autogroup scheduling shares the CPU between sessions before niceness counts: a
    worker started by systemd or setsid must lower its group, or it competes as an equal."""
    if not os.path.exists("/proc/self/autogroup"):
        pytest.skip("no autogroup scheduling here")
    assert _lowered(own_session=True) == ["19", "19"]


def test_a_worker_sharing_its_session_leaves_the_group_to_the_web():
    if not os.path.exists("/proc/self/autogroup"):
        pytest.skip("no autogroup scheduling here")
    niceness, group = _lowered(own_session=False)
    assert niceness == "19"
    # As this process's group: its niceness, or "-" where the file is empty because the
    # session runs in a cgroup of its own (a container, a systemd unit), not an autogroup.
    ours = open("/proc/self/autogroup").read().split()
    assert group == (ours[-1] if ours else "-")
