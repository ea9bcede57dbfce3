"""Server-side sessions of the review web app and persisted sign-in failures (throttling).

Revision ID: complaints_0002
Revises: complaints_0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "complaints_0002"
down_revision = "complaints_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_complaint_sessions_username"), "complaint_sessions", ["username"], unique=False)
    op.create_table(
        "complaint_signin_failures",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_hash"),
    )


def downgrade() -> None:
    op.drop_table("complaint_signin_failures")
    op.drop_index(op.f("ix_complaint_sessions_username"), table_name="complaint_sessions")
    op.drop_table("complaint_sessions")
