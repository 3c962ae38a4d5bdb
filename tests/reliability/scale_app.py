"""The app as tests/reliability/test_scale_out.py runs it in its workers: the real app, plus
one periodic task that notes the time of each of its runs in a file (SCALE_OUT_TICKS), so
that the test can see how often the two workers between them ran it."""

import os
import time
from datetime import timedelta

from core import create_app
from core.worker import register_task

#: How often the noting task is due.
TICK = timedelta(seconds=2)

app = create_app()


def note_the_run():
    with open(os.environ["SCALE_OUT_TICKS"], "a") as ticks:
        ticks.write(f"{time.time():.3f} {os.getpid()}\n")


register_task(app, "scale_out.tick", TICK, note_the_run)
