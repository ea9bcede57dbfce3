"""Shared fixtures: a real embedded index server, records databases, settings for a temporary data folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine

from tests.helpers.postgres import throwaway_database
from tests.helpers.records_db import MigratedPostgres, migrated_sqlite_template, sqlite_engine_from
from tests.tiers import mark_tiers

REPO = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fast tier's marks (tests/tiers.py): what `make test-fast` (-m "not slow") leaves out."""
    mark_tiers(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """End multiprocessing children a test left behind (an idle fetch-pool worker was seen once), and say so.

    concurrent.futures joins every pool's workers when the interpreter exits, so one leaked idle worker kept a
    finished run from exiting. Which test leaks it is not known yet; this keeps the run from hanging meanwhile.
    """
    import multiprocessing

    for child in multiprocessing.active_children():
        print(f"\nleft-over process after the tests: {child.name} (pid {child.pid}); terminating it")
        child.terminate()
        child.join(timeout=5)


@pytest.fixture(scope="session", autouse=True)
def _benchmarks_record_nowhere() -> Iterator[None]:
    """Benchmarks the tests run (bench/spikes.py) must not rewrite docs/benchmarks.md with test figures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EARFUL_BENCH_REPORT", "off")
        yield


@pytest.fixture(scope="session")
def es_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real noida-db server (Elasticsearch API) for the whole test session."""
    from earful_indexer.embedded import embedded_index

    with embedded_index(tmp_path_factory.mktemp("es")) as url:
        yield url


@pytest.fixture()
def index_alias() -> str:
    """A fresh index alias per test, so tests sharing the server do not see each other's mentions."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def pg_url() -> Iterator[str]:
    """A throw-away PostgreSQL database per test, when EARFUL_TEST_PG_URL points at a server; else the test skips.

    Per test: the records database holds the mentions, and a batch replays into its index what the records say
    is missing there, so two tests with different index aliases must not share one."""
    with throwaway_database("test") as url:
        yield url


@pytest.fixture(scope="session")
def records_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A records database file migrated once per session; `sqlite_engine` copies it."""
    return migrated_sqlite_template(tmp_path_factory.mktemp("records-template"))


@pytest.fixture(scope="session")
def records_pg() -> Iterator[MigratedPostgres]:
    """One migrated PostgreSQL records database for the session's `engine[postgres]` tests (emptied before each);
    skips when EARFUL_TEST_PG_URL is unset."""
    with throwaway_database("records") as url:
        yield MigratedPostgres.migrate(url)


@pytest.fixture
def sqlite_engine(tmp_path: Path, records_template: Path) -> Iterator[Engine]:
    """A migrated, empty SQLite records database in the test's folder (records.db), for tests where the backend
    does not matter."""
    engine = sqlite_engine_from(records_template, tmp_path / "records.db")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A migrated, empty records database: the SQLite file of `sqlite_engine`, and PostgreSQL where the machine runs
    one (the session's database, emptied back to its just-migrated state)."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_engine")
        return
    engine = request.getfixturevalue("records_pg").fresh_engine()
    yield engine
    engine.dispose()


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """Write a YAML config file and return its path."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture()
def make_settings(tmp_path: Path, es_url: str, index_alias: str):
    """Build Settings for a temporary data folder, the session's index server and a fresh alias."""
    from earful.settings import load_settings

    def build(feeds: list[dict[str, Any]], topics: list[dict[str, Any]] | None = None, **sections: Any):
        data: dict[str, Any] = {
            "data_dir": str(tmp_path / "data"),
            "index": {"url": es_url, "alias": index_alias},
            "sources": {"rss": {"feeds": feeds, "connect_timeout": 1, "read_timeout": 1}},
            "topics": topics if topics is not None else [{"name": "acme", "query": "acme"}],
            "nlp": {"enabled": False},
            **sections,
        }
        return load_settings(write_config(tmp_path / "earful.yaml", data))

    return build
