"""Read side of the index for the listening dashboard: the overview in one aggregation request, mention lists
paged with search_after, one mention and its near-duplicates.

Only the Elasticsearch query DSL that both a real cluster and noida-db answer is used (bool/term/range/ids
queries; terms, filter and date_histogram aggregations), through the official client.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from earful_listeners.topics import parse_query, to_es_query

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

# The mention fields the dashboard reads (one place; see indexer.template for their mappings).
PUBLISHED = "published_at"
FETCHED = "fetched_at"
TOPICS = "topics"
LANGUAGE = "language"
SOURCE = "source"
CHANNEL = "source_kind"
NATIVE_ID = "native_id"
REACH = "reach"
SENTIMENT = "labels.sentiment"
COMPLAINT_PROBABILITY = "labels.complaint_probability"
DUPLICATE_OF = "duplicate_of"
SENTIMENTS = ("negative", "neutral", "positive")
# Never sent to a browser: locality-sensitive hash bands and the per-language copies of the text.
HIDDEN_FIELDS = ["dup_bands", "text_*"]
# Sorts of the mentions list; the last keys make the order total (source + native id name one post), which
# search_after needs to page without skipping or repeating a mention.
_TIEBREAK: list[dict[str, Any]] = [{SOURCE: "asc"}, {NATIVE_ID: "asc"}]
SORTS: dict[str, list[dict[str, Any]]] = {
    "time": [{PUBLISHED: {"order": "desc", "missing": "_last"}}, {FETCHED: "desc"}, *_TIEBREAK],
    "reach": [
        {REACH: {"order": "desc", "missing": "_last"}},
        {PUBLISHED: {"order": "desc", "missing": "_last"}},
        *_TIEBREAK,
    ],
}


@dataclass(frozen=True)
class Period:
    """A half-open time range [start, end) in UTC and the histogram interval that draws it in 24 to 60 bars."""

    start: datetime
    end: datetime

    @property
    def interval(self) -> timedelta:
        span = self.end - self.start
        for step in (timedelta(hours=1), timedelta(hours=3), timedelta(hours=6), timedelta(hours=12)):
            if span / step <= 60:
                return step
        days = max(1, -(-span.days // 60))
        return timedelta(days=days)


def _interval_text(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    return f"{seconds // 86400}d" if seconds % 86400 == 0 else f"{seconds // 3600}h"


def _es_time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _range(period: Period) -> dict[str, Any]:
    return {"range": {PUBLISHED: {"gte": _es_time(period.start), "lt": _es_time(period.end)}}}


@dataclass
class Overview:
    """The figures of one overview page (all from one aggregation request)."""

    total: int
    interval: timedelta
    volume: list[tuple[datetime, int, dict[str, int]]]  # bucket start, count, count per sentiment
    languages: list[tuple[str, int]]
    sources: list[tuple[str, int]]
    channels: list[tuple[str, int]]
    sentiment: list[tuple[str, int]]
    share_of_voice: list[tuple[str, int]]  # every topic in the period (not only the selected one)


def _buckets(agg: dict[str, Any]) -> list[tuple[str, int]]:
    return [(str(b["key"]), int(b["doc_count"])) for b in agg.get("buckets", [])]


def _bucket_time(bucket: dict[str, Any]) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(int(bucket["key"]) / 1000, tz=UTC)


def overview(es: Elasticsearch, alias: str, period: Period, *, topic: str | None = None, size: int = 10) -> Overview:
    """Volume and sentiment over time, languages, sources, channels of `topic` (all topics: None) in `period`,
    and every topic's count in the period (share of voice), in one search request with size 0."""
    step = period.interval
    per_topic = {"term": {TOPICS: topic}} if topic else {"match_all": {}}
    resp = es.search(
        index=alias,
        size=0,
        track_total_hits=False,
        query={"bool": {"filter": [_range(period)]}},
        aggs={
            "share_of_voice": {"terms": {"field": TOPICS, "size": 50}},
            "selected": {
                "filter": per_topic,
                "aggs": {
                    "volume": {
                        "date_histogram": {
                            "field": PUBLISHED,
                            "fixed_interval": _interval_text(step),
                            "min_doc_count": 0,
                            "extended_bounds": {
                                "min": int(period.start.timestamp() * 1000),
                                # The period's last instant, so the bar it ends in is drawn even while empty
                                # (a period that ends mid-bar: the current interval, just past its start).
                                "max": int(period.end.timestamp() * 1000) - 1,
                            },
                        },
                        "aggs": {"sentiment": {"terms": {"field": SENTIMENT, "size": len(SENTIMENTS)}}},
                    },
                    "languages": {"terms": {"field": LANGUAGE, "size": size}},
                    "sources": {"terms": {"field": SOURCE, "size": size}},
                    "channels": {"terms": {"field": CHANNEL, "size": size}},
                    "sentiment": {"terms": {"field": SENTIMENT, "size": len(SENTIMENTS)}},
                },
            },
        },
    )
    aggs = resp["aggregations"]
    selected = aggs["selected"]
    volume = []
    for b in selected["volume"]["buckets"]:
        at = _bucket_time(b)
        if period.start - step < at < period.end:
            volume.append((at, int(b["doc_count"]), dict(_buckets(b["sentiment"]))))
    return Overview(
        total=int(selected["doc_count"]),
        interval=step,
        volume=volume,
        languages=_buckets(selected["languages"]),
        sources=_buckets(selected["sources"]),
        channels=_buckets(selected["channels"]),
        sentiment=_buckets(selected["sentiment"]),
        share_of_voice=_buckets(aggs["share_of_voice"]),
    )


