"""Run the Alembic migrations of the packages that keep tables in the records database.

Each package keeps its migrations as an independent Alembic branch in its own folder, so packages evolve their
tables without touching each other's revision chains; `upgrade` brings every branch to its head. Which packages
those are is the wiring's knowledge (earful.schema), not this module's: records sits below alerts and complaints.

Several processes may start on a new database at once (two `earful run`, parallel Airflow tasks): the upgrade
runs under a lock, so the second waits and then finds the schema current. PostgreSQL: a transaction-scoped
advisory lock (taken in env.py, in the migration's own transaction). SQLite: a file lock beside the database file.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files

from alembic import command
from alembic.config import Config
from filelock import FileLock, Timeout
from sqlalchemy import Engine

from earful_common.errors import ReportedError

ADVISORY_LOCK_KEY = 0x6561_7266_756C  # "earful": the PostgreSQL advisory lock held while migrating
LOCK_TIMEOUT_S = 120.0


class MigrationLockTimeout(ReportedError):
    """Another process kept the migration lock for longer than the wait allows."""


def _version_locations(packages: Sequence[str]) -> list[str]:
    locations = []
    for package in packages:
        folder = files(package).joinpath("migrations").joinpath("versions")
        if folder.is_dir():
            locations.append(str(folder))
    return locations


def alembic_config(engine: Engine, packages: Sequence[str]) -> Config:
    """An Alembic config bound to `engine`, with the version folder of each of `packages` (import names)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("earful_records").joinpath("migrations")))
    cfg.set_main_option("version_locations", " ".join(_version_locations(packages)))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = engine
    return cfg


def _sqlite_lock(engine: Engine) -> FileLock | None:
    """The file lock beside a SQLite database file (PostgreSQL's lock is taken in env.py)."""
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        return None
    return FileLock(f"{database}.migrate.lock", thread_local=False)


def upgrade(engine: Engine, packages: Sequence[str], lock_timeout: float = LOCK_TIMEOUT_S) -> None:
    """Bring the records database to the newest schema of each of `packages` (one process at a time)."""
    cfg = alembic_config(engine, packages)
    cfg.attributes["lock_timeout"] = lock_timeout
    lock = _sqlite_lock(engine)
    if lock is not None:
        try:
            lock.acquire(timeout=lock_timeout)
        except Timeout:
            raise MigrationLockTimeout(
                f"{lock.lock_file}: another process has been migrating the records "
                f"database for more than {lock_timeout:.0f} s"
            ) from None
    try:
        command.upgrade(cfg, "heads")
    finally:
        if lock is not None:
            lock.release()
