"""Mentions waiting for their post-index hooks (alerts), so that a crash never skips them.

A mention is marked pending before it is indexed and cleared once the hooks ran over it. A batch that dies after
indexing leaves it pending; the next batch sees it as already indexed (so it is not new), but runs its hooks from
this list. Hooks are idempotent by key, so running them twice raises nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Engine

from records.tables import pending_hooks

_CHUNK = 1000


def add_pending(engine: Engine, mention_ids: Sequence[str], now: float | None = None) -> list[str]:
    """Mark mentions as waiting for their hooks; returns the ids that were not marked already."""
    if not mention_ids:
        return []
    epoch = int(now if now is not None else time.time())
    with engine.begin() as conn:
        existing: set[str] = set()
        for start in range(0, len(mention_ids), _CHUNK):
            part = list(mention_ids[start : start + _CHUNK])
            existing.update(conn.execute(
                sa.select(pending_hooks.c.mention_id).where(pending_hooks.c.mention_id.in_(part))).scalars())
        rows = [{"mention_id": mid, "created_epoch": epoch} for mid in dict.fromkeys(mention_ids) if mid not in existing]
        if rows:
            conn.execute(sa.insert(pending_hooks), rows)
    return [row["mention_id"] for row in rows]


def pending_ids(engine: Engine, limit: int = 10_000) -> list[str]:
    """The oldest waiting mentions first."""
    with engine.connect() as conn:
        query = sa.select(pending_hooks.c.mention_id).order_by(pending_hooks.c.created_epoch).limit(limit)
        return list(conn.execute(query).scalars())


def clear_pending(engine: Engine, mention_ids: Sequence[str]) -> None:
    """The hooks ran over these mentions."""
    with engine.begin() as conn:
        for start in range(0, len(mention_ids), _CHUNK):
            conn.execute(sa.delete(pending_hooks).where(
                pending_hooks.c.mention_id.in_(list(mention_ids[start : start + _CHUNK]))))


def drop_stale(engine: Engine, older_than_seconds: int = 86_400, now: float | None = None) -> int:
    """Forget marks of mentions that never made it into the index (refused by it, or never fetched again)."""
    cutoff = int((now if now is not None else time.time()) - older_than_seconds)
    with engine.begin() as conn:
        return conn.execute(sa.delete(pending_hooks).where(pending_hooks.c.created_epoch < cutoff)).rowcount
