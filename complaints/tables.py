"""SQLAlchemy Core tables of the complaint register (the schema itself is created by Alembic)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TS = sa.DateTime(timezone=True)

complaints = sa.Table(
    "complaints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ref", sa.String(32), nullable=False, unique=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("status", sa.String(32), nullable=False, index=True),
    # receipt
    sa.Column("origin", sa.String(32), nullable=False),
    sa.Column("received_at", TS, nullable=False, index=True),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("source", sa.String(300)),
    sa.Column("source_url", sa.Text),
    sa.Column("post_id", sa.String(300)),
    sa.Column("mention_snapshot", sa.JSON),
    sa.Column("complainant_ref", sa.String(300)),
    # optional contact details (manual intake; needed to send from the register)
    sa.Column("complainant_name", sa.String(300)),
    sa.Column("complainant_email", sa.String(300)),
    sa.Column("complainant_phone", sa.String(64)),
    sa.Column("product_service", sa.String(300)),
    sa.Column("category", sa.String(64)),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("remedy_sought", sa.Text),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("topic", sa.String(200)),
    sa.Column("complaint_probability", sa.Float),
    # tracking
    sa.Column("owner", sa.String(100)),
    sa.Column("due_ack", TS, nullable=False),
    sa.Column("due_response", TS, nullable=False),
    sa.Column("ack_overdue_at", TS),
    sa.Column("response_overdue_at", TS),
    # acknowledgement
    sa.Column("ack_at", TS),
    sa.Column("ack_channel", sa.String(64)),
    sa.Column("ack_text", sa.Text),
    sa.Column("acknowledged_by", sa.String(100)),
    sa.Column("immediate_action", sa.Text),
    # initial assessment
    sa.Column("severity", sa.String(16)),
    sa.Column("impact", sa.String(16)),
    sa.Column("complexity", sa.String(16)),
    sa.Column("urgency", sa.String(16)),
    sa.Column("safety", sa.Boolean),
    sa.Column("assessed_by", sa.String(100)),
    sa.Column("assessed_at", TS),
    # investigation
    sa.Column("investigator", sa.String(100)),
    sa.Column("investigation_notes", sa.Text),
    sa.Column("root_cause", sa.String(300)),
    sa.Column("evidence", sa.Text),
    sa.Column("investigation_depth", sa.String(16)),
    # internal escalation (to a more senior person; the owner changes to them)
    sa.Column("escalated_to", sa.String(100)),
    sa.Column("escalated_by", sa.String(100)),
    sa.Column("escalated_at", TS),
    sa.Column("escalation_reason", sa.Text),
    # response and decision
    sa.Column("resolution", sa.Text),
    sa.Column("corrective_action_ref", sa.String(200)),
    # corrective action (ISO 9001 10.2) and its follow-up
    sa.Column("corrective_action", sa.Text),
    sa.Column("corrective_owner", sa.String(100)),
    sa.Column("corrective_due", TS),
    sa.Column("corrective_status", sa.String(16)),
    sa.Column("corrective_followup", sa.Text),
    sa.Column("corrective_checked_at", TS),
    sa.Column("decision", sa.Text),
    sa.Column("decided_by", sa.String(100)),
    sa.Column("decided_at", TS),
    sa.Column("communicated_at", TS),
    sa.Column("communicated_channel", sa.String(64)),
    sa.Column("communication_text", sa.Text),
    sa.Column("communicated_by", sa.String(100)),
    # closing and side states
    sa.Column("closed_at", TS),
    sa.Column("closed_by", sa.String(100)),
    sa.Column("closure_reason", sa.Text),
    sa.Column("complainant_accepted", sa.Boolean),
    sa.Column("satisfaction_score", sa.Integer),
    sa.Column("recourse_offered", sa.String(64)),
    sa.Column("external_dispute_ref", sa.String(200)),
    sa.Column("rejection_reason", sa.Text),
    sa.Column("rejected_by", sa.String(100)),
    sa.Column("rejected_at", TS),
    sa.Column("merged_into", sa.String(32)),
    sa.Column("reopen_count", sa.Integer, nullable=False),
    sa.Column("reopened_at", TS),
    sa.Column("reopen_reason", sa.Text),
    # retention (clause 8.1): when a finished record's personal data may be redacted
    sa.Column("retain_until", TS),
    sa.Column("redacted_at", TS),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# Every change to a record, append-only; each event carries the hash of the previous one (one chain for the register).
complaint_events = sa.Table(
    "complaint_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("complaint_id", sa.Integer, sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("ref", sa.String(32), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(32)),
    sa.Column("to_state", sa.String(32)),
    sa.Column("before", sa.JSON, nullable=False),
    sa.Column("after", sa.JSON, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)

# One row: the newest event of the chain, so a removed tail is evident and appends serialize.
complaint_chain_head = sa.Table(
    "complaint_chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

complaint_mentions = sa.Table(
    "complaint_mentions",
    metadata,
    sa.Column("mention_id", sa.String(64), primary_key=True),
    sa.Column("complaint_id", sa.Integer, sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("linked_at", TS, nullable=False),
)

complaint_alerts = sa.Table(
    "complaint_alerts",
    metadata,
    sa.Column("complaint_id", sa.Integer, sa.ForeignKey("complaints.id"), primary_key=True),
    sa.Column("alert_id", sa.String(100), primary_key=True),
    sa.Column("rule", sa.String(100)),
    sa.Column("linked_at", TS, nullable=False),
)

complaint_ref_counters = sa.Table(
    "complaint_ref_counters",
    metadata,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last", sa.Integer, nullable=False),
)

complaint_users = sa.Table(
    "complaint_users",
    metadata,
    sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# Signed-in sessions: the cookie holds a random token, only its SHA-256 is stored (a leaked table signs no one in).
complaint_sessions = sa.Table(
    "complaint_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_seen_at", TS, nullable=False),
)

# Failed sign-ins per client address and per account name; the key is a SHA-256 so that whatever was typed into
# the user name field (sometimes a password) is never stored.
complaint_signin_failures = sa.Table(
    "complaint_signin_failures",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", TS, nullable=False),
)

# Who opened which record page (clause 8.1): a plain log, not the hash chain, so reading never changes a record.
complaint_views = sa.Table(
    "complaint_views",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("complaint_id", sa.Integer, sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("username", sa.String(100), nullable=False),
    sa.Column("at", TS, nullable=False),
)

# The communication with the complainant (clause 7.2-7.8): each entry is also an event of the hash chain.
complaint_communications = sa.Table(
    "complaint_communications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("complaint_id", sa.Integer, sa.ForeignKey("complaints.id"), nullable=False, index=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("direction", sa.String(3), nullable=False),  # in | out
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("counterpart", sa.String(300)),  # e-mail address or phone number, when known
    sa.Column("subject", sa.String(300)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("delivery", sa.String(16), nullable=False),  # logged | sent | failed
    sa.Column("error", sa.String(300)),
    sa.Column("event_seq", sa.Integer),
)

# Management review records (clause 8.7): inputs, decisions, actions.
complaint_reviews = sa.Table(
    "complaint_reviews",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("held_on", TS, nullable=False),
    sa.Column("attendees", sa.String(300)),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("decisions", sa.Text, nullable=False),
    sa.Column("actions", sa.Text),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

# Improvement actions (clause 8.6) with their effectiveness check.
complaint_improvements = sa.Table(
    "complaint_improvements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("origin", sa.String(300)),  # e.g. "review #3" or a recurring root cause
    sa.Column("review_id", sa.Integer, sa.ForeignKey("complaint_reviews.id")),
    sa.Column("owner", sa.String(100), nullable=False),
    sa.Column("due", TS, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | implemented | effective | not_effective
    sa.Column("effectiveness_check", sa.Text),
    sa.Column("checked_by", sa.String(100)),
    sa.Column("checked_at", TS),
    sa.Column("created_by", sa.String(100), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)
