"""The app's clock: real UTC time, which tests and the Stripe simulator may move.

Everything that stamps or compares times calls :func:`now`, never ``datetime.now``,
so a test can advance days (subscriptions renew, tokens expire) without waiting.

In development and testing the offset is shared by every process of the installation
(the app, ``flask worker run``, other CLI commands, the simulator) through a small file
(``CLOCK_FILE``, under ``instance/``): moving the simulator's clock moves them all. In
production there is no file and the clock is real time.
"""

import json
import os
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

_offset = timedelta(0)
_frozen = None
_shared = None  # the file every process reads the offset from, when sharing
_seen = None  # (the file's stat signature, the offset it held)


def share_through(path):
    """Read and write the offset in the file at ``path`` (development and testing)."""
    global _shared, _seen
    _shared = Path(path) if path else None
    _seen = None


def _current_offset():
    global _seen
    if _shared is None:
        return _offset
    try:
        stat = os.stat(_shared)
    except FileNotFoundError:
        return timedelta(0)
    signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if _seen is None or _seen[0] != signature:
        try:
            seconds = json.loads(_shared.read_text())["offset"]
        except (OSError, ValueError, KeyError, TypeError):
            seconds = 0
        _seen = (signature, timedelta(seconds=seconds))
    return _seen[1]


def _store_offset(offset):
    global _offset
    _offset = offset
    if _shared is None:
        return
    _shared.parent.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: a reader never sees half a file.
    fd, temporary = tempfile.mkstemp(dir=_shared.parent, prefix=".clock-")
    with os.fdopen(fd, "w") as handle:
        json.dump({"offset": offset.total_seconds()}, handle)
    os.replace(temporary, _shared)


def now():
    """Return the current time as an aware UTC datetime."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _current_offset()


def timestamp():
    """Return :func:`now` as integer Unix seconds."""
    return int(now().timestamp())


def offset_seconds():
    return int(_current_offset().total_seconds())


def set_offset(seconds):
    """Put the clock ``seconds`` ahead of real time (the simulator shares its offset)."""
    _store_offset(timedelta(seconds=seconds))


def advance(**delta):
    """Move the clock forward, e.g. ``advance(days=31)``."""
    global _frozen
    step = timedelta(**delta)
    if _frozen is not None:
        _frozen = _frozen + step
    else:
        _store_offset(_current_offset() + step)


def freeze(at):
    """Stop the clock at the aware datetime ``at`` (in this process only)."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC)


def reset():
    """Return to real time."""
    global _offset, _frozen, _seen
    _offset = timedelta(0)
    _frozen = None
    _seen = None
    if _shared is not None:
        try:
            _shared.unlink()
        except FileNotFoundError:
            pass


# -- where the organization is (ORG_TIMEZONE) --------------------------------------------------
# The one home for local dates, days and years: the treasurer's filters, receipts, membership
# terms and campaigns all read the calendar on the organization's wall.


def org_zone():
    """The organization's time zone (``ORG_TIMEZONE``)."""
    from flask import current_app

    return _zone(current_app.config["ORG_TIMEZONE"])


@lru_cache(maxsize=4)
def _zone(name):
    return ZoneInfo(name)


def local(moment):
    """An instant as the clock on the organization's wall; a naive one is taken as UTC."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(org_zone())


def local_date(moment):
    """The calendar date of an instant where the organization is."""
    return local(moment).date()


def today():
    """Today where the organization is, by the app's clock."""
    return local_date(now())


def this_year():
    return today().year


def local_midnight(day):
    """The UTC instant at which ``day`` begins where the organization is."""
    return datetime.combine(day, time(0), org_zone()).astimezone(UTC)


def local_noon(day):
    """Noon on ``day`` where the organization is, as a UTC instant.

    Noon keeps the day the same day whatever the offset: a gift received, or a charge due,
    on a date stays on it.
    """
    return datetime.combine(day, time(12), org_zone()).astimezone(UTC)


def year_bounds(year):
    """The UTC instants at which ``year`` starts and ends where the organization is."""
    return local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1))
