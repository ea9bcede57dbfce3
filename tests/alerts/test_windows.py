"""The one aggregation request of a cycle against a real noida-db index: every group's windows, warm-up and examples
equal a count done by hand over the same mentions, whichever groups share the request."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from earful_alerts.windows import GroupWindows, SpikeGroup, WindowCount, group_windows, known_windows
from tests.alerts.conftest import bulk_index, mention_doc

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
TOPICS = ["acme", "beta", "gamma", "late"]

GROUPS = [
    SpikeGroup(HOUR, 97, "published_at", None, volume=True, negative=False),  # hosts the next three
    SpikeGroup(HOUR, 25, "published_at", None, volume=False, negative=True),
    SpikeGroup(DAY, 4, "published_at", None, volume=True, negative=False),
    SpikeGroup(timedelta(hours=3), 8, "published_at", None, volume=True, negative=True),
    SpikeGroup(timedelta(minutes=90), 10, "published_at", None, volume=True, negative=False),  # no host divides it
    SpikeGroup(HOUR, 49, "published_at", ("acme", "late"), volume=True, negative=True),
    SpikeGroup(HOUR, 30, "fetched_at", None, volume=True, negative=True),
]


def _docs(seed: int = 7) -> list[dict[str, Any]]:
    """Mentions over 6 days (and one long before), some undated, some in two topics, some near-duplicates; a topic
    that starts 40 hours ago (before the range of some groups, inside that of others) and pauses for 10 hours."""
    rng = random.Random(seed)
    docs = []
    for n in range(900):
        topic = rng.choice(TOPICS[:3])
        at = NOW - timedelta(seconds=rng.uniform(1, 6 * 86400))
        doc = mention_doc(n, topic=topic, at=at, sentiment=rng.choice(["negative", "neutral", "positive"]))
        doc["reach"] = rng.randint(1, 10_000)
        if n % 7 == 0:
            doc["topics"] = [topic, TOPICS[(TOPICS.index(topic) + 1) % 3]]
        if n % 11 == 0:  # undated: counted by first sighting
            del doc["published_at"]
            doc["fetched_at"] = (at + timedelta(minutes=rng.uniform(0, 90))).isoformat()
        elif n % 5 == 0:  # seen a while after publication
            doc["fetched_at"] = (at + timedelta(hours=rng.uniform(0, 30))).isoformat()
        if n % 23 == 0:
            doc["duplicate_of"] = "m-acme-0"
        docs.append(doc)
    for n in range(120):  # 40 to 30 hours ago, then silent until 20 hours ago
        at = NOW - timedelta(hours=rng.uniform(30, 40) if n % 3 == 0 else rng.uniform(0.01, 20))
        docs.append(mention_doc(f"late{n}", topic="late", at=at, sentiment=rng.choice(["negative", "neutral"])))
    docs.append(mention_doc("old", topic="gamma", at=NOW - timedelta(days=40)))
    docs.append(mention_doc("future", topic="late", at=NOW + timedelta(hours=2)))  # after now: in no window
    return docs


def _at(doc: dict[str, Any], field: str) -> datetime:
    value = doc.get(field) or doc["fetched_at"]  # by publication time, an undated mention counts by first sighting
    return datetime.fromisoformat(value)


def _by_hand(docs: list[dict[str, Any]], g: SpikeGroup, examples: int) -> GroupWindows:
    """What the group's windows and examples are, counted in Python over the documents."""
    start = NOW - g.windows * g.window
    out = GroupWindows()
    live = [d for d in docs if not d.get("duplicate_of")]
    for topic in TOPICS:
        if g.topics is not None and topic not in g.topics:
            continue
        mine = [d for d in live if topic in d["topics"]]
        in_range = [d for d in mine if start <= _at(d, g.time_field) < NOW]
        if not in_range:
            continue
        series = []
        for k in range(g.windows):
            lo = start + k * g.window
            window = [d for d in in_range if lo <= _at(d, g.time_field) < lo + g.window]
            negative = sum(d["labels"]["sentiment"] == "negative" for d in window) if g.negative else 0
            series.append(WindowCount(lo, len(window), negative))
        out.counts[topic] = known_windows(series, any(_at(d, g.time_field) < start for d in mine))
        current = [d for d in in_range if _at(d, g.time_field) >= NOW - g.window]
        ranked = sorted(current, key=lambda d: -d["reach"])
        if g.volume and ranked:
            out.examples[topic] = ranked[:examples]
        negative = [d for d in ranked if d["labels"]["sentiment"] == "negative"]
        if g.negative and negative:
            out.negative_examples[topic] = negative[:examples]
    for topic in g.topics or ():
        out.counts.setdefault(topic, [WindowCount(NOW - g.window, 0, 0)])
    return out


def _reaches(examples: dict[str, list[dict[str, Any]]]) -> dict[str, list[int]]:
    return {topic: [d["reach"] for d in docs] for topic, docs in examples.items()}


def test_every_group_in_one_request_matches_a_count_by_hand(index):
    es, alias = index
    docs = _docs()
    bulk_index(es, alias, docs)
    together = group_windows(es, alias, GROUPS, NOW, examples=3)
    for g, got in zip(GROUPS, together, strict=True):
        want = _by_hand(docs, g, 3)
        assert got.counts == want.counts, g
        # reach is drawn at random, so ties are rare; compare by reach, which also checks the ranking
        assert _reaches(got.examples) == _reaches(want.examples), g
        assert _reaches(got.negative_examples) == _reaches(want.negative_examples), g
        alone = group_windows(es, alias, [g], NOW, examples=3)[0]
        assert alone.counts == got.counts, g


def test_no_groups_ask_nothing(index):
    es, alias = index
    assert group_windows(es, alias, [], NOW) == []