@dataclass
class MentionFilter:
    """What the mentions list shows: a topic-syntax query and filters (all optional)."""

    query: str = ""
    topic: str | None = None
    language: str | None = None
    sentiment: str | None = None
    min_complaint: float | None = None
    source: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    ids: list[str] | None = None  # e.g. the mentions that took part in an alert (has-alert)
    sort: str = "time"
    exclude: list[str] = field(default_factory=list)


def filter_query(f: MentionFilter) -> dict[str, Any]:
    """The Elasticsearch query of a filter (raises earful_listeners.topics.QueryError for a malformed query)."""
    filters: list[dict[str, Any]] = []
    if f.query.strip():
        filters.append(to_es_query(parse_query(f.query, what="search query")))
    for name, value in ((TOPICS, f.topic), (LANGUAGE, f.language), (SENTIMENT, f.sentiment), (SOURCE, f.source)):
        if value:
            filters.append({"term": {name: value}})
    if f.min_complaint is not None:
        filters.append({"range": {COMPLAINT_PROBABILITY: {"gte": f.min_complaint}}})
    if f.start or f.end:
        bounds = {}
        if f.start:
            bounds["gte"] = _es_time(f.start)
        if f.end:
            bounds["lt"] = _es_time(f.end)
        filters.append({"range": {PUBLISHED: bounds}})
    if f.ids is not None:
        filters.append({"ids": {"values": f.ids}})
    query: dict[str, Any] = {"bool": {"filter": filters}}
    if f.exclude:
        query["bool"]["must_not"] = [{"ids": {"values": f.exclude}}]
    return query


def encode_after(values: list[Any]) -> str:
    """A search_after position as an opaque, URL-safe token."""
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_after(token: str) -> list[Any]:
    """The search_after position of a token; ValueError when it is not one."""
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("the page position (after=) is not one this app made") from exc
    if not isinstance(values, list) or not all(isinstance(v, (str, int, float)) or v is None for v in values):
        raise ValueError("the page position (after=) is not one this app made")
    return values


@dataclass
class MentionPage:
    total: int
    total_is_exact: bool
    hits: list[dict[str, Any]]
    next_after: str | None  # token of the next page; None on the last one


def list_mentions(
    es: Elasticsearch,
    alias: str,
    f: MentionFilter,
    *,
    size: int = 25,
    after: str | None = None,
    count_up_to: int = 10_000,
) -> MentionPage:
    """One page of mentions in the filter's sort order, after the position `after` (a token of a previous page).

    Deep pages cost the same as the first (search_after, never from/size); the hit count is exact up to
    `count_up_to` and a lower bound beyond it.
    """
    sort = SORTS.get(f.sort, SORTS["time"])
    extra: dict[str, Any] = {"search_after": decode_after(after)} if after else {}
    resp = es.search(
        index=alias,
        query=filter_query(f),
        size=size + 1,  # one more tells whether there is a next page
        sort=sort,
        track_total_hits=count_up_to,
        source_excludes=HIDDEN_FIELDS,
        **extra,
    )
    raw = resp["hits"]["hits"]
    total = resp["hits"]["total"]
    hits = [{"id": h["_id"], **h["_source"]} for h in raw[:size]]
    more = len(raw) > size
    return MentionPage(
        total=int(total["value"]),
        total_is_exact=total.get("relation", "eq") == "eq",
        hits=hits,
        next_after=encode_after(list(raw[size - 1]["sort"])) if more and raw[:size] else None,
    )


def get_mention(es: Elasticsearch, alias: str, mention_id: str) -> dict[str, Any] | None:
    """One indexed mention (any index behind the alias), or None."""
    resp = es.search(index=alias, query={"ids": {"values": [mention_id]}}, size=1, source_excludes=HIDDEN_FIELDS)
    hits = resp["hits"]["hits"]
    return {"id": hits[0]["_id"], **hits[0]["_source"]} if hits else None


def near_duplicates(es: Elasticsearch, alias: str, mention: dict[str, Any], limit: int = 20) -> list[dict[str, Any]]:
    """The mentions marked as near-duplicates of this one, of the one it duplicates, and that one itself."""
    original = mention.get(DUPLICATE_OF) or mention["id"]
    resp = es.search(
        index=alias,
        query={
            "bool": {
                "should": [{"term": {DUPLICATE_OF: original}}, {"ids": {"values": [original]}}],
                "minimum_should_match": 1,
                "must_not": [{"ids": {"values": [mention["id"]]}}],
            }
        },
        size=limit,
        sort=SORTS["time"],
        source_excludes=HIDDEN_FIELDS,
    )
    return [{"id": h["_id"], **h["_source"]} for h in resp["hits"]["hits"]]


def distinct_values(es: Elasticsearch, alias: str, size: int = 100) -> dict[str, list[str]]:
    """The topics, languages and sources in the index (for the filter menus), in one request."""
    resp = es.search(
        index=alias,
        size=0,
        track_total_hits=False,
        aggs={
            "topics": {"terms": {"field": TOPICS, "size": size}},
            "languages": {"terms": {"field": LANGUAGE, "size": size}},
            "sources": {"terms": {"field": SOURCE, "size": size}},
        },
    )
    aggs = resp["aggregations"]
    return {name: sorted(k for k, _ in _buckets(aggs[name])) for name in ("topics", "languages", "sources")}
