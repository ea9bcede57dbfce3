"""Near-duplicate band keys of recently indexed mentions.

Revision ID: records_0003
Revises: records_0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "records_0003"
down_revision = "records_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "near_dup_bands",
        sa.Column("band", sa.String(20), primary_key=True),
        sa.Column("mention_id", sa.String(64), primary_key=True),
        sa.Column("created_epoch", sa.BigInteger, nullable=False, index=True),  # seconds, UTC
    )


def downgrade() -> None:
    op.drop_table("near_dup_bands")
