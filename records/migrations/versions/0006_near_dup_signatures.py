"""Near-duplicate band keys as one row per mention (one indexed integer column per band) instead of one row per
band: a stored mention costs one row, not eight (records.near_dups). The keys already stored are kept.

Revision ID: records_0006
Revises: records_0005
Create Date: 2026-12-01
"""

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "records_0006"
down_revision = "records_0005"
branch_labels = None
depends_on = None

BANDS = 8  # as records.tables.BANDS when this revision was written
POSITION_SHIFT = 56
_COPY_CHUNK = 1000  # rows per INSERT while copying


def _key(band: str) -> int | None:
    """The integer key of a band stored as text (its position digit and 14 hex digits of hash: the same number
    written in hex), or None for text of another shape (it matched no key the fingerprinter makes)."""
    if len(band) != 15 or band[0] not in "01234567":
        return None
    try:
        return int(band, 16)
    except ValueError:
        return None


def _signatures(conn: sa.Connection) -> Iterator[dict[str, object]]:
    """The stored band rows grouped into one row per mention (those with a key of the fingerprinter's shape),
    streamed in mention order."""
    # Streamed (options on the statement: on the connection they would stay for the DDL that follows).
    query = sa.text("SELECT mention_id, band, created_epoch FROM near_dup_bands ORDER BY mention_id")
    result = conn.execute(query.execution_options(yield_per=10_000))
    current: dict[str, object] | None = None
    for mention_id, band, epoch in result:
        if current is None or current["mention_id"] != mention_id:
            if current is not None and len(current) > 2:  # a mention with no usable key is left out
                yield current
            current = {"mention_id": mention_id, "created_epoch": epoch}
        current["created_epoch"] = min(int(current["created_epoch"]), int(epoch))  # type: ignore[call-overload]
        key = _key(str(band))
        if key is not None:
            current[f"band{key >> POSITION_SHIFT}"] = key
    if current is not None and len(current) > 2:
        yield current


def upgrade() -> None:
    table = op.create_table(
        "near_dup_signatures",
        sa.Column("mention_id", sa.String(64), primary_key=True),
        sa.Column("created_epoch", sa.BigInteger, nullable=False),
        *(sa.Column(f"band{position}", sa.BigInteger) for position in range(BANDS)),
    )
    op.create_index("ix_near_dup_signatures_created_epoch", "near_dup_signatures", ["created_epoch"])
    conn = op.get_bind()
    chunk: list[dict[str, object]] = []
    blank = {f"band{position}": None for position in range(BANDS)}
    for row in _signatures(conn):
        chunk.append({**blank, **row})
        if len(chunk) >= _COPY_CHUNK:
            conn.execute(table.insert(), chunk)
            chunk = []
    if chunk:
        conn.execute(table.insert(), chunk)
    # Indexed after the copy: one sort per index instead of a random insert per key.
    for position in range(BANDS):
        op.create_index(f"ix_near_dup_signatures_band{position}", "near_dup_signatures", [f"band{position}"])
    op.drop_table("near_dup_bands")


def downgrade() -> None:
    table = op.create_table(
        "near_dup_bands",
        sa.Column("band", sa.String(20), primary_key=True),
        sa.Column("mention_id", sa.String(64), primary_key=True),
        sa.Column("created_epoch", sa.BigInteger, nullable=False, index=True),
    )
    conn = op.get_bind()
    columns = ", ".join(f"band{position}" for position in range(BANDS))
    query = sa.text(f"SELECT mention_id, created_epoch, {columns} FROM near_dup_signatures")  # noqa: S608 - table/column names are module constants; values are bound
    result = conn.execute(query.execution_options(yield_per=10_000))
    chunk: list[dict[str, object]] = []
    for mention_id, epoch, *keys in result:
        chunk.extend(
            {"band": f"{key:015x}", "mention_id": mention_id, "created_epoch": epoch} for key in keys if key is not None
        )
        if len(chunk) >= _COPY_CHUNK:
            conn.execute(table.insert(), chunk)
            chunk = []
    if chunk:
        conn.execute(table.insert(), chunk)
    op.drop_table("near_dup_signatures")
