"""Migrated records databases for tests: SQLite files copied from one migrated per session, and one PostgreSQL
database per session emptied back to its just-migrated state before each test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from earful.schema import upgrade
from earful_records.db import make_engine


def migrated_sqlite_template(folder: Path) -> Path:
    """A records database migrated to the newest schema, to copy for each test (migrating costs 10x a copy)."""
    path = folder / "records.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # checkpoints the WAL: the file alone is the whole database
    return path


def sqlite_engine_from(template: Path, path: Path) -> sa.Engine:
    """A migrated SQLite records database at `path` (a copy of `template`), upgraded (a no-op) like any open."""
    shutil.copyfile(template, path)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


@dataclass(frozen=True)
class MigratedPostgres:
    """A migrated PostgreSQL database and the rows its migrations seed (e.g. the complaint chain's head)."""

    url: str
    tables: tuple[sa.Table, ...]  # every table but alembic_version, reflected once, parents first
    seeds: dict[str, list[dict[str, Any]]]

    @classmethod
    def migrate(cls, url: str) -> MigratedPostgres:
        """Migrate the database at `url` and note what the migrations inserted."""
        engine = make_engine(url)
        try:
            upgrade(engine)
            tables = _tables(engine)
            with engine.connect() as conn:
                seeds = {
                    table.name: [dict(row) for row in conn.execute(sa.select(table)).mappings()] for table in tables
                }
        finally:
            engine.dispose()
        return cls(url, tuple(tables), {name: rows for name, rows in seeds.items() if rows})

    def fresh_engine(self) -> sa.Engine:
        """An engine on the database emptied back to its just-migrated state (identities restarted, seeds back)."""
        engine = make_engine(self.url)
        upgrade(engine)  # a no-op unless a test left it migrated down
        with engine.begin() as conn:
            names = ", ".join(f'"{table.name}"' for table in self.tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in self.tables:
                if table.name in self.seeds:
                    conn.execute(table.insert(), self.seeds[table.name])
        return engine


def _tables(engine: sa.Engine) -> list[sa.Table]:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return [table for table in metadata.sorted_tables if table.name != "alembic_version"]
