"""Security headers, cookie hardening and input checks that Werkzeug leaves to us."""

import re
import uuid
from urllib.parse import unquote_to_bytes, urlsplit

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest


class InvalidInput(BadRequest):
    """A form or query value that is not valid UTF-8 or holds a NUL byte."""

    description = _l("Some of what you sent is not valid text. Please check and try again.")
    show_description = True


def _pairs(raw):
    for chunk in raw.split(b"&"):
        if not chunk:
            continue
        for part in chunk.split(b"=", 1):
            yield unquote_to_bytes(part.replace(b"+", b" "))


def _check_bytes(values):
    for value in values:
        if b"\x00" in value:
            raise InvalidInput()
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput() from None


def check_input():
    """Refuse invalid UTF-8 and NUL bytes in the query string and form fields.

    Werkzeug decodes with ``errors="replace"`` and keeps NULs, so bad bytes would reach
    the database (PostgreSQL refuses NUL in text and the request would end in a 500).
    Views marked ``skip_input_check`` (the signed Stripe webhook) take their body as sent.
    """
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "skip_input_check", False):
        return
    _check_bytes(_pairs(request.query_string))
    if request.method not in {"POST", "PUT", "PATCH", "DELETE"}:
        return
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        _check_bytes(_pairs(request.get_data(cache=True)))
    elif mimetype == "multipart/form-data":
        # The multipart parser has already decoded; bad bytes show as U+FFFD.
        for value in request.form.values():
            if "\x00" in value or "\ufffd" in value:
                raise InvalidInput()
    elif request.is_json and request.content_length:
        raw = request.get_data(cache=True)
        if b"\\u0000" in raw or b"\x00" in raw:
            raise InvalidInput()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput() from None


#: Pages with personal or financial data that no shared cache may keep.
PRIVATE_PATHS = ("/account", "/treasurer", "/moderation", "/admin", "/orders", "/email-preferences")


def content_security_policy():
    checkout_origins = " ".join(current_app.config.get("CSP_FORM_ACTION_EXTRA", ()))
    form_action = ("'self' " + checkout_origins).strip()
    # Only the staff screens of Flask-Admin ask for a nonce, for their own inline code.
    nonce = f" 'nonce-{g.csp_nonce}'" if "csp_nonce" in g else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{nonce}",
            f"style-src 'self'{nonce}",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action {form_action}",
            "frame-ancestors 'none'",
        ]
    )


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["APP_ENV"] == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.path.startswith(PRIVATE_PATHS):
        headers.setdefault("Cache-Control", "no-store")
    return response


REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id():
    """The proxy's ``X-Request-Id`` when it is a plausible id, else a new one."""
    given = request.headers.get("X-Request-Id", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def origin_of(url):
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def is_safe_redirect(target):
    """Only same-site paths may be redirected to after sign-in or a language switch."""
    if not target:
        return False
    parts = urlsplit(target)
    return (
        not parts.scheme
        and not parts.netloc
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
    )
