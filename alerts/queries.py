"""Reading the outbox for people: alert lists with delivery state, one alert with every attempt."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_alerts.tables import alert_attempts, alert_deliveries, alerts
from earful_common.errors import NotFound
from earful_common.processes import token_owner_gone

FAILED_STATES = ("parked",)


class AlertNotFound(NotFound, LookupError):
    """No alert (or more than one) matches the given id or id prefix."""


def abandoned(delivery: dict[str, Any], now: datetime) -> bool:
    """A delivery left "sending" by a sender that is gone (this host: its pid ended) or whose lease ran out."""
    return delivery["status"] == "sending" and (
        token_owner_gone(delivery.get("claimed_by")) or delivery["next_attempt_at"] <= now
    )


def failing(delivery: dict[str, Any]) -> bool:
    """Parked, retrying after a failed attempt, or abandoned by its sender."""
    return (
        delivery["status"] in FAILED_STATES
        or delivery["abandoned"]
        or (delivery["status"] == "pending" and delivery["attempts"] > 0)
    )


def list_alerts(engine: Engine, *, failed: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    """Newest alerts first, each with its deliveries' states; `failed`: only alerts with a parked or retrying
    delivery, or one a killed sender left "sending" (marked `abandoned`)."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        stmt = sa.select(alerts).order_by(alerts.c.updated_at.desc())
        if failed:
            bad = sa.select(alert_deliveries.c.alert_id).where(
                sa.or_(
                    alert_deliveries.c.status.in_(FAILED_STATES),
                    alert_deliveries.c.status == "sending",
                    sa.and_(alert_deliveries.c.status == "pending", alert_deliveries.c.attempts > 0),
                )
            )
            stmt = stmt.where(alerts.c.id.in_(bad))
        else:
            stmt = stmt.limit(limit)
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        deliveries = (
            conn.execute(sa.select(alert_deliveries).where(alert_deliveries.c.alert_id.in_([r["id"] for r in rows])))
            .mappings()
            .all()
        )
    by_alert: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in deliveries:
        by_alert[d["alert_id"]].append({**dict(d), "abandoned": abandoned(dict(d), now)})
    for row in rows:
        row["deliveries"] = by_alert.get(row["id"], [])
    if failed:  # a delivery "sending" right now, by a live sender, is not a failure
        rows = [row for row in rows if any(failing(d) for d in row["deliveries"])][:limit]
    return rows


def resolve_id(engine: Engine, id_or_prefix: str) -> str:
    """The full alert id for an id or a unique prefix (with or without the 'al-')."""
    needle = id_or_prefix if id_or_prefix.startswith("al-") else f"al-{id_or_prefix}"
    with engine.connect() as conn:
        ids = (
            conn.execute(sa.select(alerts.c.id).where(alerts.c.id.startswith(needle, autoescape=True)).limit(2))
            .scalars()
            .all()
        )
    if len(ids) != 1:
        raise AlertNotFound(f"no alert {id_or_prefix}" if not ids else f"{id_or_prefix} matches several alerts")
    return ids[0]


def alert_detail(engine: Engine, alert_id: str) -> dict[str, Any]:
    """One alert with its deliveries and every attempt."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).mappings().first()
        if row is None:
            raise AlertNotFound(f"no alert {alert_id}")
        deliveries = [
            dict(d)
            for d in conn.execute(
                sa.select(alert_deliveries)
                .where(alert_deliveries.c.alert_id == alert_id)
                .order_by(alert_deliveries.c.id)
            ).mappings()
        ]
        for d in deliveries:
            d["attempt_log"] = [
                dict(a)
                for a in conn.execute(
                    sa.select(alert_attempts)
                    .where(alert_attempts.c.delivery_id == d["id"])
                    .order_by(alert_attempts.c.id)
                ).mappings()
            ]
    return {**dict(row), "deliveries": deliveries}
