"""Window counts from Elasticsearch: ONE request per evaluation cycle gives every spike rule group its windows for
every topic, plus example mentions of each topic's current window.

Shape: query "not a near-duplicate"; per distinct topic set one `terms(topics)` aggregation, and inside each topic
bucket, per time field:
- a chain of nested single-range `date_range` buckets [start, now), widest outermost: each level holds what starts
  there: a group's histogram (`h<i>`, buckets aligned so that the last one ends now), a negative-share group's
  negative counts (`n<i>`: sentiment terms limited to "negative" -> histogram) and the example mentions of a
  window (`x`: top hits by reach, overall and negative-only);
- one `date_range` of "before <group start>" buckets: which topics were mentioned before a group's range. For the
  others the windows before the first non-empty one are unknown, not zero (the warm-up guard), and are left out.
A group whose window is a multiple of a longer group's (same time field and topics) sums that group's buckets: the
daily rule reads the 14-day hourly histogram, so no window is counted twice.

Mentions without a publication date (many RSS items) count by when they were first seen (`fetched_at`: the index
is written with `create`, so it keeps the first sighting): the same chain on `fetched_at` under a `missing` bucket,
with sparse histograms.

Why this shape: noida-db (the embedded default server) costs about a pass over the index per `filter` aggregation,
top-level or nested (a filter under a date histogram costs a pass per bucket), while a bucket aggregation only looks
at its parent bucket's mentions; it honours neither `hard_bounds` nor `min` on dates. Nested `date_range` buckets do
the job of both with standard aggregations, and keep the bucket count (Elasticsearch's `search.max_buckets`) at
about 400 per topic for the production rules. The naive alternative, one query per topic and rule, is what
`bench/alerts.py` compares against.
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


def histogram_agg(
    time_field: str, width: int, start: int, end: int, sentiment: bool = True, sparse: bool = False
) -> dict[str, Any]:
    """Date histogram of `width` ms buckets ending exactly at `end`, with sentiment counts per bucket if asked;
    `sparse`: only non-empty buckets (for the few undated mentions), else every bucket from `start` on."""
    agg: dict[str, Any] = {
        "date_histogram": {
            "field": time_field,
            "fixed_interval": f"{width}ms",
            "offset": f"{end % width}ms",
            "min_doc_count": 1 if sparse else 0,
        },
    }
    if not sparse:
        agg["date_histogram"]["extended_bounds"] = {"min": start, "max": end - 1}
    if sentiment:
        agg["aggs"] = {"sentiment": {"terms": {"field": LABELS_SENTIMENT, "size": 10}}}
    return agg


def _topic_terms(topics: tuple[str, ...] | None) -> dict[str, Any]:
    # noida-db ignores `include` and answers every topic (the reader keeps the listed ones): room for them all
    terms: dict[str, Any] = {"field": TOPICS, "size": 10_000}
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


def _negative(aggs: dict[str, Any]) -> dict[str, Any]:
    """The parent bucket's mentions by sentiment, to read the negative ones: a terms bucket is cheap on both servers,
    unlike a filter. noida-db ignores `include` (so the size leaves room for every sentiment)."""
    return {"terms": {"field": LABELS_SENTIMENT, "size": 10, "include": ["negative"]}, "aggs": aggs}


def _negative_bucket(agg: dict[str, Any] | None) -> dict[str, Any]:
    return next((b for b in (agg or {}).get("buckets", []) if b.get("key") == "negative"), {})


def _date_range(time_field: str, ranges: list[dict[str, Any]], aggs: dict[str, Any] | None = None) -> dict[str, Any]:
    agg: dict[str, Any] = {"date_range": {"field": time_field, "format": "epoch_millis", "ranges": ranges}}
    if aggs:
        agg["aggs"] = aggs
    return agg


def known_windows(series: list[WindowCount], earlier_mentions: bool) -> list[WindowCount]:
    """The series from the topic's first mention on: windows before it are unknown, not zero volume."""
    if earlier_mentions:
        return series
    first = next((i for i, c in enumerate(series) if c.total), len(series) - 1)
    return series[first:]


def _width(g: SpikeGroup) -> int:
    return int(g.window.total_seconds() * 1000)


