"""Window counts from Elasticsearch: ONE request per evaluation cycle gives every spike rule group its windows
for every topic, plus example mentions of each topic's current window.

Per rule group (same window, baseline and time field): filter(range) -> terms(topics) -> date_histogram(window,
aligned so that the last bucket ends now) -> terms(sentiment); and filter(current window) -> terms(topics) ->
top_hits(by reach) for the examples, overall and negative-only. The naive alternative, one query per topic and
rule, is what `bench/alerts.py` compares against.

Mentions without a publication date (many RSS items) count by when they were first seen (`fetched_at`: the
index is written with `create`, so it keeps the first sighting), in a sparse histogram under a `missing` bucket
of the same aggregation. A further `filter -> terms` tells which topics have any mention before the fetched
range: for the others the windows before the first non-empty one are unknown, not zero (the warm-up guard), and
are left out of their series.

Only top-level `filter` aggregations are used: a `filter` nested under a date histogram costs noida-db a pass
over the index per bucket (80 s instead of 0.2 s at 20,000 mentions); a sentiment `terms` sub-aggregation does
the same job cheaply on both servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from earful_indexer.fields import (
    DUPLICATE_OF,
    FETCHED_AT,
    LABELS_SENTIMENT,
    PUBLISHED_AT,
    REACH,
    SOURCE,
    TEXT,
    TITLE,
    TOPICS,
    URL,
)

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

EXAMPLE_FIELDS = [URL, TITLE, TEXT, PUBLISHED_AT, REACH, SOURCE, LABELS_SENTIMENT]


@dataclass(frozen=True)
class WindowCount:
    start: datetime
    total: int
    negative: int


@dataclass(frozen=True)
class SpikeGroup:
    """Spike rules sharing one aggregation; `topics` None means every topic in the index."""

    window: timedelta
    windows: int  # baseline windows + the current one
    time_field: str
    topics: tuple[str, ...] | None
    volume: bool = True  # a volume rule is in the group: overall examples are needed
    negative: bool = True  # a negative-share rule is in the group: sentiment counts and negative examples


@dataclass
class GroupWindows:
    """What one group's aggregations returned: per topic, the windows (oldest first) and example mentions."""

    counts: dict[str, list[WindowCount]] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    negative_examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def negative_count(bucket: dict[str, Any]) -> int:
    """Negative mentions in a histogram bucket (from its sentiment terms sub-aggregation)."""
    for term in bucket.get("sentiment", {}).get("buckets", []):
        if term["key"] == "negative":
            return int(term["doc_count"])
    return 0


def histogram_agg(time_field: str, width: int, start: int, end: int, sentiment: bool = True) -> dict[str, Any]:
    """Date histogram of `width` ms buckets ending exactly at `end`, with sentiment counts per bucket if asked."""
    agg: dict[str, Any] = {
        "date_histogram": {
            "field": time_field,
            "fixed_interval": f"{width}ms",
            "offset": f"{end % width}ms",
            "min_doc_count": 0,
            "extended_bounds": {"min": start, "max": end - 1},
        },
    }
    if sentiment:
        agg["aggs"] = {"sentiment": {"terms": {"field": LABELS_SENTIMENT, "size": 10}}}
    return agg


def _topic_terms(topics: tuple[str, ...] | None) -> dict[str, Any]:
    terms: dict[str, Any] = {"field": TOPICS, "size": max(len(topics), 1) if topics else 10_000}
    if topics:
        terms["include"] = list(topics)
    return terms


def _top_hits(size: int) -> dict[str, Any]:
    return {
        "top_hits": {
            "size": size,
            "sort": [{REACH: {"order": "desc", "missing": "_last"}}],
            "_source": EXAMPLE_FIELDS,
        }
    }


def _examples_agg(filters: list[dict[str, Any]], group: SpikeGroup, size: int) -> dict[str, Any]:
    """Top mentions by reach per topic and/or top negative ones (nested, so it costs no extra pass)."""
    per_topic: dict[str, Any] = {}
    if group.volume:
        per_topic["top"] = _top_hits(size)
    if group.negative:
        per_topic["sentiment"] = {"terms": {"field": LABELS_SENTIMENT, "size": 10}, "aggs": {"top": _top_hits(size)}}
    return {
        "filter": {"bool": {"filter": filters}},
        "aggs": {"topic": {"terms": _topic_terms(group.topics), "aggs": per_topic}},
    }


