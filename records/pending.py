"""Mentions waiting for their post-index hooks (alerts), so that a crash never skips them.

A mention is marked pending in the transaction that stores it (records.mentions.commit_source) and cleared once
the hooks ran over it. A batch that dies anywhere after that leaves it pending; the next batch sees it as already
stored (so it is not new), but runs its hooks from this list once it is indexed. Hooks are idempotent by key, so
running them twice raises nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_records.tables import pending_hooks

_CHUNK = 1000


def add_pending(engine: Engine, mention_ids: Sequence[str], now: float | None = None) -> list[str]:
    """Mark mentions as waiting for their hooks; returns the ids that were not marked already."""
    if not mention_ids:
        return []
    with engine.begin() as conn:
        return add_pending_in(conn, mention_ids, now)


def add_pending_in(conn: Connection, mention_ids: Sequence[str], now: float | None = None) -> list[str]:
    """`add_pending` in the caller's transaction."""
    epoch = int(now if now is not None else time.time())
    existing: set[str] = set()
    for start in range(0, len(mention_ids), _CHUNK):
        part = list(mention_ids[start : start + _CHUNK])
        existing.update(
            conn.execute(sa.select(pending_hooks.c.mention_id).where(pending_hooks.c.mention_id.in_(part))).scalars()
        )
    new = [mid for mid in dict.fromkeys(mention_ids) if mid not in existing]
    if new:
        mark = "?" if conn.dialect.name == "sqlite" else "%s"
        conn.exec_driver_sql(
            f"INSERT INTO pending_hooks (mention_id, created_epoch) VALUES ({mark}, {mark})",  # noqa: S608 - placeholders only
            [(mid, epoch) for mid in new],
        )
    return new


def pending_ids(engine: Engine, limit: int = 10_000) -> list[str]:
    """The oldest waiting mentions first."""
    with engine.connect() as conn:
        query = sa.select(pending_hooks.c.mention_id).order_by(pending_hooks.c.created_epoch).limit(limit)
        return list(conn.execute(query).scalars())


def ready_for_hooks(engine: Engine, limit: int | None = None) -> list[str]:
    """Waiting mentions whose hooks can run, oldest first: those the index has taken, and those marked by an
    earlier version that are not in the records at all (it marked them just before indexing)."""
    from earful_records.tables import mentions

    with engine.connect() as conn:
        query = (
            sa.select(pending_hooks.c.mention_id)
            .select_from(pending_hooks.outerjoin(mentions, mentions.c.id == pending_hooks.c.mention_id))
            .where(sa.or_(mentions.c.id.is_(None), mentions.c.index_state > 0))
            .order_by(pending_hooks.c.created_epoch, pending_hooks.c.mention_id)
        )
        if limit is not None:
            query = query.limit(limit)
        return list(conn.execute(query).scalars())


def clear_pending(engine: Engine, mention_ids: Sequence[str]) -> None:
    """The hooks ran over these mentions."""
    with engine.begin() as conn:
        for start in range(0, len(mention_ids), _CHUNK):
            conn.execute(
                sa.delete(pending_hooks).where(
                    pending_hooks.c.mention_id.in_(list(mention_ids[start : start + _CHUNK]))
                )
            )


def drop_stale(engine: Engine, older_than_seconds: int = 86_400, now: float | None = None) -> int:
    """Forget old marks of mentions that are not in the records (left by a version that marked before storing).

    A stored mention keeps its mark however long the index is away: its hooks run once it is indexed."""
    from earful_records.tables import mentions

    cutoff = int((now if now is not None else time.time()) - older_than_seconds)
    with engine.begin() as conn:
        return conn.execute(
            sa.delete(pending_hooks).where(
                pending_hooks.c.created_epoch < cutoff, ~pending_hooks.c.mention_id.in_(sa.select(mentions.c.id))
            )
        ).rowcount