def _hosts(groups: list[SpikeGroup]) -> list[int]:
    """For each group, the group whose histogram holds its totals: itself, or a longer-reaching group with the same
    time field and topics whose window divides its own (every one of its windows is a sum of whole buckets)."""
    host = list(range(len(groups)))
    own: list[int] = []
    for i in sorted(range(len(groups)), key=lambda n: (-_width(groups[n]) * groups[n].windows, _width(groups[n]))):
        g = groups[i]
        for j in own:
            h = groups[j]
            if (
                h.time_field == g.time_field
                and h.topics == g.topics
                and _width(h) * h.windows >= _width(g) * g.windows
                and _width(g) % _width(h) == 0
            ):
                host[i] = j
                break
        else:
            own.append(i)
    return host


def _sources(time_field: str) -> list[tuple[str, str, bool]]:
    """Where a group's mentions are counted: (aggregation name, field, sparse). By publication time, undated
    mentions count by first sighting (under a `missing` bucket)."""
    if time_field == PUBLISHED_AT:
        return [(PUBLISHED_AT, PUBLISHED_AT, False), ("undated", FETCHED_AT, True)]
    return [(time_field, time_field, False)]


def _topic_aggs(
    groups: list[SpikeGroup], members: list[int], host: list[int], end: int, examples: int
) -> dict[str, Any]:
    """The aggregations inside one topic bucket for the groups `members` (indices into `groups`)."""
    per_source: dict[tuple[str, str, bool], tuple[dict[int, dict[str, Any]], set[int]]] = {}
    for i in members:
        g = groups[i]
        width = _width(g)
        start = end - g.windows * width
        for source in _sources(g.time_field):
            levels, starts = per_source.setdefault(source, ({}, set()))
            source_field, sparse = source[1], source[2]
            if host[i] == i:  # (a group reading its host's histogram learns the earlier mentions there too)
                starts.add(start)
                levels.setdefault(start, {})[f"h{i}"] = histogram_agg(source_field, width, start, end, False, sparse)
            if g.negative:
                hist = histogram_agg(source_field, width, start, end, False, sparse)
                levels.setdefault(start, {})[f"n{i}"] = _negative({"h": hist})
            if examples > 0:
                level = levels.setdefault(end - width, {})
                if g.volume:
                    level["top"] = _top_hits(examples)
                if g.negative:
                    level["negative_top"] = _negative({"top": _top_hits(examples)})
    aggs: dict[str, Any] = {}
    for (name, source_field, _sparse), (levels, starts) in per_source.items():
        container = aggs
        if name == "undated":
            container = aggs.setdefault(name, {"missing": {"field": PUBLISHED_AT}, "aggs": {}})["aggs"]
        chain: dict[str, Any] | None = None
        for start in sorted(levels, reverse=True):  # narrowest first, each wrapped by the next wider level
            level = dict(levels[start])
            if chain is not None:
                level["c"] = chain
            chain = _date_range(source_field, [{"from": start, "to": end}], level)
        if chain is not None:  # (a group's host is in the same chain, so there is always one)
            container[f"c_{source_field}"] = chain
        container[f"b_{source_field}"] = _date_range(source_field, [{"key": str(s), "to": s} for s in sorted(starts)])
    return aggs


def _chain_levels(chain: dict[str, Any] | None) -> dict[int, dict[str, Any]]:
    """The buckets of a date_range chain by their start."""
    levels: dict[int, dict[str, Any]] = {}
    while chain and chain.get("buckets"):
        bucket = chain["buckets"][0]
        levels[int(float(bucket["from"]))] = bucket
        chain = bucket.get("c")
    return levels


