"""Source cursors and batch runs.

Revision ID: records_0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "records_0001"
down_revision = None
branch_labels = ("records",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_cursors",
        sa.Column("source_id", sa.String(300), primary_key=True),
        sa.Column("cursor", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "batch_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("counts", sa.JSON),
    )


def downgrade() -> None:
    op.drop_table("batch_runs")
    op.drop_table("source_cursors")
