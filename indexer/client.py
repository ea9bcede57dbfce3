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
    # orjson: the bulk requests of every batch serialize each mention, and their responses are parsed back; the
    # standard library's json took a tenth of the batch's own time there.
    from elasticsearch.serializer import OrjsonSerializer

    return Elasticsearch(target, serializer=OrjsonSerializer(), **kwargs)


def unreachable_errors() -> tuple[type[Exception], ...]:
    """What the client raises when the index cannot take a request at all (down, unreachable, refusing the
    whole request), as opposed to refusing single documents of a bulk request."""
    from elasticsearch import ApiError, TransportError

    return (TransportError, ApiError)


def server_error_line(exc: Exception) -> str:
    """One line for a request the index server refused: `HTTP <status> <type>: <reason>`, the root cause's reason
    when the server gives one (a bad query, a missing index, too many buckets), never the whole response body."""
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", "?")
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        cause = next(iter(error.get("root_cause") or []), None)
        cause = cause if isinstance(cause, dict) and cause.get("reason") else error
        kind, reason = str(cause.get("type", "error")), str(cause.get("reason", ""))
    else:
        kind, reason = str(getattr(exc, "message", type(exc).__name__)), str(error or body or "")
    reason = " ".join(reason.split())  # the server's reasons may hold newlines (e.g. a query parser's message)
    return f"HTTP {status} {kind}: {reason[:300]}" if reason else f"HTTP {status} {kind}"