def _histogram(level: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    return (level or {}).get(name, {}).get("buckets", [])


def _negative_histogram(level: dict[str, Any] | None, name: str) -> list[dict[str, Any]]:
    return _negative_bucket((level or {}).get(name)).get("h", {}).get("buckets", [])


def _hits(agg: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (agg or {}).get("hits", {}).get("hits", [])


def _by_reach(hits: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """The `size` hits of highest reach (missing reach last), as the index sorts them: merges dated and undated."""
    ranked = sorted(
        hits, key=lambda h: (h.get("_source", {}).get(REACH) is None, -(h.get("_source", {}).get(REACH) or 0))
    )
    return ranked[:size]


def group_windows(
    es: Elasticsearch, alias: str, groups: list[SpikeGroup], now: datetime, examples: int = 3
) -> list[GroupWindows]:
    """Counts and examples for every group, in one search request (see the module docstring for its shape)."""
    if not groups:
        return []
    end = _ms(now)
    host = _hosts(groups)
    topic_sets: dict[tuple[str, ...] | None, list[int]] = {}
    for i, g in enumerate(groups):
        topic_sets.setdefault(g.topics, []).append(i)
    aggs = {
        f"t{n}": {"terms": _topic_terms(topics), "aggs": _topic_aggs(groups, members, host, end, examples)}
        for n, (topics, members) in enumerate(topic_sets.items())
    }
    # No hit count is needed; skipping it saves a pass on some servers.
    body = {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"must_not": [{"exists": {"field": DUPLICATE_OF}}]}},
        "aggs": aggs,
    }
    response = es.search(index=alias, body=body)["aggregations"]
    results = [GroupWindows() for _ in groups]
    for n, (topics, members) in enumerate(topic_sets.items()):
        for bucket in response[f"t{n}"]["buckets"]:
            if topics is not None and bucket["key"] not in topics:
                continue
            for i in members:
                _read_topic(groups, host, i, bucket, end, now, examples, results[i])
    for i, g in enumerate(groups):
        width = _width(g)
        for topic in g.topics or ():  # a listed topic never mentioned yet: no known window but the current one
            current = datetime.fromtimestamp((end - width) / 1000, tz=now.tzinfo)
            results[i].counts.setdefault(topic, [WindowCount(current, 0, 0)])
    return results


def _read_topic(
    groups: list[SpikeGroup],
    host: list[int],
    i: int,
    bucket: dict[str, Any],
    end: int,
    now: datetime,
    examples: int,
    out: GroupWindows,
) -> None:
    """Group i's windows and examples for the topic of `bucket` (a topic terms bucket) into `out`."""
    g = groups[i]
    width = _width(g)
    start = end - g.windows * width
    h = groups[host[i]]
    host_start = end - h.windows * _width(h)
    totals, negatives = [0] * g.windows, [0] * g.windows
    earlier = False
    top: list[dict[str, Any]] = []
    negative_top: list[dict[str, Any]] = []
    for name, source_field, _sparse in _sources(g.time_field):
        container = bucket if name != "undated" else bucket.get("undated", {})
        levels = _chain_levels(container.get(f"c_{source_field}"))
        # the host's buckets, summed into this group's windows (the same ones when the group is its own host);
        # those before this group's range tell that the topic was mentioned earlier
        for b in _histogram(levels.get(host_start), f"h{host[i]}"):
            key = int(b["key"])
            if start <= key < end:
                totals[(key - start) // width] += b["doc_count"]
            elif host_start <= key < start and b["doc_count"]:
                earlier = True
        if g.negative:
            for b in _negative_histogram(levels.get(start), f"n{i}"):
                key = int(b["key"])
                if start <= key < end:
                    negatives[(key - start) // width] += b["doc_count"]
        for b in container.get(f"b_{source_field}", {}).get("buckets", []):
            if b.get("key") == str(host_start) and b["doc_count"]:
                earlier = True
        current = levels.get(end - width, {})
        top += _hits(current.get("top"))
        negative_top += _hits(_negative_bucket(current.get("negative_top")).get("top"))
    if not any(totals):
        return  # not mentioned in this group's range: no series (a listed topic gets its current window later)
    topic = bucket["key"]
    stamp = [datetime.fromtimestamp((start + k * width) / 1000, tz=now.tzinfo) for k in range(g.windows)]
    series = [WindowCount(stamp[k], totals[k], negatives[k]) for k in range(g.windows)]
    out.counts[topic] = known_windows(series, earlier)
    if examples > 0 and g.volume and top:
        out.examples[topic] = [_example_doc(hit) for hit in _by_reach(top, examples)]
    if examples > 0 and g.negative and negative_top:
        out.negative_examples[topic] = [_example_doc(hit) for hit in _by_reach(negative_top, examples)]


def _example_doc(hit: dict[str, Any]) -> dict[str, Any]:
    return {"id": hit["_id"], **hit.get("_source", {})}
