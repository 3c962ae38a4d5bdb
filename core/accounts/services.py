"""Account verbs: register, verify, sign in and out, reset and change credentials."""

import hashlib
import hmac

import sqlalchemy as sa
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from core import audit, clock, throttle
from core.accounts.models import LoginSession, Role, User
from core.db import db
from core.errors import Conflict, DomainError, ValidationError
from core.mail.services import queue_email
from core.tokens import InvalidLink, make_token, read_token
from core.urls import absolute_url
from core.validators import check_plain_text, clean_email, normalise_email

MIN_PASSWORD = 10
MAX_PASSWORD = 128


class WrongPassword(ValidationError):
    code = "wrong_password"
    default_message = _l("That password is not right.")


class TooManyEmails(DomainError):
    """This account or mailbox has had all the confirmation emails it may have for now."""

    status = 429
    code = "too_many_emails"
    default_message = _l(
        "We have sent you a confirmation link very recently. Please look for it in your "
        "inbox and junk mail folder before asking for another."
    )

    def __init__(self, retry_after):
        if retry_after <= 3600:
            minutes = max(1, -(-retry_after // 60))
            when = lazy_ngettext(
                "You can ask for another one in %(num)d minute.",
                "You can ask for another one in %(num)d minutes.",
                minutes,
            )
        else:
            when = lazy_ngettext(
                "You can ask for another one in %(num)d hour.",
                "You can ask for another one in %(num)d hours.",
                -(-retry_after // 3600),
            )
        super().__init__(LazyJoin(self.default_message, when))
        self.retry_after = retry_after


class LazyJoin:
    """Two lazy strings read as one sentence after the other, in the language of the moment."""

    def __init__(self, *parts):
        self.parts = parts

    def __str__(self):
        return " ".join(str(part) for part in self.parts)


def password_hasher():
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password):
    return password_hasher().hash(password)


def _dummy_hash():
    # Checked when no account matches, so an unknown address costs as much as a known one.
    cached = current_app.extensions.get("dummy_password_hash")
    if cached is None:
        cached = current_app.extensions["dummy_password_hash"] = hash_password("not a password")
    return cached


def check_password(user, password):
    """True if ``password`` is the user's; upgrades an outdated hash on the way."""
    hasher = password_hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return True


def validate_password(password):
    if not (MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD):
        raise ValidationError(
            _l(
                "Choose a password of %(min)d to %(max)d characters.",
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
            ),
            field="password",
        )


def find_user(email):
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(email, password, *, name="", role=Role.member, language="en", verified=False):
    """Add an account directly (staff and the command line); refuses a taken address."""
    email = clean_email(email)
    check_plain_text(name, field="name")
    validate_password(password)
    if find_user(email):
        raise Conflict(_l("An account with this email already exists."), code="email_taken")
    user = User(
        email=email,
        password_hash=hash_password(password),
        name=name,
        role=role,
        language=language,
        email_verified_at=clock.now() if verified else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.created", user, data={"role": role.name})
    return user


def register(email, password, *, name, language):
    """Start an account and email a verification link.

    An address that already has an account gets an email saying so instead, and the
    visitor sees the same page either way: the form must not reveal who is registered.
    Both emails count against the mailbox's allowance; past it, nothing is sent, silently.
    """
    email = clean_email(email)
    check_plain_text(name, field="name")
    validate_password(password)
    existing = find_user(email)
    if existing:
        if throttle.email_wait("verify", existing.id, existing.email):
            return None
        queue_email(
            existing.email,
            "accounts/already_registered",
            subject=_l("You already have an account"),
            language=existing.language,
            context={
                "login_url": absolute_url("accounts.login"),
                "reset_url": absolute_url("accounts.reset_request"),
            },
        )
        return None
    user = User(email=email, password_hash=hash_password(password), name=name, language=language)
    db.session.add(user)
    db.session.flush()
    audit.record("user.registered", user, actor=email, actor_id=user.id)
    try:
        send_verification(user)
    except TooManyEmails:
        pass  # the mailbox had its share today; the sign-in page offers a resend later
    return user


def send_verification(user):
    """Email a confirmation link, at most as often as ``VERIFY_EMAIL_LIMITS`` allows.

    Raises :class:`TooManyEmails` when this account or its mailbox has had its share.
    """
    wait = throttle.email_wait("verify", user.id, user.email)
    if wait:
        raise TooManyEmails(wait)
    token = make_token("verify-email", {"id": user.id, "email": user.email})
    return queue_email(
        user.email,
        "accounts/verify_email",
        subject=_l("Confirm your email address"),
        language=user.language,
        context={"user": user, "verify_url": absolute_url("accounts.verify_email", token=token)},
    )


def resend_token(user):
    """The signed value behind the sign-in page's "send me a new link" button."""
    return make_token("resend-verification", {"id": user.id, "email": user.email})


def resend_verification(token):
    """Send a new confirmation link for the account in ``token``; return the account.

    The token comes from a sign-in with the right password, so only the person who
    chose it can ask; an account confirmed meanwhile gets nothing.
    """
    payload = read_token(
        "resend-verification", token, max_age=current_app.config["VERIFY_RESEND_TOKEN_MAX_AGE"]
    )
    user = db.session.get(User, payload.get("id"))
    if user is None or user.email != payload.get("email") or not user.active:
        raise InvalidLink()
    if not user.is_verified:
        send_verification(user)
    return user


def verify_email(token):
    """Mark the address in ``token`` confirmed; calling it twice is harmless."""
    payload = read_token("verify-email", token, max_age=current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload.get("id"))
    if user is None or user.email != payload.get("email"):
        raise InvalidLink()
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()
        audit.record("user.email_verified", user, actor=user.email, actor_id=user.id)
    return user


def authenticate(email, password):
    """The active account with this email and password, or None. Takes the same time either way."""
    user = find_user(email)
    if user is None:
        try:
            password_hasher().verify(_dummy_hash(), password or "")
        except VerificationError:
            pass
        return None
    if not check_password(user, password or "") or not user.active:
        return None
    return user


def start_session(user, user_agent=""):
    """A fresh sign-in session; its token goes into the cookie."""
    row = LoginSession(user=user, user_agent=(user_agent or "")[:300])
    db.session.add(row)
    user.last_login_at = clock.now()
    db.session.flush()
    user.current_session = row
    audit.record("user.signed_in", user, actor=user.email, actor_id=user.id)
    return row


def load_session(token):
    """The user whose live session has this token, or None."""
    if not token:
        return None
    row = db.session.scalar(
        sa.select(LoginSession).where(
            LoginSession.token == token, LoginSession.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    row.user.current_session = row
    return row.user


def end_session(token):
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token == token, LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def revoke_all_sessions(user):
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def _fingerprint(user):
    # Part of the reset token: once the password changes, every earlier link is dead.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def request_password_reset(email):
    """Email a reset link if the account exists; the caller shows the same page either way."""
    user = find_user(email)
    if user is None or not user.active:
        return None
    token = make_token("reset-password", {"id": user.id, "fp": _fingerprint(user)})
    queue_email(
        user.email,
        "accounts/reset_password",
        subject=_l("Reset your password"),
        language=user.language,
        context={"user": user, "reset_url": absolute_url("accounts.reset_password", token=token)},
    )
    return user


def user_for_reset(token):
    payload = read_token("reset-password", token, max_age=current_app.config["RESET_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload.get("id"))
    if user is None or not hmac.compare_digest(_fingerprint(user), payload.get("fp", "")):
        raise InvalidLink(_l("This link has already been used or is no longer valid."))
    return user


def reset_password(token, new_password):
    """Set a new password from a reset link; the link works once and every session ends."""
    user = user_for_reset(token)
    validate_password(new_password)
    user.password_hash = hash_password(new_password)
    if user.email_verified_at is None:
        user.email_verified_at = clock.now()  # the link proved they read this mailbox
    revoke_all_sessions(user)
    audit.record("user.password_reset", user, actor=user.email, actor_id=user.id)
    return user


def change_password(user, current_password, new_password):
    """Change a password; every session ends, the caller starts a new one for this browser."""
    if not check_password(user, current_password or ""):
        raise WrongPassword(field="current_password")
    validate_password(new_password)
    user.password_hash = hash_password(new_password)
    revoke_all_sessions(user)
    audit.record("user.password_changed", user)
    return user


def request_email_change(user, password, new_email):
    """Send a confirmation link to the new address; the change happens when it is followed."""
    if not check_password(user, password or ""):
        raise WrongPassword(field="password")
    new_email = clean_email(new_email)
    if new_email == user.email:
        raise ValidationError(_l("That is already your email address."), field="email")
    if find_user(new_email):
        raise Conflict(_l("That address cannot be used."), code="email_taken", field="email")
    wait = throttle.email_wait("verify", user.id, new_email)
    if wait:
        raise TooManyEmails(wait)
    token = make_token("change-email", {"id": user.id, "new": new_email, "fp": _fingerprint(user)})
    queue_email(
        new_email,
        "accounts/confirm_new_email",
        subject=_l("Confirm your new email address"),
        language=user.language,
        context={"user": user, "confirm_url": absolute_url("accounts.confirm_email", token=token)},
    )


def confirm_email_change(token):
    payload = read_token("change-email", token, max_age=current_app.config["EMAIL_TOKEN_MAX_AGE"])
    user = db.session.get(User, payload.get("id"))
    if user is None or not hmac.compare_digest(_fingerprint(user), payload.get("fp", "")):
        raise InvalidLink()
    new_email = payload["new"]
    if user.email == new_email:
        return user
    if find_user(new_email):
        raise Conflict(_l("That address cannot be used."), code="email_taken")
    old = user.email
    user.email = new_email
    user.email_verified_at = clock.now()
    queue_email(
        old,
        "accounts/email_changed",
        subject=_l("Your email address was changed"),
        language=user.language,
        context={"user": user, "new_email": new_email},
    )
    audit.record("user.email_changed", user, data={"from": old, "to": new_email})
    return user


def set_role(user, role):
    previous = user.role
    user.role = role
    audit.record("user.role_changed", user, data={"from": previous.name, "to": role.name})
    return user
