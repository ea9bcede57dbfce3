"""Mentions whose post-index hooks (alerts) have not run yet.

Revision ID: records_0004
Revises: records_0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "records_0004"
down_revision = "records_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_hooks",
        sa.Column("mention_id", sa.String(64), primary_key=True),
        sa.Column("created_epoch", sa.BigInteger, nullable=False),  # seconds, UTC
    )


def downgrade() -> None:
    op.drop_table("pending_hooks")
