"""outbox attachments drawn when the email is sent

Revision ID: 0008
Revises: 0003
Create Date: 2026-11-30 16:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("renderer", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=True)


def downgrade():
    # An attachment still to be drawn has no bytes for the old schema: its email goes without it.
    op.execute("DELETE FROM outbox_attachment WHERE content IS NULL")
    with op.batch_alter_table("outbox_attachment", schema=None) as batch_op:
        batch_op.alter_column("content", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("params")
        batch_op.drop_column("renderer")
