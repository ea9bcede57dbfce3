"""Per-source cursors: where each source left off. They move only after the index accepted the batch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_records.tables import source_cursors


def load_cursor(engine: Engine, source_id: str) -> dict[str, Any] | None:
    """The stored cursor of one source, or None before its first successful batch."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(source_cursors.c.cursor).where(source_cursors.c.source_id == source_id)).first()
    return None if row is None else dict(row[0])


def save_cursor(engine: Engine, source_id: str, cursor: dict[str, Any]) -> None:
    """Store (insert or replace) the cursor of one source."""
    with engine.begin() as conn:
        save_cursor_in(conn, source_id, cursor)


def save_cursor_in(conn: Connection, source_id: str, cursor: dict[str, Any]) -> None:
    """Store the cursor of one source in the caller's transaction (with what it must commit together with)."""
    now = datetime.now(UTC)
    updated = conn.execute(
        sa.update(source_cursors).where(source_cursors.c.source_id == source_id).values(cursor=cursor, updated_at=now)
    )
    if updated.rowcount == 0:
        conn.execute(sa.insert(source_cursors).values(source_id=source_id, cursor=cursor, updated_at=now))


def all_cursors(engine: Engine) -> dict[str, dict[str, Any]]:
    """Every stored cursor by source id."""
    with engine.connect() as conn:
        return {row.source_id: dict(row.cursor) for row in conn.execute(sa.select(source_cursors))}
