"""people: addresses merged into another person's record

Revision ID: 0014_people
Revises: 0013_event_queue
Create Date: 2026-12-01 06:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_people"
down_revision = "0013_event_queue"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "person_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("into_email", sa.String(length=254), nullable=False),
        sa.Column("merged_at", sa.DateTime(), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["merged_by_id"],
            ["user.id"],
            name=op.f("fk_person_alias_merged_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_alias")),
        sa.UniqueConstraint("email", name=op.f("uq_person_alias_email")),
    )
    with op.batch_alter_table("person_alias", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_alias_into_email"), ["into_email"], unique=False)


def downgrade():
    with op.batch_alter_table("person_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_alias_into_email"))
    op.drop_table("person_alias")
