"""The public entry point for other packages: raise an alert through the outbox (e.g. overdue complaints)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from earful_alerts.config import SEVERITIES
from earful_alerts.model import AlertDraft
from earful_alerts.outbox import write_alert


def raise_alert(
    engine: Engine,
    *,
    kind: str,
    dedup_key: str,
    severity: str,
    title: str,
    summary: str,
    topic: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Write (or update, by `dedup_key`) an alert in the outbox and return its id.

    Idempotent: calling it again with the same dedup key updates the one alert instead of adding another. The
    alert is routed and delivered like any rule's alert by the next sender run (`deliver_pending`, which the
    batch runs after indexing).
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    if not dedup_key:
        raise ValueError("dedup_key must not be empty")
    draft = AlertDraft(
        kind=kind,
        rule=kind,
        dedup_key=f"{kind}:{dedup_key}",
        severity=severity,
        title=title,
        summary=summary,
        topic=topic,
        details=dict(details or {}),
    )
    with engine.begin() as conn:
        alert_id, _ = write_alert(conn, draft, now or datetime.now(UTC))
    return alert_id
