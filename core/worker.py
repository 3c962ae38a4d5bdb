"""The background worker: delivers the outbox and runs periodic tasks when they are due.

Features register tasks with :func:`register_task`; each task is also a CLI command of
its own for cron. Task runs are claimed through a row per task, locked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never run one task twice.
"""

import logging
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from core import clock
from core.db import UTCDateTime, db, is_postgres
from core.mail.services import deliver_due

log = logging.getLogger(__name__)


class TaskSchedule(db.Model):
    __tablename__ = "task_schedule"

    name: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


@dataclass(frozen=True)
class Task:
    name: str
    every: timedelta
    run: callable


def register_task(app, name, every, run):
    """Have the worker call ``run()`` every ``every`` (a timedelta), inside an app context."""
    app.extensions.setdefault("worker_tasks", {})[name] = Task(name, every, run)


def tasks():
    return current_app.extensions.get("worker_tasks", {})


def _claim(task):
    """Lock the task's row and move its next run; False if another worker has it or it's not due."""
    now = clock.now()
    query = sa.select(TaskSchedule).where(TaskSchedule.name == task.name)
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    row = db.session.scalar(query)
    if row is None:
        row = TaskSchedule(name=task.name, next_run_at=now)
        db.session.add(row)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return False
    if row.next_run_at > now:
        db.session.rollback()
        return False
    row.last_run_at = now
    row.next_run_at = now + task.every
    db.session.commit()
    return True


def run_due_tasks():
    """Run every task that is due once; return the names that ran."""
    ran = []
    for task in list(tasks().values()):
        if not _claim(task):
            continue
        try:
            task.run()
            db.session.commit()
            error = None
        except Exception as exc:
            db.session.rollback()
            log.exception("Task %s failed", task.name)
            error = f"{type(exc).__name__}: {exc}"[:2000]
        row = db.session.get(TaskSchedule, task.name)
        row.last_error = error
        db.session.commit()
        ran.append(task.name)
    return ran


def lower_priority(niceness):
    """Run this process ``niceness`` steps below normal CPU priority; the niceness it has.

    Web requests come first: Stripe waits on the webhook's answer and people on pages,
    while the worker's queue can wait a few seconds. Where raising niceness is not allowed,
    the worker runs as it is.

    Linux with autogroup scheduling shares the CPU between sessions first and applies a
    process's niceness only within its own session: a worker started in a session of its
    own (systemd, ``setsid``, a process manager) would compete with the web server as an
    equal. There the session's group is lowered too; a worker that shares its session
    (a terminal running ``make run``) leaves the group alone, as it would lower the
    web's processes with it.
    """
    try:
        current = os.nice(0)
        niceness = os.nice(max(0, int(niceness) - current))
    except OSError:
        return os.nice(0)
    if os.getsid(0) == os.getpid():
        lower_group(niceness)
    return niceness


def lower_group(niceness, pid="self"):
    """Give the scheduling group of process ``pid``'s session this niceness (Linux's
    autogroup scheduling); nothing where there is no such group."""
    try:
        with open(f"/proc/{pid}/autogroup", "w") as group:
            group.write(str(niceness))
    except OSError:  # not Linux, or autogroup scheduling is off
        pass


def run_forever(stop_after=None):
    """The worker loop; stops cleanly on SIGTERM or SIGINT."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    idle = current_app.config["WORKER_IDLE_SECONDS"]
    rounds = 0
    while not stopping:
        try:
            sent, failed = deliver_due()
            ran = run_due_tasks()
        except Exception:
            db.session.rollback()
            log.exception("Worker round failed")
            sent, ran = 0, []
        finally:
            db.session.remove()
        rounds += 1
        if stop_after is not None and rounds >= stop_after:
            break
        if not sent and not ran:
            time.sleep(idle)
