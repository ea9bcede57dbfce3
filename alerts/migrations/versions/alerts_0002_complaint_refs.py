"""Remember which mention hits still have to open a complaint, and the complaint they opened.

Revision ID: alerts_0002
Revises: alerts_0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "alerts_0002"
down_revision = "alerts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_mention_hits") as batch:
        batch.add_column(sa.Column("complaint_pending", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("complaint_ref", sa.String(200)))
        batch.add_column(sa.Column("topic", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("alert_mention_hits") as batch:
        batch.drop_column("topic")
        batch.drop_column("complaint_ref")
        batch.drop_column("complaint_pending")
