"""SQLAlchemy Core tables owned by the records package (the schema itself is created by Alembic)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

source_cursors = sa.Table(
    "source_cursors",
    metadata,
    sa.Column("source_id", sa.String(300), primary_key=True),
    sa.Column("cursor", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

batch_runs = sa.Table(
    "batch_runs",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("counts", sa.JSON),
)

x_read_budget = sa.Table(
    "x_read_budget",
    metadata,
    sa.Column("budget_key", sa.String(100), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM, UTC
    sa.Column("used", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

# Near-duplicate band keys of recently stored mentions, one row per mention and one indexed column per band
# position (records.near_dups). BANDS matches listeners.dedupe.BANDS; a different count needs a migration.
BANDS = 8
near_dup_signatures = sa.Table(
    "near_dup_signatures",
    metadata,
    sa.Column("mention_id", sa.String(64), primary_key=True),
    sa.Column("created_epoch", sa.BigInteger, nullable=False, index=True),  # seconds, UTC
    *(sa.Column(f"band{position}", sa.BigInteger, index=True) for position in range(BANDS)),
)

pending_hooks = sa.Table(
    "pending_hooks",
    metadata,
    sa.Column("mention_id", sa.String(64), primary_key=True),
    sa.Column("created_epoch", sa.BigInteger, nullable=False),  # seconds, UTC
)

# The system of record of mentions: the full document (what the index holds, less the per-language text copy),
# written in the same transaction as the source's cursor. The index is derived from it (see records.mentions).
mentions = sa.Table(
    "mentions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(300), nullable=False),
    sa.Column("source_kind", sa.String(40), nullable=False),
    sa.Column("author_ref", sa.String(128), index=True),  # erasure finds an author's mentions by these two
    sa.Column("author_raw", sa.String(300)),
    sa.Column("published_epoch", sa.BigInteger, index=True),  # seconds, UTC; retention
    sa.Column("fetched_epoch", sa.BigInteger, nullable=False),
    sa.Column("stored_epoch", sa.BigInteger, nullable=False),
    # 0: not in the index yet; 1: the index acknowledged it (checked again by the next run: an embedded server
    # may acknowledge before it persists); 2: found in the index by a later run.
    sa.Column("index_state", sa.SmallInteger, nullable=False, index=True),
    sa.Column("document", sa.JSON, nullable=False),
)
