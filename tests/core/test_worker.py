from datetime import timedelta

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
