"""The audit log: who did what to which row, and when. Rows are only ever added."""

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (sa.Index("ix_audit_entry_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    actor: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(100), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(50))
    target_id: Mapped[str | None] = mapped_column(sa.String(64))
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(64))


class AppendOnly(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_rewrites(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry):
            raise AppendOnly("the audit log is append-only")


def _current_actor():
    if not has_request_context():
        return None, "system"
    from flask_login import current_user

    if current_user and current_user.is_authenticated:
        return current_user.id, f"{current_user.email}"
    return None, "visitor"


def record(action, target=None, *, data=None, actor=None, actor_id=None):
    """Add an entry to the audit log in the current transaction.

    ``target`` is a model instance (its table and id are kept) or None; ``actor`` names
    a non-person actor such as ``"stripe"`` or ``"cli"``, otherwise the signed-in user.
    """
    if actor is None:
        actor_id, actor = _current_actor()
    if target is not None and target.id is None:
        db.session.flush()
    entry = AuditEntry(
        actor=actor,
        actor_id=actor_id,
        action=action,
        target_type=target.__tablename__ if target is not None else None,
        target_id=str(target.id) if target is not None and target.id is not None else None,
        data=data or {},
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
