"""Run the Alembic migrations of every package that keeps tables in the records database.

Each package keeps its migrations as an independent Alembic branch in its own folder, so packages evolve their
tables without touching each other's revision chains; `upgrade` brings every branch to its head.
"""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

# Packages whose `migrations/` folder holds an Alembic branch, in dependency order.
MIGRATION_PACKAGES = ("records", "alerts", "complaints")


def _version_locations() -> list[str]:
    locations = []
    for package in MIGRATION_PACKAGES:
        folder = files(package).joinpath("migrations").joinpath("versions")
        if folder.is_dir():
            locations.append(str(folder))
    return locations


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to `engine`, with every package's version folder."""
    cfg = Config()
    cfg.set_main_option("script_location", str(files("records").joinpath("migrations")))
    cfg.set_main_option("version_locations", " ".join(_version_locations()))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the records database to the newest schema of every package."""
    command.upgrade(alembic_config(engine), "heads")
