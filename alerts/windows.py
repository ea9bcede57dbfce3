"""Window counts from Elasticsearch: one aggregation per evaluation gives every topic's recent windows.

terms(topics) -> date_histogram(window, aligned so that the last bucket ends now) -> filter(negative). The
naive alternative, one count query per topic, window and rule, is what `bench/alerts.py` compares against.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class WindowCount:
    start: datetime
    total: int
    negative: int


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def window_counts(es: Any, alias: str, *, topics: list[str] | None, window: timedelta, windows: int,
                  time_field: str, now: datetime) -> dict[str, list[WindowCount]]:
    """Counts of mentions (and negative ones) per topic in `windows` windows ending at `now`, oldest first.

    `topics` None means every topic in the index. Topics without mentions get zero counts when listed.
    """
    width = int(window.total_seconds() * 1000)
    end = _ms(now)
    start = end - windows * width
    query: dict[str, Any] = {"bool": {"filter": [
        {"range": {time_field: {"gte": start, "lt": end, "format": "epoch_millis"}}},
        {"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}},
    ]}}
    terms: dict[str, Any] = {"field": "topics", "size": max(len(topics), 1) if topics else 10_000}
    if topics:
        query["bool"]["filter"].append({"terms": {"topics": topics}})
        terms["include"] = topics
    body = {
        "size": 0,
        "query": query,
        "aggs": {"topic": {"terms": terms, "aggs": {"window": {
            "date_histogram": {"field": time_field, "fixed_interval": f"{width}ms", "offset": f"{end % width}ms",
                               "min_doc_count": 0, "extended_bounds": {"min": start, "max": end - 1}},
            "aggs": {"negative": {"filter": {"term": {"labels.sentiment": "negative"}}}},
        }}}},
    }
    response = es.search(index=alias, body=body, request_timeout=60)
    starts = [start + i * width for i in range(windows)]
    result: dict[str, list[WindowCount]] = {}
    for bucket in response["aggregations"]["topic"]["buckets"]:
        by_key = {int(b["key"]): b for b in bucket["window"]["buckets"]}
        result[bucket["key"]] = [
            WindowCount(datetime.fromtimestamp(s / 1000, tz=now.tzinfo), by_key.get(s, {}).get("doc_count", 0),
                        by_key.get(s, {}).get("negative", {}).get("doc_count", 0))
            for s in starts
        ]
    for topic in topics or []:
        result.setdefault(topic, [WindowCount(datetime.fromtimestamp(s / 1000, tz=now.tzinfo), 0, 0) for s in starts])
    return result


def top_mentions(es: Any, alias: str, *, topic: str, time_field: str, since: datetime, until: datetime,
                 negative_only: bool, size: int) -> list[dict[str, Any]]:
    """The highest-reach mentions of a topic in a window, as documents with their `id` (examples for alerts)."""
    if size <= 0:
        return []
    filters: list[dict[str, Any]] = [
        {"term": {"topics": topic}},
        {"range": {time_field: {"gte": _ms(since), "lt": _ms(until), "format": "epoch_millis"}}},
    ]
    if negative_only:
        filters.append({"term": {"labels.sentiment": "negative"}})
    response = es.search(index=alias, body={
        "size": size, "query": {"bool": {"filter": filters}},
        "sort": [{"reach": {"order": "desc", "missing": "_last"}}, {time_field: {"order": "desc"}}],
        "_source": ["url", "title", "text", "published_at", "reach", "source", "labels.sentiment"],
    })
    return [{"id": hit["_id"], **hit["_source"]} for hit in response["hits"]["hits"]]
