"""Record which process claimed a delivery, so a sender killed mid-send is seen at once, not after the lease.

Revision ID: alerts_0003
Revises: alerts_0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "alerts_0003"
down_revision = "alerts_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("alert_deliveries") as batch:
        batch.drop_column("claimed_by")
