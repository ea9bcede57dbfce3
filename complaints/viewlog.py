"""Who opened which record (ISO 10002 8.1, and GDPR accountability): a plain append-only log beside the chain.

Views are not events of the hash chain: reading must not change a record's version, and a busy queue would
otherwise drown the history in page views.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.clock import utc
from earful_complaints.tables import complaint_views


def log_view(engine: Engine, complaint_id: int, username: str, now: datetime) -> None:
    """Note that `username` opened the record."""
    with engine.begin() as conn:
        conn.execute(sa.insert(complaint_views).values(complaint_id=complaint_id, username=username, at=utc(now)))


def recent_views(engine: Engine, complaint_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Who viewed one record: each person once, with their latest view and how many, most recent first."""
    v = complaint_views.c
    last = sa.func.max(v.at).label("at")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(v.username, last, sa.func.count().label("views"))
            .where(v.complaint_id == complaint_id)
            .group_by(v.username)
            .order_by(last.desc(), v.username)
            .limit(limit)
        ).mappings()
        return [dict(r) for r in rows]


def views_of(engine: Engine, complaint_id: int) -> list[dict[str, Any]]:
    """Every view of one record, oldest first (for an access report)."""
    v = complaint_views.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(v.username, v.at).where(v.complaint_id == complaint_id).order_by(v.id))
        return [dict(r) for r in rows.mappings()]
