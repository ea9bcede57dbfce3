"""Open what a command needs: the records database (migrated) and the mention index (real or embedded)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from earful.settings import Settings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


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
    """The records database engine, migrated to the newest schema; unreachable: one line naming it."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    from earful.operational import OperationalFailure, first_line
    from earful_records.db import make_engine
    from earful_records.migrate import upgrade

    url = settings.records_url()
    engine = make_engine(url)
    try:
        upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        where = make_url(url).render_as_string(hide_password=True)
        raise OperationalFailure(f"records database {where}: {first_line(str(exc.orig))}") from None
    return engine


def _first_contact(es: Elasticsearch, settings: Settings, url: str | None) -> None:
    """Set up the index; unreachable or refusing: one line naming it (not a transport traceback)."""
    from elastic_transport import TransportError
    from elasticsearch import ApiError

    from earful.operational import OperationalFailure, first_line, index_reason
    from earful_indexer.template import ensure_index

    try:
        ensure_index(es, settings.index)
    except TransportError as exc:
        raise OperationalFailure(f"index {url} unreachable: {index_reason(exc)}") from None
    except ApiError as exc:
        detail = first_line(str(exc.body or exc.message))
        raise OperationalFailure(
            f"index {url} answered HTTP {exc.status_code} to the index set-up"
            + (f" ({detail})" if detail and detail != "None" else "")
            + (
                "; check index.username / password / api_key"
                if exc.status_code in (401, 403)
                else "; is it Elasticsearch?"
            )
        ) from None


@contextmanager
def open_services(settings: Settings, *, index: bool = True, index_optional: bool = False) -> Iterator[Services]:
    """Records database plus index client; starts and stops the embedded index when no URL is configured.

    With `index_optional`, an index that does not answer is noted in `Services.index_error` instead of raised (a
    batch stores mentions without it and indexes them later)."""
    from earful.operational import OperationalFailure
    from earful_indexer.client import make_client
    from earful_indexer.embedded import embedded_index

    with ExitStack() as stack:
        engine = open_records(settings)
        stack.callback(engine.dispose)
        es, index_error = None, None
        embedded = settings.index.url is None
        if index:
            url = settings.index.url
            if embedded:
                url = stack.enter_context(
                    embedded_index(
                        settings.data_dir, settings.index.embedded_start_timeout, settings.index.embedded_idle_stop
                    )
                )
            es = make_client(settings.index, url)
            stack.callback(es.close)
            try:
                _first_contact(es, settings, url)
            except OperationalFailure as exc:
                if not index_optional:
                    raise
                index_error = str(exc)
        yield Services(
            settings=settings,
            engine=engine,
            es=es,
            alias=settings.index.alias,
            embedded=embedded,
            index_error=index_error,
        )
