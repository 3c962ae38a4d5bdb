"""Signed, expiring tokens for links sent by email (verification, reset, preferences)."""

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from core import clock
from core.errors import DomainError


class InvalidLink(DomainError):
    status = 400
    code = "invalid_link"
    default_message = _l("This link is not valid. It may have been copied incompletely.")


class ExpiredLink(InvalidLink):
    code = "expired_link"
    default_message = _l("This link has expired. Please ask for a new one.")


class _Signer(TimestampSigner):
    def get_timestamp(self):
        # Signed with the app's clock, as links are read with it, so that simulated time
        # (tests, `make run`) both ages a link and signs a fresh one.
        return int(clock.timestamp())


class _Serializer(URLSafeTimedSerializer):
    default_signer = _Signer


def _serializer(purpose):
    # Signs with SECRET_KEY; also reads links signed with a key in SECRET_KEY_FALLBACKS
    # (itsdangerous signs with the last key and accepts them all, as Flask's session does).
    fallbacks = current_app.config.get("SECRET_KEY_FALLBACKS") or []
    keys = [*fallbacks, current_app.config["SECRET_KEY"]]
    return _Serializer(keys, salt=f"mondial.{purpose}")


def make_token(purpose, payload):
    return _serializer(purpose).dumps(payload)


def read_token(purpose, token, max_age=None):
    """Return the payload signed for ``purpose``, or raise :class:`InvalidLink`."""
    serializer = _serializer(purpose)
    try:
        payload, signed_at = serializer.loads(token, max_age=None, return_timestamp=True)
    except BadSignature:
        raise InvalidLink() from None
    if max_age is not None and clock.timestamp() - int(signed_at.timestamp()) > max_age:
        raise ExpiredLink()
    return payload
