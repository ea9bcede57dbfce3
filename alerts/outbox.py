"""The outbox: alerts written idempotently by dedup key, in the caller's transaction.

Writing an alert and the rule state that decided it in one transaction is what makes delivery exactly-once from
the user's point of view: either both are stored (and the sender will deliver the alert, even after a crash) or
neither is (and the next run decides again).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from earful_alerts.config import severity_rank
from earful_alerts.model import AlertDraft
from earful_alerts.tables import alerts


def write_alert(conn: Connection, draft: AlertDraft, now: datetime) -> tuple[str, bool]:
    """Insert the alert, or update the existing one with the same dedup key; returns (alert id, created).

    An update keeps one alert per incident: it counts the occurrence and refreshes the numbers. When the
    severity rises the alert is routed again, so people hear about an escalation (once per channel).
    """
    existing = conn.execute(sa.select(alerts).where(alerts.c.dedup_key == draft.dedup_key)).mappings().first()
    if existing is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    sa.insert(alerts).values(
                        id=draft.id,
                        dedup_key=draft.dedup_key,
                        kind=draft.kind,
                        rule=draft.rule,
                        topic=draft.topic,
                        severity=draft.severity,
                        title=draft.title,
                        summary=draft.summary,
                        details=draft.details,
                        occurrences=1,
                        created_at=now,
                        updated_at=now,
                        routed_at=None,
                    )
                )
            return draft.id, True
        except IntegrityError:  # another process inserted the same incident a moment ago
            existing = conn.execute(sa.select(alerts).where(alerts.c.dedup_key == draft.dedup_key)).mappings().one()
    escalated = severity_rank(draft.severity) > severity_rank(existing["severity"])
    values: dict[str, Any] = {
        "title": draft.title,
        "summary": draft.summary,
        "details": draft.details,
        "occurrences": existing["occurrences"] + 1,
        "updated_at": now,
    }
    if escalated:
        values["severity"] = draft.severity
        values["routed_at"] = None
    conn.execute(sa.update(alerts).where(alerts.c.id == existing["id"]).values(**values))
    return existing["id"], False
