"""Counting failed attempts (sign-in, password reset) in Flask-Limiter's shared storage.

Route decorators count every request; sign-in must count only failures, per account
and per address, and refuse before checking a password once either is exhausted. Both
use the limiter's storage on ``REDIS_URL``, so every gunicorn worker and every web
machine sees the same counts.
"""

import hashlib
import time

from flask import current_app, request
from limits import parse
from werkzeug.exceptions import TooManyRequests

from core.extensions import limiter


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


def _checks(scope, email):
    config = current_app.config
    prefix = config["RATELIMIT_KEY_PREFIX"]
    per_account = parse(config[f"{scope.upper()}_LIMIT_PER_ACCOUNT"])
    per_ip = parse(config[f"{scope.upper()}_LIMIT_PER_IP"])
    return [
        (per_account, (prefix, f"{scope}-account", account_key(email))),
        (per_ip, (prefix, f"{scope}-ip", client_address())),
    ]


def enabled():
    return current_app.config.get("RATELIMIT_ENABLED", True) and limiter.enabled


def refuse_if_exhausted(scope, email):
    """Raise 429 when the account or the address has used up its attempts."""
    if not enabled():
        return
    for item, keys in _checks(scope, email):
        if not limiter.limiter.test(item, *keys):
            reset_at, _ = limiter.limiter.get_window_stats(item, *keys)
            raise Throttled(reset_at - time.time())


def count_attempt(scope, email):
    """Count one attempt against the account and the address."""
    if not enabled():
        return
    for item, keys in _checks(scope, email):
        limiter.limiter.hit(item, *keys)
