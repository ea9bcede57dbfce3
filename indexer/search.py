"""Read side of the mention index: search with topic-syntax queries, and counts for `earful stats`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from earful_indexer.fields import FETCHED_AT, LABELS_SENTIMENT, LANGUAGE, PUBLISHED_AT, SOURCE, TOPICS
from earful_listeners.topics import parse_query, to_es_query

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from earful_listeners.mention import Mention


def search_mentions(
    es: Elasticsearch, alias: str, query: str, *, topic: str | None = None, lang: str | None = None, limit: int = 20
) -> tuple[int, list[dict[str, Any]]]:
    """Total hits and the newest `limit` mentions matching a topic-syntax query (raises QueryError if malformed)."""
    filters: list[dict[str, Any]] = [to_es_query(parse_query(query, what="search query"))]
    if topic:
        filters.append({"term": {TOPICS: topic}})
    if lang:
        filters.append({"term": {LANGUAGE: lang}})
    resp = es.search(
        index=alias,
        query={"bool": {"filter": filters}},
        size=limit,
        track_total_hits=True,
        sort=[{PUBLISHED_AT: {"order": "desc", "missing": "_last"}}, {FETCHED_AT: "desc"}],
        source_excludes=["dup_bands", "text_*"],
    )
    hits = [{"id": h["_id"], **h["_source"]} for h in resp["hits"]["hits"]]
    return int(resp["hits"]["total"]["value"]), hits


def mention_counts(es: Elasticsearch, alias: str, *, days: int = 30) -> dict[str, Any]:
    """Counts per topic, language, source and day (the last `days` days by publication date)."""
    resp = es.search(
        index=alias,
        size=0,
        track_total_hits=True,
        aggs={
            "topics": {"terms": {"field": TOPICS, "size": 100}},
            "languages": {"terms": {"field": LANGUAGE, "size": 100}},
            "sources": {"terms": {"field": SOURCE, "size": 200}},
            "sentiment": {"terms": {"field": LABELS_SENTIMENT, "size": 3}},
            "days": {
                "filter": {"range": {PUBLISHED_AT: {"gte": f"now-{days}d/d"}}},
                "aggs": {
                    "per_day": {
                        "date_histogram": {
                            "field": PUBLISHED_AT,
                            "calendar_interval": "day",
                            "format": "yyyy-MM-dd",
                            "min_doc_count": 1,
                        }
                    }
                },
            },
        },
    )
    aggs = resp["aggregations"]

    def buckets(name: str) -> list[tuple[str, int]]:
        return [(str(b["key"]), int(b["doc_count"])) for b in aggs[name]["buckets"]]

    return {
        "total": int(resp["hits"]["total"]["value"]),
        "topics": buckets("topics"),
        "languages": buckets("languages"),
        "sources": buckets("sources"),
        "sentiment": buckets("sentiment"),
        "days": [(b["key_as_string"], int(b["doc_count"])) for b in aggs["days"]["per_day"]["buckets"]],
    }


def read_mentions(es: Elasticsearch, alias: str, ids: list[str], chunk: int = 500) -> list[Mention]:
    """The indexed mentions with these ids (from every index behind the alias), in the order given."""
    from earful_listeners.mention import Mention

    found: dict[str, Any] = {}
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        resp = es.search(index=alias, query={"ids": {"values": part}}, size=len(part))
        for hit in resp["hits"]["hits"]:
            source = {k: v for k, v in hit["_source"].items() if k in Mention.model_fields}
            found[hit["_id"]] = Mention(id=hit["_id"], **source)
    return [found[i] for i in ids if i in found]
