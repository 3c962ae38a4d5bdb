"""Security headers, cookie hardening and input checks that Werkzeug leaves to us."""

import json
import re
import uuid
from urllib.parse import unquote_to_bytes, urlsplit

from flask import current_app, g, request, session
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import BadRequest, NotFound


class InvalidInput(BadRequest):
    """A form or query value that is not valid UTF-8 or holds a NUL byte."""

    description = _l("Some of what you sent is not valid text. Please check and try again.")
    show_description = True


class InvalidJSON(BadRequest):
    """A JSON body that cannot be read safely: malformed, too deep, a huge number, bad text."""

    error_code = "invalid_json"
    show_description = True

    def __init__(self, description=None):
        super().__init__(description or _l("The request body is not valid JSON."))


# -- JSON -----------------------------------------------------------------------------------

#: Longer number literals are refused: Python would spend time on them or refuse them itself
#: (int() stops at 4 300 digits), and no amount or id we take needs more.
MAX_JSON_NUMBER_LENGTH = 40


class JSONRefused(ValueError):
    """Raised by :func:`strict_loads`; its message says what is wrong, for the client."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _number(kind):
    def parse(text):
        if len(text) > MAX_JSON_NUMBER_LENGTH:
            raise JSONRefused(
                _l("Numbers may have at most %(max)d characters.", max=MAX_JSON_NUMBER_LENGTH)
            )
        return kind(text)

    return parse


def _check_text(value):
    """Refuse strings that hold a lone surrogate (``"\\ud800"``): no database can store one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JSONRefused(InvalidInput.description) from None
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def strict_loads(text):
    """``json.loads`` for what strangers send: bounded numbers and depth, text a database takes.

    Raises :class:`JSONRefused` (a ``ValueError``) for anything else, malformed JSON included.
    """
    try:
        value = json.loads(
            text,
            parse_int=_number(int),
            parse_float=_number(float),
        )
    except RecursionError:
        raise JSONRefused(_l("The request body is nested too deeply.")) from None
    except JSONRefused:
        raise
    except ValueError:
        raise JSONRefused(_l("The request body is not valid JSON.")) from None
    _check_text(value)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """``request.get_json()`` everywhere parses with :func:`strict_loads`."""

    def loads(self, s, **kwargs):
        if isinstance(s, bytes):
            try:
                s = s.decode("utf-8")
            except UnicodeDecodeError:
                raise JSONRefused(InvalidInput.description) from None
        return strict_loads(s)


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


def _check_path():
    # PATH_INFO holds the percent-decoded bytes as latin-1; no address of ours has a NUL.
    raw = request.environ.get("PATH_INFO", "").encode("latin-1", "replace")
    if b"\x00" in raw:
        raise NotFound()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFound() from None


def check_input():
    """Refuse invalid UTF-8 and NUL bytes in the path, the query string and form fields,
    and JSON bodies that cannot be read safely.

    Werkzeug decodes with ``errors="replace"`` and keeps NULs, so bad bytes would reach
    the database (PostgreSQL refuses NUL in text and the request would end in a 500).
    JSON is parsed once here with :func:`strict_loads`, so that whichever parser a view
    uses afterwards (webargs calls ``json.loads`` itself) only ever sees a safe body.
    Views marked ``skip_input_check`` (the signed Stripe webhook) take their body as sent.
    """
    _check_path()
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
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput() from None
        try:
            strict_loads(text)
        except JSONRefused as refused:
            raise InvalidJSON(refused.message) from None


#: Areas whose every page is about one person or about the organization's money.
PRIVATE_PATHS = (
    "/account",
    "/treasurer",
    "/moderation",
    "/admin",
    "/orders",
    "/email-preferences",
    "/unsubscribe",
)
#: Path arguments and query parameters that prove who someone is: a signed link's token,
#: the Stripe Checkout session a payer comes back with.
PROOF_ARGUMENTS = frozenset({"token", "session_id"})


def _signed_in():
    # Without loading the account: Flask-Login keeps what it loaded in g, else the session
    # (or the remember-me cookie) says someone is signed in.
    user = g.get("_login_user")
    if user is not None:
        return bool(user.is_authenticated)
    remember = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    return "_user_id" in session or remember in request.cookies


def is_private():
    """Whether this response may show personal data, and so must never be stored.

    One rule instead of a header per page: the staff and account areas, any page reached
    through a signed link or a Checkout session, and everything a signed-in person sees
    (a donate form filled in with their address). Stylesheets and scripts stay cacheable.
    """
    if (request.endpoint or "").endswith("static"):
        return False
    if request.path.startswith(PRIVATE_PATHS):
        return True
    if PROOF_ARGUMENTS & set(request.view_args or ()) or PROOF_ARGUMENTS & set(request.args):
        return True
    return _signed_in()


def content_security_policy():
    checkout_origins = " ".join(current_app.config.get("CSP_FORM_ACTION_EXTRA", ()))
    form_action = ("'self' " + checkout_origins).strip()
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
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
    if is_private():
        headers["Cache-Control"] = "no-store"
    return response


REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id(headers=None):
    """The proxy's ``X-Request-Id`` when it is a plausible id, else a new one.

    ``headers`` are the current request's unless given (the webhook's fast path runs
    outside Flask's request)."""
    given = (request.headers if headers is None else headers).get("X-Request-Id", "")
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
