"""donations: receipt serials restart each tax year; an API gift's Idempotency-Key

Revision ID: 0012_donations
Revises: 0009
Create Date: 2026-11-30 20:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_donations"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("donation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("request_digest", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_donation_idempotency_key"), ["idempotency_key"]
        )
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_constraint("uq_receipt_serial", type_="unique")
        batch_op.create_unique_constraint("uq_receipt_year_serial", ["year", "serial"])
    # One counter row per tax year (its id is the year), carrying on from the serials
    # already issued in that year, so no number is ever given twice.
    op.execute(
        sa.text(
            "INSERT INTO receipt_counter (id, last_serial) "
            "SELECT year, MAX(serial) FROM receipt WHERE serial IS NOT NULL GROUP BY year"
        )
    )


def downgrade():
    op.execute(sa.text("DELETE FROM receipt_counter WHERE id <> 1"))
    with op.batch_alter_table("receipt", schema=None) as batch_op:
        batch_op.drop_constraint("uq_receipt_year_serial", type_="unique")
        batch_op.create_unique_constraint("uq_receipt_serial", ["serial"])
    with op.batch_alter_table("donation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_donation_idempotency_key"), type_="unique")
        batch_op.drop_column("request_digest")
        batch_op.drop_column("idempotency_key")
