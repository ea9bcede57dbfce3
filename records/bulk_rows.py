"""Many rows in few statements: multi-row INSERT ... VALUES and IN (...) look-ups through the driver.

A batch stores thousands of rows per source (mentions, hook marks, band keys) from a thread that shares the GIL
with the parsing thread. The driver's executemany steps its statement once per row and hands the GIL over each
time; taking it back waits on the busy parsing thread (up to the 5 ms switch interval), so under load per-row
statements cost several times the database work itself. One statement of thousands of rows does the same work
with one hand-over, and its parameters are bound in C without SQLAlchemy's per-row processing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

_POSTGRES_MAX_PARAMS = 30_000  # of PostgreSQL's 65,535 per statement
_SQLITE_MAX_PARAMS = 32_766  # SQLite's default since 3.32; an older library reports its own (often 999)


def placeholder(conn: Connection) -> str:
    """The driver's parameter mark: `?` for SQLite, `%s` for psycopg."""
    return "?" if conn.dialect.name == "sqlite" else "%s"


def max_params(conn: Connection) -> int:
    """How many parameters one statement may carry on this connection."""
    if conn.dialect.name != "sqlite":
        return _POSTGRES_MAX_PARAMS
    import sqlite3

    raw = conn.connection.dbapi_connection
    try:
        return min(_SQLITE_MAX_PARAMS, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # type: ignore[union-attr]
    except (AttributeError, sqlite3.Error):
        return 999


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], conflict_key: str
) -> None:
    """Insert `rows` (tuples in `columns` order) in as few statements as the parameter limit allows; a row whose
    `conflict_key` (a column, or columns joined by commas) is taken already is skipped, any other error fails the
    statement (and the caller's transaction)."""
    if not rows:
        return
    mark = placeholder(conn)
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608 - table/column names are module constants; values are bound
    tail = f" ON CONFLICT ({conflict_key}) DO NOTHING"
    for part in _chunks(rows, max(1, max_params(conn) // len(columns))):
        conn.exec_driver_sql(head + ", ".join([one] * len(part)) + tail, tuple(v for row in part for v in row))


def select_in(conn: Connection, query: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of `query` (a SELECT whose `{marks}` stands for the parameter marks of an IN list) for every value,
    a chunk of values per statement."""
    mark = placeholder(conn)
    found: list[tuple[Any, ...]] = []
    for part in _chunks(values, max_params(conn)):
        found.extend(
            tuple(row) for row in conn.exec_driver_sql(query.format(marks=", ".join([mark] * len(part))), tuple(part))
        )
    return found
