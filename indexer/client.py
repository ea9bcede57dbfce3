"""The official Elasticsearch client, built from settings (a real cluster or the embedded server)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from earful_indexer.config import IndexSettings

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


def make_client(settings: IndexSettings, url: str | None = None) -> Elasticsearch:
    """An `elasticsearch.Elasticsearch` client for `url` (default: the configured one) with auth and TLS options."""
    from elasticsearch import Elasticsearch

    kwargs: dict[str, Any] = {"request_timeout": settings.request_timeout, "retry_on_timeout": True, "max_retries": 3}
    if settings.api_key is not None:
        kwargs["api_key"] = settings.api_key.get_secret_value()
    elif settings.username is not None and settings.password is not None:
        kwargs["basic_auth"] = (settings.username, settings.password.get_secret_value())
    if settings.ca_certs is not None:
        kwargs["ca_certs"] = str(settings.ca_certs)
    if not settings.verify_certs:
        kwargs["verify_certs"] = False
        kwargs["ssl_show_warn"] = False
    target = url or settings.url
    if target is None:
        raise ValueError("no index url: start the embedded server or configure index.url")
    return Elasticsearch(target, **kwargs)


def unreachable_errors() -> tuple[type[Exception], ...]:
    """What the client raises when the index cannot take a request at all (down, unreachable, refusing the
    whole request), as opposed to refusing single documents of a bulk request."""
    from elasticsearch import ApiError, TransportError

    return (TransportError, ApiError)
