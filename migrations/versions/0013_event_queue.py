"""payments: the worker's queue of Stripe events indexed by what still waits

Revision ID: 0013_event_queue
Revises: 0012_donations
Create Date: 2026-12-01 03:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_event_queue"
down_revision = "0012_donations"
branch_labels = None
depends_on = None

WAITING = sa.text("processed_at IS NULL AND given_up_at IS NULL")


def upgrade():
    op.create_index(
        "ix_stripe_event_waiting_order",
        "stripe_event",
        ["created", "received_at", "id"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )
    op.create_index(
        "ix_stripe_event_waiting_object",
        "stripe_event",
        ["object_id", "created"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade():
    op.drop_index("ix_stripe_event_waiting_object", table_name="stripe_event")
    op.drop_index("ix_stripe_event_waiting_order", table_name="stripe_event")
