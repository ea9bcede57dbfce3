"""The records database's schema: which packages keep tables there (migrated by earful_records.migrate).

The list lives in the wiring because records sits below alerts and complaints and must not know them.
"""

from __future__ import annotations

from alembic.config import Config
from sqlalchemy import Engine

from earful_records import migrate

# Packages whose `migrations/` folder holds an Alembic branch, in dependency order.
SCHEMA_PACKAGES = ("earful_records", "earful_alerts", "earful_complaints")


def upgrade(engine: Engine, lock_timeout: float = migrate.LOCK_TIMEOUT_S) -> None:
    """Bring the records database to the newest schema of every package (one process at a time)."""
    migrate.upgrade(engine, SCHEMA_PACKAGES, lock_timeout)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to `engine`, with every package's version folder (for downgrades in tests)."""
    return migrate.alembic_config(engine, SCHEMA_PACKAGES)
