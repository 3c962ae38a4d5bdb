"""The account's part of a person's record (see core.people)."""

import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.accounts.admin import ROLE_LABELS
from core.accounts.models import LoginSession, RecoveryCode, Role, User
from core.accounts.services import revoke_all_sessions
from core.db import db
from core.people import MERGED_DOMAIN, CannotMerge, Column, Provider, Section, search_rows

#: No password hash starts so: argon2 refuses it, so no password signs in.
NO_PASSWORD = "!erased-"

COLUMNS = [
    Column("id", _l("Number")),
    Column("email", _l("Email")),
    Column("name", _l("Name")),
    Column("language", _l("Language"), labels={"en": _l("English"), "fr": _l("French")}),
    Column("role", _l("Role"), labels={role.name: label for role, label in ROLE_LABELS.items()}),
    Column("active", _l("Active"), "bool"),
    Column("email_verified_at", _l("Email confirmed"), "datetime"),
    Column("created_at", _l("Created"), "datetime"),
    Column("last_login_at", _l("Last sign-in"), "datetime"),
    Column("second_factor", _l("Second factor"), "bool"),
]


def sections(person):
    user = person.user
    rows = []
    if user is not None:
        rows.append(
            {
                "id": user.id,
                "email": user.email,
                "name": user.name,
                "language": user.language,
                "role": user.role.name,
                "active": user.active,
                "email_verified_at": user.email_verified_at,
                "created_at": user.created_at,
                "last_login_at": user.last_login_at,
                "second_factor": user.totp_enabled_at is not None,
            }
        )
    return [Section("account", _l("Account"), COLUMNS, rows)]


def search(term, limit):
    return search_rows(term, limit, User.email, User.name)


def close(user, email):
    """The account can no longer sign in: no password, no session, no second factor."""
    revoke_all_sessions(user)
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.email = email
    user.name = ""
    user.active = False
    user.password_hash = NO_PASSWORD + secrets.token_urlsafe(18)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.email_verified_at = None


def blockers(person):
    if person.user is not None and person.user.role > Role.member:
        return [_l("This is a staff account: take its role away first.")]
    return []


def erase(person, placeholder):
    if person.user is None:
        return {}
    close(person.user, placeholder)
    # The browsers it signed in from are personal too; revoked is not enough.
    gone = db.session.execute(
        sa.delete(LoginSession).where(LoginSession.user_id == person.user.id)
    ).rowcount
    return {"accounts": 1, "sign_in_sessions": gone}


def merge(source, target):
    """B's account becomes A's if A has none (core.people hands it over as the target's);
    otherwise it is closed and A's stays."""
    # A staff account is never moved nor merged into: moving it to another address would
    # hand its sign-in (a password reset) to whoever reads that address.
    if any(user is not None and user.role > Role.member for user in (source.user, target.user)):
        raise CannotMerge(_l("This is a staff account: take its role away first."))
    if source.user is None:
        return {}
    if target.user is source.user:
        source.user.email = target.email
        source.user.email_verified_at = None
        return {"accounts_moved": 1}
    close(source.user, f"merged-{source.user.id}@{MERGED_DOMAIN}")
    return {"accounts_closed": 1}


provider = Provider(
    "accounts", sections, search=search, blockers=blockers, erase=erase, merge=merge, order=0
)
