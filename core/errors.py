"""One family of domain errors, translated centrally to an HTML page or a JSON body."""

import json
import logging
from collections.abc import Mapping

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core import logs

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A refusal the visitor can understand: carries a code, a message and an HTTP status."""

    status = 400
    code = "invalid_request"
    default_message = _l("The request could not be processed.")

    def __init__(self, message=None, *, code=None, field=None, status=None):
        super().__init__(str(message or self.default_message))
        self.message = message or self.default_message
        self.field = field
        if code:
            self.code = code
        if status:
            self.status = status


class KeyReused(DomainError):
    """An Idempotency-Key sent again with a different request."""

    status = 422
    code = "idempotency_key_reused"
    default_message = _l(
        "This Idempotency-Key was already used with another request. Use a new key for a new "
        "request."
    )


class ValidationError(DomainError):
    code = "invalid"
    default_message = _l("Please correct the highlighted information.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("We could not find that page.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You do not have access to this page.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This was changed by someone else. Please reload and try again.")


class IllegalTransition(Conflict):
    code = "illegal_transition"


class ServiceUnavailable(DomainError):
    """A service we depend on (Stripe, the mail server) did not answer in time."""

    status = 503
    code = "service_unavailable"
    default_message = _l(
        "Our payment provider is not answering right now. Nothing was charged; "
        "please try again in a few minutes."
    )


TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    410: _l("Gone"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("Unprocessable request"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    502: _l("Service unavailable"),
    503: _l("Service unavailable"),
}

MESSAGES = {
    400: _l("The request could not be understood. Please check what you entered."),
    403: _l("You do not have access to this page."),
    404: _l("We could not find that page."),
    405: _l("This address does not accept that kind of request."),
    409: _l("This was changed by someone else. Please reload and try again."),
    410: _l("This link is no longer valid."),
    413: _l("What you sent is too large."),
    415: _l("This address does not accept that kind of content."),
    422: _l("The request could not be processed."),
    429: _l("Too many attempts. Please wait a few minutes and try again."),
    500: _l("Something went wrong on our side. We have been told and will look into it."),
    502: _l("A service we rely on did not answer. Please try again in a few minutes."),
    503: _l("A service we rely on did not answer. Please try again in a few minutes."),
}

CSRF_MESSAGE = _l(
    "This form has expired or is incomplete. Please go back, reload the page and try again."
)

CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


def wants_json():
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


INVALID_JSON_MESSAGE = _l("The request body is not valid JSON.")

#: Where webargs says a message came from; our bodies are JSON only, so the key is dropped.
_ARGUMENT_LOCATIONS = {
    "json",
    "query",
    "querystring",
    "form",
    "headers",
    "cookies",
    "files",
    "view_args",
    "path",
}


def error_response(status, code, message, headers=None, fields=None):
    """Render an error in the form the client asked for; ``fields`` go in JSON bodies only."""
    if wants_json():
        body = {"code": code, "message": str(message)}
        if fields:
            body["fields"] = fields
        response = jsonify({"error": body})
        response.status_code = status
    else:
        title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
        response = (
            render_template("errors/error.html", status=status, title=title, message=message),
            status,
        )
        from flask import make_response

        response = make_response(response)
    if headers:
        for name, value in headers:
            if name.lower() in {"retry-after", "allow"}:
                response.headers[name] = value
    return response


def register_errorhandlers(app):
    @app.errorhandler(DomainError)
    def handle_domain_error(error):
        fields = None
        if isinstance(error, ValidationError) and error.field:
            fields = {error.field: [str(error.message)]}
        return error_response(error.status, error.code, error.message, fields=fields)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error):
        return error_response(400, "csrf_failed", CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def handle_http_error(error):
        status = error.code or 500
        message = MESSAGES.get(status, error.description)
        code = getattr(error, "error_code", None) or CODES.get(status, "error")
        if (
            status == 400
            and getattr(error, "description", None)
            and getattr(error, "show_description", False)
        ):
            message = error.description
        # webargs (under flask-smorest) and flask_smorest.abort put details in ``data``,
        # and webargs the parsing error in ``exc``.
        data = getattr(error, "data", None) or {}
        fields = None
        if status == 422 and (data.get("errors") or data.get("messages")):
            fields = _field_messages(data.get("errors") or data["messages"])
            code, message = ValidationError.code, ValidationError.default_message
        elif status == 400 and isinstance(getattr(error, "exc", None), json.JSONDecodeError):
            code, message = "invalid_json", INVALID_JSON_MESSAGE
        return error_response(status, code, message, headers=error.get_headers(), fields=fields)

    @app.errorhandler(Exception)
    def handle_unexpected(error):
        # The URL rule, not the path: paths carry signed tokens.
        log.exception("Unhandled error on %s %s", request.method, logs.safe_path())
        return error_response(500, CODES[500], MESSAGES[500])


def _field_messages(messages):
    """webargs' ``{"json": {"donor": {"email": [...]}}}`` as ``{"donor.email": ["..."]}``."""
    if isinstance(messages, Mapping) and messages and set(messages) <= _ARGUMENT_LOCATIONS:
        flat = {}
        for inner in messages.values():
            flat.update(field_messages(inner))
        return flat
    return field_messages(messages)


def field_messages(messages, prefix=""):
    """marshmallow's nested messages flattened to dotted paths, each message a string."""
    if not isinstance(messages, Mapping):
        items = messages if isinstance(messages, list | tuple) else [messages]
        return {prefix or "_schema": [str(m) for m in items]}
    flat = {}
    for key, value in messages.items():
        if key == "_schema" and prefix:  # the nested object as a whole, e.g. not an object
            name = prefix
        else:
            name = f"{prefix}.{key}" if prefix else str(key)
        for field, items in field_messages(value, name).items():
            flat.setdefault(field, []).extend(items)
    return flat
