"""SQLAlchemy Core tables of the alert outbox (the schema itself is created by Alembic, branch "alerts").

- `alerts`: one row per incident (unique `dedup_key`); updated, not duplicated, when the incident recurs.
- `alert_deliveries`: one row per alert and channel; the sender's work queue (pending -> sent | parked).
- `alert_attempts`: every delivery attempt, with its outcome, for audits and `earful alerts show`.
- `alert_rule_state`: per rule and topic, the open incident and the end of its cooldown.
- `alert_mention_hits`: which mention fired which rule, so that re-running a batch never re-alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData()


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on PostgreSQL and SQLite alike (SQLite returns naive values)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:  # noqa: ARG002 - TypeDecorator's signature
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("dedup_key", sa.String(300), nullable=False, unique=True),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("rule", sa.String(120), nullable=False),
    sa.Column("topic", sa.String(200)),
    sa.Column("severity", sa.String(20), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False, default=1),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("routed_at", UTCDateTime),  # NULL: not yet routed to channels (the sender does it)
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(40), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel", sa.String(100), nullable=False),
    # immediate | digest (waits for the channel's digest) | digest_message (this delivery IS a digest)
    sa.Column("mode", sa.String(20), nullable=False),
    # pending | sending | sent | parked | digested
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("digest_alert_id", sa.String(40)),
    sa.Column("claimed_by", sa.String(200)),  # host:pid:start of the sender holding the "sending" lease
    sa.UniqueConstraint("alert_id", "channel", name="uq_alert_deliveries_alert_channel"),
)

alert_attempts = sa.Table(
    "alert_attempts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("delivery_id", sa.Integer, sa.ForeignKey("alert_deliveries.id", ondelete="CASCADE"), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("duration_ms", sa.Integer, nullable=False),
)

alert_rule_state = sa.Table(
    "alert_rule_state",
    metadata,
    sa.Column("rule", sa.String(120), primary_key=True),
    sa.Column("topic", sa.String(200), primary_key=True),
    sa.Column("alert_id", sa.String(40)),
    sa.Column("incident_started_at", UTCDateTime),
    sa.Column("last_fired_at", UTCDateTime),
    sa.Column("cooldown_until", UTCDateTime),
)

alert_mention_hits = sa.Table(
    "alert_mention_hits",
    metadata,
    sa.Column("rule", sa.String(120), primary_key=True),
    sa.Column("mention_id", sa.String(64), primary_key=True),
    sa.Column("alert_id", sa.String(40), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("complaint_pending", sa.Boolean, nullable=False, default=False),  # open_complaint still to do
    sa.Column("complaint_ref", sa.String(200)),
    sa.Column("topic", sa.String(200)),
)

sa.Index("ix_alert_deliveries_due", alert_deliveries.c.status, alert_deliveries.c.next_attempt_at)
sa.Index("ix_alerts_created_at", alerts.c.created_at)
