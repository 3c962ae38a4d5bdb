"""members: the province each membership's dues were taxed in, kept with the dues

Revision ID: 0015_dues_tax_province
Revises: 0014_people
Create Date: 2026-12-01 10:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_dues_tax_province"
down_revision = "0014_people"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("membership_dues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("tax_province", sa.String(length=50), nullable=False, server_default="")
        )
    # Dues already recorded take the member's address as it stands: the best there is.
    op.execute(
        sa.text(
            "UPDATE membership_dues SET tax_province = COALESCE(("
            "SELECT membership.province FROM membership "
            "WHERE membership.id = membership_dues.membership_id AND membership.country = 'CA'"
            "), '')"
        )
    )


def downgrade():
    with op.batch_alter_table("membership_dues", schema=None) as batch_op:
        batch_op.drop_column("tax_province")
