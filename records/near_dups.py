"""Band keys of recently indexed mentions, so a new mention finds near-duplicate candidates from earlier batches.

Kept in the records database rather than the index: a look-up by key is an index seek here, and the table is
pruned to a window of days, so it stays small whatever the size of the mention index. Rows go in through the
driver's executemany with epoch-second timestamps: this runs for every indexed mention.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_records.tables import near_dup_bands

_CHUNK = 2000  # keys per IN (...) query: under SQLite's and PostgreSQL's parameter limits


def find_band_owners(engine: Engine, bands: Iterable[str]) -> list[tuple[str, str]]:
    """(band, mention id) pairs stored for any of `bands`, oldest first."""
    unique = sorted(set(bands))
    rows: list[tuple[str, str, int]] = []
    table = near_dup_bands.c
    with engine.connect() as conn:
        for start in range(0, len(unique), _CHUNK):
            query = sa.select(table.band, table.mention_id, table.created_epoch).where(
                table.band.in_(unique[start : start + _CHUNK])
            )
            rows.extend(tuple(row) for row in conn.execute(query))
    rows.sort(key=lambda row: row[2])
    return [(band, mention_id) for band, mention_id, _ in rows]


def store_bands(engine: Engine, items: Sequence[tuple[str, Sequence[str]]], now: float | None = None) -> None:
    """Remember the band keys of stored mentions ((mention id, bands) pairs); storing again is harmless."""
    with engine.begin() as conn:
        store_bands_in(conn, items, now)


def store_bands_in(conn: Connection, items: Sequence[tuple[str, Sequence[str]]], now: float | None = None) -> None:
    """`store_bands` in the caller's transaction (the one that stores the mentions)."""
    epoch = int(now if now is not None else time.time())
    rows = [(band, mention_id, epoch) for mention_id, bands in items for band in bands]
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        sql = "INSERT OR IGNORE INTO near_dup_bands (band, mention_id, created_epoch) VALUES (?, ?, ?)"
    else:
        sql = "INSERT INTO near_dup_bands (band, mention_id, created_epoch) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING"
    conn.exec_driver_sql(sql, rows)


def prune_bands(engine: Engine, older_than_days: int, now: float | None = None) -> int:
    """Forget band keys older than the window; returns how many rows went."""
    cutoff = int((now if now is not None else time.time()) - older_than_days * 86400)
    with engine.begin() as conn:
        return conn.execute(sa.delete(near_dup_bands).where(near_dup_bands.c.created_epoch < cutoff)).rowcount
