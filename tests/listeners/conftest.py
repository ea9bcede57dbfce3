"""Fixtures the listener tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite records database in the test's folder (cursors, read budget)."""
    from earful.schema import upgrade
    from earful_records.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/records.db")
    upgrade(engine)
    yield engine
    engine.dispose()
