"""The mentions store: the system of record of every mention, and the outbox that keeps the index in step.

A source's new mentions, their pending-hook marks and the source's cursor are written in one transaction
(`commit_source`): a cursor never moves past a mention that is not on disk. The index is derived from these rows.
Each row carries an index state:

- 0: stored, not in the index yet (the index was down, refused it, or the batch died before indexing);
- 1: the index acknowledged it; the next run checks that it is really there (an embedded server may acknowledge
  before it persists, and lose the write if it is killed), and sets it back to 0 if not;
- 2: found in the index by a later run.

Documents are kept as the index receives them, less the per-language copy of the text (the indexer adds that),
with their language and classification labels, so a re-index needs no model.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_records.bulk_rows import insert_rows, max_params, placeholder, select_in
from earful_records.cursors import save_cursor_in
from earful_records.near_dups import store_bands_in
from earful_records.pending import add_pending_in
from earful_records.tables import mentions, pending_hooks

_CHUNK = 1000  # ids per IN (...): under SQLite's and PostgreSQL's parameter limits

UNINDEXED, ACKNOWLEDGED, VERIFIED = 0, 1, 2

Document = dict[str, Any]


def _epoch(value: object) -> int | None:
    if not value:
        return None
    return int(datetime.fromisoformat(str(value)).timestamp())


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _known_in(conn: Connection, ids: Sequence[str]) -> set[str]:
    return {str(row[0]) for row in select_in(conn, "SELECT id FROM mentions WHERE id IN ({marks})", list(ids))}


def known_ids(engine: Engine, ids: Sequence[str]) -> set[str]:
    """Which of `ids` are stored already."""
    with engine.connect() as conn:
        return _known_in(conn, ids)


_COLUMNS = (
    "id",
    "source",
    "source_kind",
    "author_ref",
    "author_raw",
    "published_epoch",
    "fetched_epoch",
    "stored_epoch",
    "index_state",
    "document",
)


def _insert_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    # Through the driver, many rows per statement, with the JSON already encoded: this runs for every mention of
    # every batch (records.bulk_rows says why not executemany). ON CONFLICT (id) only: a row stored meanwhile by
    # another batch is skipped, a broken row still fails.
    insert_rows(conn, "mentions", _COLUMNS, rows, conflict_key="id")


def commit_source(
    engine: Engine,
    source_id: str,
    cursor: dict[str, Any] | None,
    documents: Sequence[tuple[str, Document]],
    bands: Sequence[tuple[str, Sequence[int]]] = (),
    now: float | None = None,
    acknowledged: Sequence[str] = (),
) -> list[str]:
    """Store a source's mentions ((id, document) pairs) and their near-duplicate band keys ((id, bands) pairs),
    mark them pending for the post-index hooks and move the source's cursor (None: leave it), all in one
    transaction. Returns the ids stored now (not stored before).

    `acknowledged`: earlier stored mentions the index has taken since, noted (ACKNOWLEDGED) in the same
    transaction, so that a batch commits once per source rather than twice."""
    epoch = int(now if now is not None else time.time())
    with engine.begin() as conn:
        existing = _known_in(conn, [doc_id for doc_id, _ in documents])
        rows = []
        for doc_id, doc in documents:
            if doc_id in existing:
                continue
            existing.add(doc_id)  # a source listing one item twice
            rows.append(
                (
                    doc_id,
                    doc["source"],
                    doc["source_kind"],
                    doc.get("author_ref"),
                    doc.get("author_raw"),
                    _epoch(doc.get("published_at")),
                    _epoch(doc["fetched_at"]) or epoch,
                    epoch,
                    UNINDEXED,
                    orjson.dumps(doc).decode(),
                )
            )
        stored = [row[0] for row in rows]
        if rows:
            _insert_rows(conn, rows)
            add_pending_in(conn, stored, now=epoch)
            new = set(stored)
            store_bands_in(conn, [(doc_id, b) for doc_id, b in bands if doc_id in new], now=epoch)
        if cursor is not None:
            save_cursor_in(conn, source_id, cursor)
        _set_state_in(conn, acknowledged, ACKNOWLEDGED)
    return stored


def _set_state_in(conn: Connection, ids: Sequence[str], state: int) -> None:
    mark, size = placeholder(conn), max_params(conn) - 1
    for start in range(0, len(ids), size):
        part = tuple(ids[start : start + size])
        marks = ", ".join([mark] * len(part))
        # placeholders only; the ids are bound
        conn.exec_driver_sql(f"UPDATE mentions SET index_state = {mark} WHERE id IN ({marks})", (state, *part))  # noqa: S608


def set_index_state(engine: Engine, ids: Sequence[str], state: int) -> None:
    """Record what the index did with these mentions."""
    if not ids:
        return
    with engine.begin() as conn:
        _set_state_in(conn, ids, state)


def ids_in_state(engine: Engine, state: int) -> list[str]:
    """Every stored mention id in one index state, in id order."""
    return [i for page in iter_ids(engine, state) for i in page]


def iter_ids(engine: Engine, state: int, page: int = 10_000) -> Iterator[list[str]]:
    """The stored mention ids in one index state, a page at a time, in id order."""
    after = ""
    while True:
        query = (
            sa.select(mentions.c.id)
            .where(mentions.c.index_state == state, mentions.c.id > after)
            .order_by(mentions.c.id)
            .limit(page)
        )
        with engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        if not ids:
            return
        yield ids
        after = ids[-1]


def count_by_state(engine: Engine) -> dict[int, int]:
    """How many stored mentions are in each index state."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(mentions.c.index_state, sa.func.count()).group_by(mentions.c.index_state))
        return {int(state): int(n) for state, n in rows}


