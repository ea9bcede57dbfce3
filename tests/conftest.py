"""Shared fixtures: a real embedded index server, records databases, settings for a temporary data folder."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.postgres import throwaway_database

REPO = Path(__file__).resolve().parents[1]


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
