"""Monthly read budgets of paid APIs (X): reads counted per budget key and calendar month.

Revision ID: records_0002
Revises: records_0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "records_0002"
down_revision = "records_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "x_read_budget",
        sa.Column("budget_key", sa.String(100), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("used", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("x_read_budget")
