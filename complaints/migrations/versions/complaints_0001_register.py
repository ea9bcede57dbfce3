"""The complaint register: records, the hash-chained event log, links to mentions and alerts, users.

Revision ID: complaints_0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "complaints_0001"
down_revision = None
branch_labels = ("complaints",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "complaint_ref_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "complaint_users",
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("post_id", sa.String(length=300), nullable=True),
        sa.Column("mention_snapshot", sa.JSON(), nullable=True),
        sa.Column("complainant_ref", sa.String(length=300), nullable=True),
        sa.Column("product_service", sa.String(length=300), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("remedy_sought", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("complaint_probability", sa.Float(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("due_ack", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_response", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ack_channel", sa.String(length=64), nullable=True),
        sa.Column("ack_text", sa.Text(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("impact", sa.String(length=16), nullable=True),
        sa.Column("complexity", sa.String(length=16), nullable=True),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("safety", sa.Boolean(), nullable=True),
        sa.Column("assessed_by", sa.String(length=100), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("investigator", sa.String(length=100), nullable=True),
        sa.Column("investigation_notes", sa.Text(), nullable=True),
        sa.Column("root_cause", sa.String(length=300), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("corrective_action_ref", sa.String(length=200), nullable=True),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("communicated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("communicated_channel", sa.String(length=64), nullable=True),
        sa.Column("communication_text", sa.Text(), nullable=True),
        sa.Column("communicated_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closure_reason", sa.Text(), nullable=True),
        sa.Column("complainant_accepted", sa.Boolean(), nullable=True),
        sa.Column("external_dispute_ref", sa.String(length=200), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("rejected_by", sa.String(length=100), nullable=True),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into", sa.String(length=32), nullable=True),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index(op.f("ix_complaints_received_at"), "complaints", ["received_at"], unique=False)
    op.create_index(op.f("ix_complaints_status"), "complaints", ["status"], unique=False)
    op.create_table(
        "complaint_alerts",
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.String(length=100), nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("complaint_id", "alert_id"),
    )
    op.create_table(
        "complaint_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index(op.f("ix_complaint_events_complaint_id"), "complaint_events", ["complaint_id"], unique=False)
    op.create_table(
        "complaint_mentions",
        sa.Column("mention_id", sa.String(length=64), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
        ),
        sa.PrimaryKeyConstraint("mention_id"),
    )
    op.create_index(op.f("ix_complaint_mentions_complaint_id"), "complaint_mentions", ["complaint_id"], unique=False)
    op.bulk_insert(
        sa.table(
            "complaint_chain_head",
            sa.column("id", sa.Integer),
            sa.column("seq", sa.Integer),
            sa.column("hash", sa.String),
        ),
        [{"id": 1, "seq": 0, "hash": "0" * 64}],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_complaint_mentions_complaint_id"), table_name="complaint_mentions")
    op.drop_table("complaint_mentions")
    op.drop_index(op.f("ix_complaint_events_complaint_id"), table_name="complaint_events")
    op.drop_table("complaint_events")
    op.drop_table("complaint_alerts")
    op.drop_index(op.f("ix_complaints_status"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_received_at"), table_name="complaints")
    op.drop_table("complaints")
    op.drop_table("complaint_users")
    op.drop_table("complaint_ref_counters")
    op.drop_table("complaint_chain_head")
