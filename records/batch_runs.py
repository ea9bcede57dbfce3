"""A record of every batch: when it ran, how it ended and its counts (for operators and audits)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_records.tables import batch_runs


def record_batch(
    engine: Engine, started_at: datetime, finished_at: datetime, status: str, counts: dict[str, Any]
) -> str:
    """Store one finished batch; returns its id."""
    run_id = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(
            sa.insert(batch_runs).values(
                id=run_id, started_at=started_at, finished_at=finished_at, status=status, counts=counts
            )
        )
    return run_id


def recent_batches(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The newest batches first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(batch_runs).order_by(batch_runs.c.started_at.desc()).limit(limit))
        return [dict(row._mapping) for row in rows]  # noqa: SLF001 - SQLAlchemy's public Row API
