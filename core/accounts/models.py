"""Accounts, their roles, and the server-side sign-in sessions behind Flask-Login."""

import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, db, utcnow


class Role(enum.IntEnum):
    """Who may see what; each role may do everything the ones below it may."""

    member = 1
    moderator = 2
    treasurer = 3
    admin = 4

    @classmethod
    def parse(cls, name):
        try:
            return cls[name]
        except KeyError:
            raise ValueError(
                f"unknown role {name!r}; choose one of {', '.join(r.name for r in cls)}"
            ) from None


class User(TimestampMixin, UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    role: Mapped[Role] = mapped_column(
        sa.Enum(Role, native_enum=False, length=20, create_constraint=True, name="role"),
        default=Role.member,
    )
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The second factor (TOTP) that treasurers and admins sign in with; see core/accounts/totp.py.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time step a code was accepted for, so a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    sessions: Mapped[list["LoginSession"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login reads this; set by the user loader to the session the cookie named.
    current_session = None

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        """The sign-in session's token, not the user id, so a revoked cookie stops working."""
        return self.current_session.token if self.current_session else None

    def has_role(self, role):
        return self.role >= role

    @property
    def is_verified(self):
        return self.email_verified_at is not None

    def __repr__(self):
        return f"<User {self.id} {self.role.name}>"


class LoginSession(db.Model):
    """One signed-in browser. Its token is what the session cookie carries."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(
        sa.String(64), unique=True, default=lambda: secrets.token_urlsafe(32)
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(300), default="")

    user: Mapped[User] = relationship(back_populates="sessions")


class RecoveryCode(db.Model):
    """A one-time code that stands in for the second factor; only its hash is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