def stored_documents(engine: Engine, ids: Sequence[str]) -> dict[str, Document]:
    """The stored documents of these ids (those that are stored), by id."""
    found: dict[str, Document] = {}
    with engine.connect() as conn:
        for part in _chunks(ids):
            rows = conn.execute(sa.select(mentions.c.id, mentions.c.document).where(mentions.c.id.in_(part)))
            found.update((row.id, dict(row.document)) for row in rows)
    return found


def iter_documents(
    engine: Engine, *, state: int | None = None, page: int = 1000
) -> Iterator[list[tuple[str, Document]]]:
    """Every stored document (or those in one index state), a page of (id, document) pairs at a time, by id."""
    after = ""
    while True:
        query = sa.select(mentions.c.id, mentions.c.document).where(mentions.c.id > after)
        if state is not None:
            query = query.where(mentions.c.index_state == state)
        with engine.connect() as conn:
            rows = [(row.id, dict(row.document)) for row in conn.execute(query.order_by(mentions.c.id).limit(page))]
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def delete_mentions(engine: Engine, where: sa.ColumnElement[bool]) -> list[str]:
    """Delete the stored mentions matching `where` (a condition on `records.tables.mentions`) and their
    pending-hook marks; returns their ids."""
    with engine.begin() as conn:
        ids = list(conn.execute(sa.select(mentions.c.id).where(where)).scalars())
        for part in _chunks(ids):
            conn.execute(sa.delete(pending_hooks).where(pending_hooks.c.mention_id.in_(part)))
            conn.execute(sa.delete(mentions).where(mentions.c.id.in_(part)))
    return ids


def older_than(cutoff_epoch: int) -> sa.ColumnElement[bool]:
    """Mentions published before the cutoff, or fetched before it when they carry no publication time."""
    c = mentions.c
    return sa.or_(
        c.published_epoch < cutoff_epoch, sa.and_(c.published_epoch.is_(None), c.fetched_epoch < cutoff_epoch)
    )


def by_author(source_kind: str, author_refs: Sequence[str], raw_handles: Sequence[str]) -> sa.ColumnElement[bool]:
    """Mentions of one author on one source kind, by pseudonyms or (where raw handles were kept) by handle."""
    c = mentions.c
    return sa.and_(
        c.source_kind == source_kind, sa.or_(c.author_ref.in_(list(author_refs)), c.author_raw.in_(list(raw_handles)))
    )
