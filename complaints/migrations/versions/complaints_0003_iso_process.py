"""The rest of the ISO 10002 process: immediate action, contact details, investigation depth, internal
escalation, corrective action follow-up, recourse and satisfaction at closing, retention; the view log, the
communication log, management reviews and improvement actions.

Revision ID: complaints_0003
Revises: complaints_0002
Create Date: 2026-12-01
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "complaints_0003"
down_revision = "complaints_0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
NEW_COLUMNS: list[tuple[str, sa.types.TypeEngine[Any]]] = [
    ("complainant_name", sa.String(length=300)),
    ("complainant_email", sa.String(length=300)),
    ("complainant_phone", sa.String(length=64)),
    ("immediate_action", sa.Text()),
    ("investigation_depth", sa.String(length=16)),
    ("escalated_to", sa.String(length=100)),
    ("escalated_by", sa.String(length=100)),
    ("escalated_at", TS),
    ("escalation_reason", sa.Text()),
    ("corrective_action", sa.Text()),
    ("corrective_owner", sa.String(length=100)),
    ("corrective_due", TS),
    ("corrective_status", sa.String(length=16)),
    ("corrective_followup", sa.Text()),
    ("corrective_checked_at", TS),
    ("satisfaction_score", sa.Integer()),
    ("recourse_offered", sa.String(length=64)),
    ("retain_until", TS),
    ("redacted_at", TS),
]


def upgrade() -> None:
    # One ALTER TABLE ... ADD COLUMN each (SQLite allows no more), nullable: existing records stay as they are.
    for name, type_ in NEW_COLUMNS:
        op.add_column("complaints", sa.Column(name, type_, nullable=True))
    op.create_table(
        "complaint_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_complaint_views_complaint_id"), "complaint_views", ["complaint_id"], unique=False)
    op.create_table(
        "complaint_communications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("counterpart", sa.String(length=300), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_complaint_communications_complaint_id"), "complaint_communications", ["complaint_id"], unique=False
    )
    op.create_table(
        "complaint_reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("held_on", TS, nullable=False),
        sa.Column("attendees", sa.String(length=300), nullable=True),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "complaint_improvements",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("due", TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("effectiveness_check", sa.Text(), nullable=True),
        sa.Column("checked_by", sa.String(length=100), nullable=True),
        sa.Column("checked_at", TS, nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["complaint_reviews.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("complaint_improvements")
    op.drop_table("complaint_reviews")
    op.drop_index(op.f("ix_complaint_communications_complaint_id"), table_name="complaint_communications")
    op.drop_table("complaint_communications")
    op.drop_index(op.f("ix_complaint_views_complaint_id"), table_name="complaint_views")
    op.drop_table("complaint_views")
    with op.batch_alter_table("complaints") as batch:
        for name, _ in reversed(NEW_COLUMNS):
            batch.drop_column(name)
