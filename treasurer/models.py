"""The treasurer's own rows: how each payout was checked, and who reconciled it."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, db
from payments.models import Payout


class PayoutCheck(enum.StrEnum):
    """What the lines of a payout say, checked against our records."""

    pending = "pending"  # its lines are not fetched yet
    balanced = "balanced"
    unmatched = "unmatched"
    mismatch = "mismatch"


class PayoutReview(TimestampMixin, db.Model):
    """The treasurer's view of one payout: its check, reconciliation, note and frozen lines.

    Once reconciled, the payout is frozen: its lines' count, net and digest are kept, and
    fetching its lines again only compares (a difference is a discrepancy, never a change).
    """

    __tablename__ = "payout_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(
        sa.ForeignKey("payout.id", ondelete="CASCADE"), unique=True
    )
    check: Mapped[PayoutCheck] = mapped_column(
        sa.Enum(PayoutCheck, native_enum=False, length=20, create_constraint=True, name="check"),
        default=PayoutCheck.pending,
        index=True,
    )
    line_count: Mapped[int] = mapped_column(default=0)
    unmatched_count: Mapped[int] = mapped_column(default=0)
    lines_net: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    gross: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reconciled_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    reconciled_by: Mapped[str | None] = mapped_column(sa.String(254))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    frozen_count: Mapped[int | None]
    frozen_net: Mapped[int | None] = mapped_column(sa.BigInteger)
    frozen_digest: Mapped[str | None] = mapped_column(sa.String(64))
    discrepancy_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    discrepancy: Mapped[str | None] = mapped_column(sa.Text)

    payout: Mapped[Payout] = relationship()

    @property
    def is_reconciled(self):
        return self.reconciled_at is not None
