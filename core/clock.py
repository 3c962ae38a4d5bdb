"""The app's clock: real UTC time, which tests and the Stripe simulator may move.

Everything that stamps or compares times calls :func:`now`, never ``datetime.now``,
so a test can advance days (subscriptions renew, tokens expire) without waiting.
The offset lives in this process only; it exists for development and tests.
"""

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen = None


def now():
    """Return the current time as an aware UTC datetime."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def timestamp():
    """Return :func:`now` as integer Unix seconds."""
    return int(now().timestamp())


def offset_seconds():
    return int(_offset.total_seconds())


def set_offset(seconds):
    """Put the clock ``seconds`` ahead of real time (the simulator shares its offset)."""
    global _offset
    _offset = timedelta(seconds=seconds)


def advance(**delta):
    """Move the clock forward, e.g. ``advance(days=31)``."""
    global _offset, _frozen
    step = timedelta(**delta)
    if _frozen is not None:
        _frozen = _frozen + step
    else:
        _offset = _offset + step


def freeze(at):
    """Stop the clock at the aware datetime ``at``."""
    global _frozen
    if at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC)


def reset():
    """Return to real time."""
    global _offset, _frozen
    _offset = timedelta(0)
    _frozen = None
