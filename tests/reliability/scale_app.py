"""The app as tests/reliability/test_scale_out.py runs it in its workers: the real app, plus
one periodic task that notes the time each of its runs was claimed in a file
(SCALE_OUT_TICKS), so that the test can see how often the two workers between them ran it."""

import os
import time
from datetime import timedelta

from core import create_app
from core.db import db
from core.worker import TaskSchedule, register_task

#: How often the noting task is due.
TICK = timedelta(seconds=2)

app = create_app()


def note_the_run():
    """Note when this run was claimed (what the schedule spaces a period apart), then the
    time it started: a worker at nice 19 on a busy machine may start a moment later."""
    claimed = db.session.get(TaskSchedule, "scale_out.tick").last_run_at
    with open(os.environ["SCALE_OUT_TICKS"], "a") as ticks:
        ticks.write(f"{claimed.timestamp():.3f} {os.getpid()} {time.time():.3f}\n")


register_task(app, "scale_out.tick", TICK, note_the_run)
