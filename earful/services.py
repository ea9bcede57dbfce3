"""Open what a command needs: the records database (migrated) and the mention index (real or embedded)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from earful.settings import Settings


@dataclass
class Services:
    """Connections shared by one command or one Airflow task."""

    settings: Settings
    engine: Engine
    es: Any  # elasticsearch.Elasticsearch
    alias: str
    embedded: bool  # True when the index is the local noida-db server
    index_error: str | None = None  # why the index could not be reached (only with `index_optional`)


def open_records(settings: Settings) -> Engine:
    """The records database engine, migrated to the newest schema."""
    from records.db import make_engine
    from records.migrate import upgrade

    engine = make_engine(settings.records_url())
    upgrade(engine)
    return engine


@contextmanager
def open_services(settings: Settings, *, index: bool = True, index_optional: bool = False) -> Iterator[Services]:
    """Records database plus index client; starts and stops the embedded index when no URL is configured.

    With `index_optional`, an index that does not answer is noted in `Services.index_error` instead of raised (a
    batch stores mentions without it and indexes them later)."""
    from indexer.client import describe_unreachable, make_client, unreachable_errors
    from indexer.embedded import embedded_index
    from indexer.template import ensure_index

    with ExitStack() as stack:
        engine = open_records(settings)
        stack.callback(engine.dispose)
        es, index_error = None, None
        embedded = settings.index.url is None
        if index:
            url = settings.index.url
            if embedded:
                url = stack.enter_context(embedded_index(settings.data_dir, settings.index.embedded_start_timeout))
            es = make_client(settings.index, url)
            stack.callback(es.close)
            try:
                ensure_index(es, settings.index)
            except unreachable_errors() as exc:
                if not index_optional:
                    raise
                index_error = describe_unreachable(exc)
        yield Services(settings=settings, engine=engine, es=es, alias=settings.index.alias, embedded=embedded,
                       index_error=index_error)
