"""Band keys of recently stored mentions, so a new mention finds near-duplicate candidates from earlier batches.

Kept in the records database rather than the index: a look-up by key is an index seek here, and the table is
pruned to a window of days, so it stays small whatever the size of the mention index.

A band key is an integer: the band's position (0 to BANDS - 1) in the bits from 56 up, a 56-bit hash of the
band below (listeners.dedupe). A mention's keys are one row (`near_dup_signatures`), one indexed column per
position: a look-up by key is a seek in that position's index, and storing a mention is one row, not one per
band (this runs for every stored mention, in the transaction that stores it).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine

from earful_records.bulk_rows import insert_rows, max_params, placeholder
from earful_records.tables import BANDS, near_dup_signatures

POSITION_SHIFT = 56  # a band key's position lies above its 56-bit hash
_TABLE = near_dup_signatures.name
_BAND_COLUMNS = [f"band{position}" for position in range(BANDS)]


def band_position(key: int) -> int:
    """The position (column) of a band key; ValueError for a key that has none."""
    position = key >> POSITION_SHIFT
    if not 0 <= position < BANDS:
        raise ValueError(f"band key {key} has no band position (0 to {BANDS - 1} in the bits from 56 up)")
    return position


def _lookups(conn: Connection, by_position: dict[int, list[int]]) -> Iterator[tuple[str, list[int]]]:
    """WHERE clauses (an OR of IN lists, one per band position: SQLite and PostgreSQL seek each position's index)
    with their parameters, as few as the parameter limit allows: a source's look-up is one round trip, with 5 items
    or 5,000."""
    mark, limit = placeholder(conn), max_params(conn)
    terms: list[str] = []
    params: list[int] = []
    for position, keys in sorted(by_position.items()):
        for start in range(0, len(keys), limit):
            part = keys[start : start + limit]
            if params and len(params) + len(part) > limit:
                yield " OR ".join(terms), params
                terms, params = [], []
            terms.append(f"{_BAND_COLUMNS[position]} IN ({', '.join([mark] * len(part))})")
            params.extend(part)
    if terms:
        yield " OR ".join(terms), params


def find_band_owners(engine: Engine, bands: Iterable[int]) -> list[tuple[int, str]]:
    """(band key, mention id) pairs stored for any of `bands`, oldest first (then by key and mention id)."""
    wanted = set(bands)
    by_position: dict[int, list[int]] = {}
    for key in sorted(wanted):
        by_position.setdefault(band_position(key), []).append(key)
    found: set[tuple[int, int, str]] = set()
    with engine.connect() as conn:
        for where, params in _lookups(conn, by_position):
            query = f"SELECT mention_id, created_epoch, {', '.join(_BAND_COLUMNS)} FROM {_TABLE} WHERE {where}"  # noqa: S608 - table/column names are module constants; values are bound
            for mention_id, epoch, *keys in conn.exec_driver_sql(query, tuple(params)):
                found.update((int(epoch), int(key), str(mention_id)) for key in keys if key in wanted)
    return [(key, mention_id) for _, key, mention_id in sorted(found)]


def _row(mention_id: str, bands: Sequence[int], epoch: int) -> tuple[object, ...]:
    columns: list[int | None] = [None] * BANDS
    for key in bands:
        columns[band_position(key)] = key
    return (mention_id, epoch, *columns)


def store_bands(engine: Engine, items: Sequence[tuple[str, Sequence[int]]], now: float | None = None) -> None:
    """Remember the band keys of stored mentions ((mention id, band keys) pairs); storing again is harmless."""
    with engine.begin() as conn:
        store_bands_in(conn, items, now)


def store_bands_in(conn: Connection, items: Sequence[tuple[str, Sequence[int]]], now: float | None = None) -> None:
    """`store_bands` in the caller's transaction (the one that stores the mentions)."""
    epoch = int(now if now is not None else time.time())
    rows = [_row(mention_id, bands, epoch) for mention_id, bands in items if bands]
    insert_rows(conn, _TABLE, ["mention_id", "created_epoch", *_BAND_COLUMNS], rows, conflict_key="mention_id")


def _keys_in(conn: Connection, where: str, params: tuple[object, ...]) -> int:
    counted = " + ".join(f"COUNT({column})" for column in _BAND_COLUMNS)
    return int(conn.exec_driver_sql(f"SELECT {counted} FROM {_TABLE} WHERE {where}", params).scalar_one())  # noqa: S608 - table/column names are module constants; values are bound


def prune_bands(engine: Engine, older_than_days: int, now: float | None = None) -> int:
    """Forget band keys older than the window; returns how many keys went."""
    cutoff = int((now if now is not None else time.time()) - older_than_days * 86400)
    with engine.begin() as conn:
        where = f"created_epoch < {placeholder(conn)}"
        count = _keys_in(conn, where, (cutoff,))
        conn.exec_driver_sql(f"DELETE FROM {_TABLE} WHERE {where}", (cutoff,))  # noqa: S608 - table/column names are module constants; values are bound
        return count


def forget_bands_in(conn: Connection, mention_ids: Sequence[str]) -> int:
    """Forget the band keys of these mentions (erasure), in the caller's transaction; returns how many keys went."""
    count = 0
    size = max_params(conn)
    for start in range(0, len(mention_ids), size):
        part = tuple(mention_ids[start : start + size])
        where = f"mention_id IN ({', '.join([placeholder(conn)] * len(part))})"
        count += _keys_in(conn, where, part)
        conn.exec_driver_sql(f"DELETE FROM {_TABLE} WHERE {where}", part)  # noqa: S608 - table/column names are module constants; values are bound
    return count
