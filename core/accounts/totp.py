"""The second factor of treasurers and admins: a TOTP app, and one-time recovery codes.

They can refund money and export donor data, so a password alone does not sign them in.
The first sign-in enrols the app (a QR code drawn as SVG on the server); ten recovery codes
are shown once and kept only as argon2 hashes. A code is accepted once: the time step it
was accepted for is kept, so the same code cannot be replayed within its 30 seconds.
"""

import secrets

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup

from core import audit, clock
from core.accounts.models import RecoveryCode, Role
from core.accounts.services import password_hasher
from core.db import db

RECOVERY_CODES = 10
#: Codes from the step before or after are accepted too (a phone's clock a little off).
WINDOW = 1


def required(user):
    """Whether ``user`` must give a second factor to sign in."""
    return user.role >= Role.treasurer


def enrolled(user):
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def new_secret():
    return pyotp.random_base32()


def provisioning_uri(user, secret):
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["ORG_NAME"]
    )


def qr_svg(uri):
    """The QR code of ``uri`` as inline SVG markup (drawn here: no script, no image request)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#111", light="#fff", border=2)
    return Markup(svg)


def _matching_step(secret, code):
    """The time step ``code`` belongs to (now, or one step either side), or None."""
    code = (code or "").replace(" ", "")
    if not (code.isascii() and code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now = clock.now()
    step = totp.timecode(now)
    for offset in range(-WINDOW, WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def verify(user, code):
    """True if ``code`` is the user's current code, not used before; remembers its step."""
    if not enrolled(user):
        return False
    step = _matching_step(user.totp_secret, code)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def enrol(user, secret, code):
    """Turn the second factor on with ``secret`` once ``code`` proves the app has it.

    Returns the recovery codes, in clear text, to show once; or None if the code is wrong.
    """
    step = _matching_step(secret, code)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enabled_at = clock.now()
    user.totp_last_step = step
    codes = new_recovery_codes(user)
    audit.record("user.totp_enabled", user)
    return codes


def new_recovery_codes(user):
    """Replace the user's recovery codes with ten new ones; returns them in clear text."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    hasher = password_hasher()
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=hasher.hash(_normal(code))))
    db.session.flush()
    return codes


def _recovery_code():
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normal(code):
    return (code or "").strip().lower().replace(" ", "").replace("-", "")


def use_recovery_code(user, code):
    """True (and the code is spent) if ``code`` is one of the user's unused recovery codes."""
    from argon2.exceptions import InvalidHashError, VerificationError

    code = _normal(code)
    if len(code) != 10:
        return False
    hasher = password_hasher()
    unused = db.session.scalars(
        sa.select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .with_for_update()
    ).all()
    for row in unused:
        try:
            hasher.verify(row.code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        row.used_at = clock.now()
        audit.record("user.recovery_code_used", user)
        return True
    return False


def recovery_codes_left(user):
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )
