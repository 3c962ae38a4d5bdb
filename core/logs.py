"""Logs: one record per request, the request id on every record, JSON lines in production.

A request's record names its URL rule (``/receipts/<token>.pdf``), never the address
asked for: addresses carry signed tokens and query strings carry emails. Only a 404 that
matched no rule logs the path, cut to 200 characters.
"""

import json
import logging
import re
import time

import sqlalchemy as sa
from flask import g, has_app_context, request
from werkzeug.local import LocalProxy

from core import security

REQUEST_LOGGER = "mondial.request"
MAX_PATH = 200
#: A 404's path part longer than this is shown as "…": signed tokens are longer.
MAX_PART = 24

log = logging.getLogger(REQUEST_LOGGER)

#: The attributes a request's record carries, in the order a JSON line shows them.
REQUEST_FIELDS = ("method", "path", "endpoint", "status", "duration_ms", "user_id")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "request_id"}


class RequestIdFilter(logging.Filter):
    """Give each record the id of the request it was logged in (None outside one)."""

    def filter(self, record):
        if getattr(record, "request_id", None) is None:
            record.request_id = g.get("request_id") if has_app_context() else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the extras."""

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class StripeLogFilter(logging.Filter):
    """Stripe's SDK logs, at DEBUG, every request's form (the donor's email, our return
    addresses with their signed tokens) and every answer's body: those are dropped. Its
    INFO lines name the API address called; their query strings are cut."""

    def filter(self, record):
        if record.levelno < logging.INFO:
            return False
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = _QUERY.sub("?…", message), ()
        return True


_QUERY = re.compile(r"\?[^\s']*")


def configure(app):
    """Outside debugging and tests, log INFO to stderr; in production, as JSON lines.

    Whatever the level, Stripe's SDK never logs a request's form or an answer's body.
    """
    stripe_log = logging.getLogger("stripe")
    if not any(isinstance(f, StripeLogFilter) for f in stripe_log.filters):
        stripe_log.addFilter(StripeLogFilter())
    if app.debug or app.testing:
        return
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        )
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
        if app.config["APP_ENV"] == "production":
            handler.setFormatter(JsonFormatter())


def safe_path():
    """The request's URL rule; for a 404 that matched none, its path, cut to 200 characters
    and with any part long enough to be a signed token (a mangled link) masked; else None."""
    rule = request.url_rule
    if rule is not None:
        return rule.rule
    if not _not_found():
        return None
    parts = request.path[: MAX_PATH * 4].split("/")
    return "/".join(p if len(p) <= MAX_PART else "…" for p in parts)[:MAX_PATH]


def _not_found():
    from werkzeug.exceptions import NotFound

    return isinstance(request.routing_exception, NotFound)


def _signed_in_user_id():
    """The signed-in account's id, if this request loaded it (never loads it for the log)."""
    user = g.get("_login_user")
    # A proxy kept in ``g`` (a sign-in with ``current_user``) is not followed: it may
    # point back at ``g`` itself.
    if user is None or isinstance(user, LocalProxy):
        return None
    # Read from the identity map's key, not the object: the request's commit has expired
    # its attributes, and touching one (``is_authenticated`` reads ``active``) would load it.
    state = sa.inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return None  # the anonymous visitor


def log_request(method, path, endpoint, status, started, request_id, user_id=None):
    duration = None if started is None else round((time.perf_counter() - started) * 1000, 1)
    fields = {
        "method": method,
        "path": path,
        "endpoint": endpoint,
        "status": status,
        "duration_ms": duration,
        "user_id": user_id,
        "request_id": request_id,
    }
    log.info("%s %s %s %sms", method, path or "-", status, duration, extra=fields)


def init_app(app):
    """Registered first: its ``before_request`` runs before all others, its
    ``after_request`` after all others (the commit included)."""

    @app.before_request
    def _start():
        g.request_started = time.perf_counter()
        g.request_id = security.request_id()

    @app.after_request
    def _log(response):
        log_request(
            request.method,
            safe_path(),
            request.endpoint,
            response.status_code,
            g.get("request_started"),
            g.get("request_id"),
            _signed_in_user_id(),
        )
        return response
