"""treasurer: payout reviews, second factor for staff, indexes for the treasurer's pages

Revision ID: 0010_treasurer
Revises: 0009
Create Date: 2026-11-30 19:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_treasurer"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))

    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_recovery_code_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_code_user_id"), ["user_id"], unique=False)

    op.create_table(
        "payout_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column(
            "check",
            sa.Enum(
                "pending",
                "balanced",
                "unmatched",
                "mismatch",
                name="check",
                native_enum=False,
                length=20,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("unmatched_count", sa.Integer(), nullable=False),
        sa.Column("lines_net", sa.BigInteger(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(), nullable=True),
        sa.Column("reconciled_by_id", sa.Integer(), nullable=True),
        sa.Column("reconciled_by", sa.String(length=254), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("frozen_count", sa.Integer(), nullable=True),
        sa.Column("frozen_net", sa.BigInteger(), nullable=True),
        sa.Column("frozen_digest", sa.String(length=64), nullable=True),
        sa.Column("discrepancy_at", sa.DateTime(), nullable=True),
        sa.Column("discrepancy", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payout.id"], name=op.f("fk_payout_review_payout_id_payout"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reconciled_by_id"], ["user.id"], name=op.f("fk_payout_review_reconciled_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_review")),
        sa.UniqueConstraint("payout_id", name=op.f("uq_payout_review_payout_id")),
    )
    with op.batch_alter_table("payout_review", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_review_check"), ["check"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payout_review_reconciled_at"), ["reconciled_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payout_review_discrepancy_at"), ["discrepancy_at"], unique=False
        )

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_paid_at"), ["paid_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_amount"), ["amount"], unique=False)
    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.create_index("ix_payout_line_payout_order", ["payout_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.drop_index("ix_payout_line_payout_order")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_amount"))
        batch_op.drop_index(batch_op.f("ix_payment_email"))
        batch_op.drop_index(batch_op.f("ix_payment_paid_at"))
    with op.batch_alter_table("payout_review", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_review_discrepancy_at"))
        batch_op.drop_index(batch_op.f("ix_payout_review_reconciled_at"))
        batch_op.drop_index(batch_op.f("ix_payout_review_check"))
    op.drop_table("payout_review")
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_user_id"))
    op.drop_table("recovery_code")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
