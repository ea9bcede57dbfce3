"""Reading the outbox for the listening dashboard: the outbox by state, spikes to mark on charts, the alerts a
mention took part in, and the incident history of a spike."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_alerts.queries import abandoned
from earful_alerts.tables import alert_deliveries, alert_mention_hits, alerts

SPIKE_KINDS = ("volume_spike", "negative_share_spike")
OUTBOX_STATES = ("raised", "pending", "sent", "failed", "parked")


def outbox_state(alert: dict[str, Any], deliveries: list[dict[str, Any]], now: datetime) -> str:
    """One word for where an alert stands: raised (not routed to a channel yet), pending, sent, failed (an
    attempt failed and it will be tried again, or its sender died), parked (out of attempts: retry by hand)."""
    statuses = [d["status"] for d in deliveries]
    if "parked" in statuses:
        return "parked"
    if any((d["status"] == "pending" and d["attempts"] > 0) or abandoned(d, now) for d in deliveries):
        return "failed"
    if alert.get("routed_at") is None and not deliveries:
        return "raised"
    if statuses and all(s in ("sent", "digested") for s in statuses):
        return "sent"
    return "pending"


def outbox(engine: Engine, *, state: str | None = None, topic: str | None = None, limit: int = 100) -> list[dict]:
    """Newest alerts first with their deliveries and `state` (see outbox_state); filtered by state and topic."""
    now = datetime.now(UTC)
    stmt = sa.select(alerts).order_by(alerts.c.updated_at.desc(), alerts.c.id)
    if topic:
        stmt = stmt.where(alerts.c.topic == topic)
    with engine.connect() as conn:
        # A state filter is decided in Python: read a bounded window of recent alerts, not the whole table.
        rows = [dict(r) for r in conn.execute(stmt.limit(limit if state is None else limit * 20)).mappings()]
        ids = [r["id"] for r in rows]
        deliveries = (
            conn.execute(sa.select(alert_deliveries).where(alert_deliveries.c.alert_id.in_(ids))).mappings().all()
            if ids
            else []
        )
    by_alert: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in deliveries:
        by_alert[d["alert_id"]].append(dict(d))
    out = []
    for row in rows:
        row["deliveries"] = sorted(by_alert.get(row["id"], []), key=lambda d: d["channel"])
        row["state"] = outbox_state(row, row["deliveries"], now)
        if state is None or row["state"] == state:
            out.append(row)
    return out[:limit]


def spikes_between(engine: Engine, start: datetime, end: datetime, topic: str | None = None) -> list[dict[str, Any]]:
    """Spike alerts whose window starts in [start, end): id, rule, topic, severity, summary and window start."""
    stmt = (
        sa.select(alerts)
        .where(alerts.c.kind.in_(SPIKE_KINDS), alerts.c.updated_at >= start - timedelta(days=2))
        .order_by(alerts.c.created_at)
    )
    if topic:
        stmt = stmt.where(alerts.c.topic == topic)
    found = []
    with engine.connect() as conn:
        for row in conn.execute(stmt).mappings():
            window = (row["details"] or {}).get("window") or []
            try:
                at = datetime.fromisoformat(window[0]) if window else row["created_at"]
            except (TypeError, ValueError):
                at = row["created_at"]
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            if start <= at < end:
                found.append({**dict(row), "window_start": at})
    return found


def alerts_of_mention(engine: Engine, mention_id: str, recent_spikes: int = 500) -> list[dict[str, Any]]:
    """The alerts a mention took part in, newest first: those it fired (per-mention rules), and the recent spike
    alerts that carry it as an example."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(alerts, alert_mention_hits.c.rule.label("hit_rule"), alert_mention_hits.c.at.label("hit_at"))
            .join(alert_mention_hits, alert_mention_hits.c.alert_id == alerts.c.id)
            .where(alert_mention_hits.c.mention_id == mention_id)
            .order_by(alert_mention_hits.c.at.desc())
        ).mappings()
        found = [dict(r) for r in rows]
        # Examples live in the alert's JSON details; reading the recent spikes is portable across SQLite and
        # PostgreSQL and bounded.
        spikes = conn.execute(
            sa.select(alerts)
            .where(alerts.c.kind.in_(SPIKE_KINDS))
            .order_by(alerts.c.updated_at.desc())
            .limit(recent_spikes)
        ).mappings()
        for row in spikes:
            examples = (row["details"] or {}).get("examples") or []
            if any(isinstance(e, dict) and e.get("id") == mention_id for e in examples):
                found.append({**dict(row), "hit_rule": row["rule"], "hit_at": row["updated_at"]})
    return sorted(found, key=lambda r: r["hit_at"], reverse=True)


def alerted_mention_ids(engine: Engine, limit: int = 10_000) -> list[str]:
    """The most recent mentions that fired an alert (the mentions list's has-alert filter)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(alert_mention_hits.c.mention_id)
                .group_by(alert_mention_hits.c.mention_id)
                .order_by(sa.func.max(alert_mention_hits.c.at).desc())
                .limit(limit)
            ).scalars()
        )


def incident_history(engine: Engine, alert: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
    """The alerts of the same rule and topic, newest first: this spike's earlier and later incidents."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(alerts)
            .where(alerts.c.rule == alert["rule"], alerts.c.topic == alert["topic"])
            .order_by(alerts.c.created_at.desc())
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]
