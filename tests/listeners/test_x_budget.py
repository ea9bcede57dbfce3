"""The X read budget in the records database: atomic reservations on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from earful.schema import upgrade
from earful_records.budget import current_month, release, reserve, spend, used
from earful_records.db import make_engine
from tests.helpers.postgres import throwaway_database


def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/records.db")
    upgrade(engine)
    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    with throwaway_database("xbudget") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from (_sqlite(tmp_path) if request.param == "sqlite" else _postgres())


def test_reserve_grants_within_the_limit_and_release_gives_back(engine: Engine) -> None:
    month = "2026-11"
    assert reserve(engine, "x", month, 100, 150) == 100
    assert reserve(engine, "x", month, 100, 150) == 50
    assert reserve(engine, "x", month, 100, 150) == 0
    release(engine, "x", month, 30)
    assert used(engine, "x", month) == 120
    assert used(engine, "x", "2026-12") == 0 and reserve(engine, "x", "2026-12", 10, 150) == 10  # a new month
    assert not spend(engine, "x", month, 31, 150) and used(engine, "x", month) == 120
    assert spend(engine, "x", month, 30, 150) and used(engine, "x", month) == 150


def test_concurrent_reservations_never_overspend(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = list(pool.map(lambda _: reserve(engine, "x", "2026-11", 7, 100), range(40)))
    assert sum(granted) == 100 == used(engine, "x", "2026-11")


def test_current_month_is_utc() -> None:
    assert current_month(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == "2026-11"