def _time_range(time_field: str, gte: int | None, lt: int) -> dict[str, Any]:
    """Mentions in [gte, lt) by `time_field`; by publication time this takes undated mentions by first sighting."""
    bounds = {"lt": lt, "format": "epoch_millis", **({"gte": gte} if gte is not None else {})}
    if time_field != PUBLISHED_AT:
        return {"range": {time_field: bounds}}
    return {
        "bool": {
            "minimum_should_match": 1,
            "should": [
                {"range": {PUBLISHED_AT: bounds}},
                {
                    "bool": {
                        "must_not": [{"exists": {"field": PUBLISHED_AT}}],
                        "filter": [{"range": {FETCHED_AT: bounds}}],
                    }
                },
            ],
        }
    }


def known_windows(series: list[WindowCount], earlier_mentions: bool) -> list[WindowCount]:
    """The series from the topic's first mention on: windows before it are unknown, not zero volume."""
    if earlier_mentions:
        return series
    first = next((i for i, c in enumerate(series) if c.total), len(series) - 1)
    return series[first:]


def _covering(groups: list[SpikeGroup], k: int) -> tuple[int, int] | None:
    """A group whose range starts earlier than group k's on one of its window boundaries (same time field, every
    topic of k), and how many of its windows lie before k's range: its histogram already says whether k's topics
    have mentions before k's range, so k needs no query for that. The earliest-starting such group is chosen."""
    g = groups[k]
    span = g.window * g.windows
    best: tuple[int, int] | None = None
    for j, other in enumerate(groups):
        lead_time = other.window * other.windows - span
        if (
            j == k
            or other.time_field != g.time_field
            or lead_time <= timedelta(0)
            or lead_time % other.window
            or not (other.topics is None or (g.topics is not None and set(g.topics) <= set(other.topics)))
        ):
            continue
        if best is None or other.window * other.windows > groups[best[0]].window * groups[best[0]].windows:
            best = (j, lead_time // other.window)
    return best


def _examples_key(g: SpikeGroup) -> tuple[timedelta, str]:
    return g.window, g.time_field


def group_windows(
    es: Elasticsearch, alias: str, groups: list[SpikeGroup], now: datetime, examples: int = 3
) -> list[GroupWindows]:
    """Counts and examples for every group, in one search request.

    Per group one `filter` aggregation (each costs the server about one pass): the histogram of dated mentions
    and, under a `missing` bucket, the sparse histogram of undated ones by first sighting. Per group whose
    earlier history no longer group shows, one `filter -> terms` for "mentioned before this range" (warm-up).
    Groups with the same window share one examples aggregation.
    """
    end = _ms(now)
    aggs: dict[str, Any] = {}
    shared_examples: dict[tuple[timedelta, str], list[SpikeGroup]] = {}
    for g in groups:
        shared_examples.setdefault(_examples_key(g), []).append(g)
    base_filters: list[list[dict[str, Any]]] = []
    for i, g in enumerate(groups):
        width = int(g.window.total_seconds() * 1000)
        start = end - g.windows * width
        base: list[dict[str, Any]] = [{"bool": {"must_not": [{"exists": {"field": DUPLICATE_OF}}]}}]
        if g.topics:
            base.append({"terms": {TOPICS: list(g.topics)}})
        base_filters.append(base)
        per_topic: dict[str, Any] = {"window": histogram_agg(g.time_field, width, start, end, sentiment=g.negative)}
        if g.time_field == PUBLISHED_AT:
            undated = histogram_agg(FETCHED_AT, width, start, end, sentiment=g.negative)
            undated["date_histogram"]["min_doc_count"] = 1  # sparse: undated mentions are few, buckets are costly
            del undated["date_histogram"]["extended_bounds"]
            per_topic["undated"] = {"missing": {"field": PUBLISHED_AT}, "aggs": {"window": undated}}
        aggs[f"g{i}"] = {
            "filter": {"bool": {"filter": [_time_range(g.time_field, start, end), *base]}},
            "aggs": {"topic": {"terms": _topic_terms(g.topics), "aggs": per_topic}},
        }
        if _covering(groups, i) is None:
            aggs[f"e{i}"] = {
                "filter": {"bool": {"filter": [_time_range(g.time_field, None, start), *base]}},
                "aggs": {"topic": {"terms": _topic_terms(g.topics)}},
            }
    if examples > 0:
        for n, (key, members) in enumerate(shared_examples.items()):
            width = int(key[0].total_seconds() * 1000)
            topics = (
                None
                if any(m.topics is None for m in members)
                else tuple(sorted({t for m in members for t in m.topics or ()}))
            )
            union = SpikeGroup(
                key[0],
                1,
                key[1],
                topics,
                volume=any(m.volume for m in members),
                negative=any(m.negative for m in members),
            )
            base = [{"bool": {"must_not": [{"exists": {"field": DUPLICATE_OF}}]}}]
            if topics:
                base.append({"terms": {TOPICS: list(topics)}})
            aggs[f"x{n}"] = _examples_agg([_time_range(key[1], end - width, end), *base], union, examples)
    if not aggs:
        return []
    # No hit count is needed; skipping it saves a pass on some servers.
    body = {"size": 0, "track_total_hits": False, "aggs": aggs}
    response = es.search(index=alias, body=body)["aggregations"]
    totals: list[dict[str, list[int]]] = []
    negatives: list[dict[str, list[int]]] = []
    for i, g in enumerate(groups):
        width = int(g.window.total_seconds() * 1000)
        starts = {end - (g.windows - k) * width: k for k in range(g.windows)}
        tot: dict[str, list[int]] = {}
        neg: dict[str, list[int]] = {}
        for bucket in response[f"g{i}"]["topic"]["buckets"]:
            all_in = tot.setdefault(bucket["key"], [0] * g.windows)
            negative = neg.setdefault(bucket["key"], [0] * g.windows)
            for histogram in (bucket["window"], bucket.get("undated", {}).get("window", {})):
                for b in histogram.get("buckets", []):
                    k = starts.get(int(b["key"]))
                    if k is not None:
                        all_in[k] += b["doc_count"]
                        negative[k] += negative_count(b)
        totals.append(tot)
        negatives.append(neg)
    earlier: list[set[str]] = [set() for _ in groups]
    for i in range(len(groups)):
        if f"e{i}" in response:
            earlier[i] = {b["key"] for b in response[f"e{i}"]["topic"]["buckets"] if b["doc_count"]}
    for i in sorted(range(len(groups)), key=lambda n: -(groups[n].window * groups[n].windows)):
        g = groups[i]  # longest first: a covering group is longer, so its answer is final before it is used
        cover = _covering(groups, i)
        if cover is not None:  # mentioned before group i's range: before group j's, or in j's windows before i's
            j, lead = cover
            earlier[i] = earlier[j] | {t for t, counts in totals[j].items() if any(counts[:lead])}
    results = []
    for i, g in enumerate(groups):
        width = int(g.window.total_seconds() * 1000)
        stamp = [
            datetime.fromtimestamp((end - (g.windows - k) * width) / 1000, tz=now.tzinfo) for k in range(g.windows)
        ]
        out = GroupWindows()
        for topic, counts in totals[i].items():
            series = [WindowCount(stamp[k], counts[k], negatives[i][topic][k]) for k in range(g.windows)]
            out.counts[topic] = known_windows(series, topic in earlier[i])
        for topic in g.topics or ():  # a listed topic never mentioned yet: no known window but the current one
            out.counts.setdefault(topic, [WindowCount(stamp[-1], 0, 0)])
        n = list(shared_examples).index(_examples_key(g))
        for bucket in response.get(f"x{n}", {}).get("topic", {}).get("buckets", []):
            if g.topics is not None and bucket["key"] not in g.topics:
                continue
            if "top" in bucket and g.volume:
                out.examples[bucket["key"]] = [_example_doc(h) for h in bucket["top"]["hits"]["hits"]]
            for sentiment in bucket.get("sentiment", {}).get("buckets", []):
                if sentiment["key"] == "negative" and g.negative:
                    out.negative_examples[bucket["key"]] = [_example_doc(h) for h in sentiment["top"]["hits"]["hits"]]
        results.append(out)
    return results


def _example_doc(hit: dict[str, Any]) -> dict[str, Any]:
    return {"id": hit["_id"], **hit.get("_source", {})}
