"""boundary: a future first charge, the worker's event schedule, monthly gift columns in our words

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 15:30:00

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_charge_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("series_ended_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("given_up_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_stripe_event_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    # Events stored but never handled are the worker's to pick up at once.
    op.execute("UPDATE stripe_event SET next_attempt_at = received_at WHERE processed_at IS NULL")

    with op.batch_alter_table("monthly_gift", schema=None) as batch_op:
        batch_op.alter_column("cancel_at_period_end", new_column_name="ends_at_period_end")
        batch_op.alter_column("current_period_end", new_column_name="paid_through")
        batch_op.alter_column("last_failed_invoice", new_column_name="last_failed_renewal")


def downgrade():
    with op.batch_alter_table("monthly_gift", schema=None) as batch_op:
        batch_op.alter_column("last_failed_renewal", new_column_name="last_failed_invoice")
        batch_op.alter_column("paid_through", new_column_name="current_period_end")
        batch_op.alter_column("ends_at_period_end", new_column_name="cancel_at_period_end")

    with op.batch_alter_table("stripe_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stripe_event_next_attempt_at"))
        batch_op.drop_column("given_up_at")
        batch_op.drop_column("next_attempt_at")

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_column("series_ended_at")
        batch_op.drop_column("first_charge_at")
