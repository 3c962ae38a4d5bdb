"""The JSON API: flask-smorest, documented at ``/api/v1/openapi.json``, errors in our one shape.

Each app gets its own :class:`Api` (it keeps the app and the OpenAPI document), created by
:func:`init_api` and found with :func:`api_for`. Feature packages describe their bodies in
their ``schemas.py`` with the fields below, whose messages are translated.
"""

import marshmallow as ma
from flask import abort, current_app, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Api as SmorestApi

from core.errors import DomainError
from core.extensions import csrf
from core.validators import InvalidEmail, clean_email

#: Stripe's limit for its own idempotency keys; ours follow it.
MAX_IDEMPOTENCY_KEY = 255

DEFAULTS = {
    "API_TITLE": "Mondial API",
    "API_VERSION": "v1",
    # apispec 6 writes 3.1 documents (type lists for nullable fields).
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    # No Swagger UI, ReDoc or RapiDoc: they need inline scripts that our CSP refuses.
    "API_SPEC_OPTIONS": {
        "info": {
            "description": "Funds and donations for the Mondial site. Errors are "
            '`{"error": {"code", "message", "fields"}}`; `fields` comes with 422 only.'
        }
    },
}

BODY_METHODS = {"POST", "PUT", "PATCH"}


# -- the error body, for the document (core.errors renders it) ------------------------------


class ErrorDetailSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "invalid"})
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={
            "description": "Per field (dotted path, e.g. `donor.email`), what to correct. "
            "Only on 422."
        },
    )


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(SmorestApi):
    """flask-smorest's Api, minus its own error handler, plus CSRF exemption for API blueprints."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Nothing: ``core.errors`` renders every error, API or not, in the project's one shape."""

    def register_blueprint(self, blp, **options):
        # JSON only and no cookie needed, so no CSRF token; a cross-site page cannot send
        # application/json without a CORS preflight, which we do not answer.
        csrf.exempt(blp)
        super().register_blueprint(blp, **options)


def init_api(app):
    """Create this app's Api; API blueprints are registered with ``api_for(app)``."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    api = Api(app)
    app.extensions["api"] = api
    app.before_request(_require_json)
    return api


def api_for(app):
    return app.extensions["api"]


def _require_json():
    """A body sent to the API must be JSON: anything else is a 415, before anything parses it."""
    if request.method not in BODY_METHODS:
        return
    api_blueprints = current_app.extensions["flask-smorest"]["blp_name_to_api"]
    if request.blueprint not in api_blueprints:
        return
    if not request.is_json:
        abort(415)


# -- fields with translated messages --------------------------------------------------------

REQUIRED = _l("This field is required.")


class ApiSchema(ma.Schema):
    """A request body: unknown fields are refused, messages are translated."""

    error_messages = {
        "unknown": _l("This field is not accepted."),
        "type": _l("Please send a JSON object."),
    }

    class Meta:
        unknown = ma.RAISE


class Text(ma.fields.String):
    """A string, trimmed, at most ``max_length`` characters; blank counts as missing if required."""

    default_error_messages = {
        "required": REQUIRED,
        "null": REQUIRED,
        "invalid": _l("Please send text."),
    }

    def __init__(self, max_length, **kwargs):
        self.max_length = max_length
        # Let apispec document the limit; the check itself is in _deserialize.
        metadata = {"maxLength": max_length, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text and self.required:
            raise self.make_error("required")
        if len(text) > self.max_length:
            raise ma.ValidationError(
                _l("Please use at most %(max)s characters.", max=self.max_length)
            )
        return text


class Choice(Text):
    """One of a few fixed strings."""

    def __init__(self, choices, **kwargs):
        self.choices = tuple(choices)
        metadata = {"enum": list(self.choices), **kwargs.pop("metadata", {})}
        super().__init__(max(len(c) for c in self.choices), metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text not in self.choices:
            raise ma.ValidationError(
                _l("Please choose one of: %(choices)s.", choices=", ".join(self.choices))
            )
        return text


class Email(Text):
    """An email address, checked and normalised as the HTML forms do it (no DNS look-up)."""

    def __init__(self, **kwargs):
        metadata = {"format": "email", **kwargs.pop("metadata", {})}
        super().__init__(254, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if text:
            try:
                return clean_email(text)
            except InvalidEmail as error:
                raise ma.ValidationError(str(error.message)) from None
        return text


class Flag(ma.fields.Boolean):
    """A JSON ``true`` or ``false``; marshmallow's "yes", 1 or "on" are refused."""

    default_error_messages = {
        "required": REQUIRED,
        "null": REQUIRED,
        "invalid": _l("Please send true or false."),
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Object(ma.fields.Nested):
    """A nested JSON object."""

    default_error_messages = {
        "required": REQUIRED,
        "null": REQUIRED,
        "type": _l("Please send a JSON object."),
    }


def idempotency_key_doc(retry):
    """The ``Idempotency-Key`` header in an operation's OpenAPI document; ``retry`` says
    what a retry with the same key returns (a ``@blp.doc(**...)`` argument)."""
    return {
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
                "description": f"Retry safely: {retry}",
            }
        ]
    }


def idempotency_key():
    """The request's ``Idempotency-Key`` ("" without one); a 400 unless it is at most
    :data:`MAX_IDEMPOTENCY_KEY` plain characters."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise DomainError(
            _l(
                "The Idempotency-Key must be at most %(max)s plain characters.",
                max=MAX_IDEMPOTENCY_KEY,
            ),
            code="invalid_key",
            status=400,
        )
    return key
