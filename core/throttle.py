"""Counting attempts in Flask-Limiter's shared storage: failed sign-ins, resets, emails sent.

Route decorators count every request; sign-in must count only failures, per account
and per address, and refuse before checking a password once either is exhausted. Emails
that a stranger can cause (confirmation links) are counted per account and per mailbox.
All of it uses the limiter's storage on ``REDIS_URL``, so every gunicorn worker and
every web machine sees the same counts.

When that storage cannot be reached, counting goes on in this process's memory and each
failure is logged as an error: the limits then hold per process rather than site-wide,
which is far better than refusing every sign-in, reset and gift while Redis is down.
"""

import hashlib
import logging
import math
import time

import sqlalchemy as sa
from flask import current_app, request
from limits import parse, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.orm import Session
from werkzeug.exceptions import TooManyRequests

from core.extensions import limiter

log = logging.getLogger(__name__)


class Throttled(TooManyRequests):
    def __init__(self, retry_after):
        super().__init__()
        self.retry_after = max(1, int(retry_after))

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


def account_key(email):
    """A key for an address that does not put the address itself into Redis."""
    normalised = (email or "").strip().lower().encode()
    return hashlib.sha256(normalised).hexdigest()[:32]


def client_address():
    return request.remote_addr or "unknown"


# -- the storage, or this process's memory while it is down -----------------------------------

_local = {}


def _local_strategy(strategy):
    """A limiter of the same kind as ``strategy`` on this process's memory."""
    kind = type(strategy)
    if kind not in _local:
        _local[kind] = kind(MemoryStorage())
    return _local[kind]


def _call(method, *args):
    return _on_strategy(lambda strategy: getattr(strategy, method)(*args))


def _on_strategy(use):
    """``use(strategy)`` on the limiter's strategy, or on this process's memory while its
    storage is unreachable.

    Flask-Limiter's own fallback (for its decorators) may already have switched
    ``limiter.limiter`` to memory; otherwise the shared storage is tried each time, so
    that counting goes back to it as soon as it answers again.
    """
    strategy = limiter.limiter
    try:
        return use(strategy)
    except (StorageError, ConnectionError, TimeoutError) as error:
        log.error(
            "Rate-limit storage unreachable (%s): limits hold in this process only",
            getattr(error, "storage_error", error),
        )
        return use(_local_strategy(strategy))


def enabled():
    return current_app.config.get("RATELIMIT_ENABLED", True) and limiter.enabled


def _retry_after(item, keys):
    reset_at, _ = _call("get_window_stats", item, *keys)
    return reset_at - time.time()


# -- failed sign-ins and resets -----------------------------------------------------------------


def _checks(scope, email):
    config = current_app.config
    prefix = config["RATELIMIT_KEY_PREFIX"]
    per_account = parse(config[f"{scope.upper()}_LIMIT_PER_ACCOUNT"])
    per_ip = parse(config[f"{scope.upper()}_LIMIT_PER_IP"])
    return [
        (per_account, (prefix, f"{scope}-account", account_key(email))),
        (per_ip, (prefix, f"{scope}-ip", client_address())),
    ]


def refuse_if_exhausted(scope, email):
    """Raise 429 when the account or the address has used up its attempts."""
    if not enabled():
        return
    for item, keys in _checks(scope, email):
        if not _call("test", item, *keys):
            raise Throttled(_retry_after(item, keys))


def count_attempt(scope, email):
    """Count one attempt against the account and the address."""
    if not enabled():
        return
    for item, keys in _checks(scope, email):
        _call("hit", item, *keys)


# -- emails a stranger can cause -------------------------------------------------------------


def email_wait(kind, account_id, email):
    """Seconds to wait before a ``kind`` email may go to this account and mailbox.

    0 means "send it now", and that email is counted. The email itself is queued in the
    outbox, in the database transaction under way: if that transaction rolls back (the
    database failed mid-request), the email is not sent and the count is given back, so
    that the person's retry gets the link.

    Nothing is counted when either is used up, so that a refused attempt does not push
    the next allowed one further away. Limits come from ``<KIND>_EMAIL_LIMITS``
    (e.g. ``"1 per 10 minutes; 5 per day"``). Needs no request: services call it.
    """
    if not enabled():
        return 0
    config = current_app.config
    prefix = config["RATELIMIT_KEY_PREFIX"]
    subjects = [(f"{kind}-account", str(account_id)), (f"{kind}-address", account_key(email))]
    checks = [
        (item, (prefix, *subject))
        for item in parse_many(config[f"{kind.upper()}_EMAIL_LIMITS"])
        for subject in subjects
    ]
    waits = [_retry_after(item, keys) for item, keys in checks if not _call("test", item, *keys)]
    if waits:
        return max(1, math.ceil(max(waits)))
    for item, keys in checks:
        _call("hit", item, *keys)
    _give_back_unless_committed(checks)
    return 0


def _give_back_unless_committed(checks):
    from core.db import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # the email is queued in it next
    session.info.setdefault("throttle_counted", []).extend(checks)


@sa.event.listens_for(Session, "after_commit")
def _keep_counted(session):
    session.info.pop("throttle_counted", None)


@sa.event.listens_for(Session, "after_transaction_end")
def _give_back_rolled_back(session, transaction):
    """The outermost transaction ended without a commit: its emails will not go."""
    if transaction.parent is not None:  # a savepoint, or a transaction inside one
        return
    for item, keys in session.info.pop("throttle_counted", ()):
        _give_back(item, keys)


def _give_back(item, keys):
    """Take one back from a fixed window's count (the other strategies cannot), where it
    was counted: the shared storage, or this process's memory while that is down."""
    key = item.key_for(*keys)

    def take_one(strategy):
        if isinstance(strategy, FixedWindowRateLimiter) and strategy.storage.get(key) > 0:
            strategy.storage.incr(key, item.get_expiry(), amount=-1)

    _on_strategy(take_one)
