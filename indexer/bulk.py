"""Idempotent bulk indexing of mentions (`_id` = mention id) with per-document errors surfaced."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from earful_indexer.template import language_field
from earful_listeners.mention import Mention

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


@dataclass
class BulkOutcome:
    """What the index did with each mention of a bulk request."""

    created: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # mention id -> reason


def indexed_document(doc: dict[str, Any]) -> dict[str, Any]:
    """A mention document (`Mention.to_document()`) as indexed: plus its text in the field of its language's
    analyser."""
    field_name = language_field(str(doc.get("language", "")))
    if field_name and doc.get("text"):
        return {**doc, field_name: doc["text"]}
    return doc


def document(mention: Mention) -> dict[str, Any]:
    """The indexed document of a mention."""
    return indexed_document(mention.to_document())


def _actions(alias: str, documents: Iterable[tuple[str, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    for doc_id, doc in documents:
        yield {"_op_type": "create", "_index": alias, "_id": doc_id, "_source": indexed_document(doc)}


def index_mentions(es: Elasticsearch, alias: str, mentions: Sequence[Mention], chunk_size: int = 500) -> BulkOutcome:
    """Create each mention once; a mention already in the index is reported, not overwritten or doubled."""
    return index_documents(es, alias, [(m.id, m.to_document()) for m in mentions], chunk_size)


def index_documents(
    es: Elasticsearch, alias: str, documents: Sequence[tuple[str, dict[str, Any]]], chunk_size: int = 500
) -> BulkOutcome:
    """Create each (id, mention document) once; one already in the index is reported, not overwritten or doubled.

    Raises one of `indexer.client.unreachable_errors()` when the index cannot be reached. The caller refreshes the index when it
    needs the new mentions searchable (once per batch, not per call).
    """
    from elasticsearch import helpers

    outcome = BulkOutcome()
    if not documents:
        return outcome
    for ok, item in helpers.streaming_bulk(
        es,
        _actions(alias, documents),
        chunk_size=chunk_size,
        raise_on_error=False,
        raise_on_exception=True,
        max_retries=3,
        initial_backoff=1,
    ):
        result = item.get("create", {})
        doc_id = str(result.get("_id"))
        if ok:
            outcome.created.append(doc_id)
        elif result.get("status") == 409:
            outcome.already_present.append(doc_id)
        else:
            error = result.get("error", {})
            reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
            outcome.errors[doc_id] = f"{error.get('type', 'error') if isinstance(error, dict) else 'error'}: {reason}"
    return outcome


def existing_ids(es: Elasticsearch, alias: str, ids: Sequence[str], chunk: int = 1000) -> set[str]:
    """Which of `ids` are already indexed behind the alias (in any rolled-over index)."""
    found: set[str] = set()
    for start in range(0, len(ids), chunk):
        part = list(ids[start : start + chunk])
        resp = es.search(index=alias, query={"ids": {"values": part}}, source=False, size=len(part))
        found.update(hit["_id"] for hit in resp["hits"]["hits"])
    return found
