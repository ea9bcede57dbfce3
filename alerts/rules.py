"""The rules: per-mention rules on a batch's new mentions, windowed spike rules on index aggregations.

Each finding carries why it fired: the rule, the numbers, and example mentions with links.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from earful_alerts.baseline import MIN_FLAT_WINDOWS, usual_volume
from earful_alerts.config import (
    ComplaintRule,
    CrisisQueryRule,
    HighReachNegativeRule,
    NegativeShareSpikeRule,
    RuleSettings,
    VolumeSpikeRule,
)
from earful_alerts.spike_text import chance_words, span_words, volume_reason
from earful_alerts.stats import overdispersed_increase, overdispersed_share_increase, share_dispersion
from earful_alerts.windows import SpikeGroup, WindowCount, group_windows
from earful_listeners.topics import CompiledTopic, MatchTarget, compile_topic

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

PER_MENTION = (ComplaintRule, HighReachNegativeRule, CrisisQueryRule)
SPIKES = (VolumeSpikeRule, NegativeShareSpikeRule)


def example(doc: dict[str, Any]) -> dict[str, Any]:
    """A bounded example of a mention for the alert (the full text stays in the index)."""
    labels = doc.get("labels") or {}
    return {
        "id": doc.get("id"),
        "url": doc.get("url"),
        "title": str(doc.get("title") or "")[:300],
        "text": str(doc.get("text") or "")[:600],
        "published_at": doc.get("published_at"),
        "reach": doc.get("reach"),
        "source": doc.get("source"),
        "sentiment": labels.get("sentiment"),
    }


def _rule_topics(rule: RuleSettings, doc: dict[str, Any]) -> list[str]:
    topics = list(doc.get("topics") or [])
    return topics if "*" in rule.topics else [t for t in topics if t in rule.topics]


@dataclass
class MentionHit:
    """A per-mention rule fired on one mention."""

    rule: RuleSettings
    topic: str
    topics: list[str]
    mention: dict[str, Any]  # the indexed document plus its `id`
    numbers: dict[str, Any]
    reason: str


def compile_crisis_queries(rules: list[RuleSettings]) -> dict[str, CompiledTopic]:
    """Crisis queries compiled once with the topic query syntax (a bad query is a configuration error)."""
    return {r.name: compile_topic(f"rule {r.name}", r.query) for r in rules if isinstance(r, CrisisQueryRule)}


def mention_hits(
    rules: list[RuleSettings], mentions: list[dict[str, Any]], crisis: dict[str, CompiledTopic] | None = None
) -> list[MentionHit]:
    """Every (rule, mention) pair where a per-mention rule fires. Near-duplicates of earlier mentions are skipped."""
    crisis = crisis if crisis is not None else compile_crisis_queries(rules)
    hits: list[MentionHit] = []
    for doc in mentions:
        if doc.get("duplicate_of"):
            continue
        labels = doc.get("labels") or {}
        target: MatchTarget | None = None
        for rule in rules:
            if not isinstance(rule, PER_MENTION):
                continue
            topics = _rule_topics(rule, doc)
            if not topics:
                continue
            if isinstance(rule, ComplaintRule):
                prob = labels.get("complaint_probability")
                if prob is None:
                    prob = 1.0 if labels.get("complaint") else 0.0
                if prob < rule.min_probability:
                    continue
                numbers: dict[str, Any] = {
                    "complaint_probability": round(float(prob), 3),
                    "threshold": rule.min_probability,
                }
                reason = f"complaint probability {float(prob):.2f} ≥ {rule.min_probability:.2f}"
            elif isinstance(rule, HighReachNegativeRule):
                reach = doc.get("reach") or 0
                if labels.get("sentiment") != "negative" or reach < rule.min_reach:
                    continue
                numbers = {"reach": reach, "threshold": rule.min_reach}
                reason = f"negative mention with reach {reach:,} ≥ {rule.min_reach:,}"
            else:
                if target is None:
                    target = MatchTarget.build(
                        str(doc.get("title") or ""), str(doc.get("text") or ""), str(doc.get("language") or "und")
                    )
                if not crisis[rule.name].matches(target):
                    continue
                numbers = {"query": rule.query}
                reason = f"matches crisis query {rule.query}"
            hits.append(MentionHit(rule, topics[0], topics, doc, numbers, reason))
    return hits


@dataclass
class SpikeFinding:
    """A spike rule fired for a topic in the window ending at `window_end`."""

    rule: RuleSettings
    topic: str
    window_start: datetime
    window_end: datetime
    numbers: dict[str, Any]
    reason: str
    examples: list[dict[str, Any]] = field(default_factory=list)


def judge_volume(rule: VolumeSpikeRule, counts: list[WindowCount]) -> tuple[dict[str, Any], str] | None:
    """Numbers and reason when the last window is a significant volume spike over the usual volume.

    `counts` are the known windows, oldest first, the current one last (none from before the topic's first
    mention). This is the whole decision: the evaluation and `bench/spikes.py` both call it.
    """
    current, baseline = counts[-1].total, [c.total for c in counts[:-1]]
    if current < rule.min_count:
        return None
    usual = usual_volume(baseline, rule.window, rule.seasonality)
    if usual is None:  # warm-up: too little known history to say what is usual
        return None
    if current < rule.min_ratio * max(usual.expected, 0.5):
        return None
    test = overdispersed_increase(current, usual.expected, usual.dispersion, usual.references)
    if test.p_value >= rule.alpha:
        return None
    ratio = current / usual.expected if usual.expected else None
    numbers = {
        "mentions": current,
        "baseline_mean": round(usual.expected, 2),
        "ratio": round(ratio, 1) if ratio else None,
        "p_value": float(f"{test.p_value:.3g}"),
        "baseline_windows": len(baseline),
        "compared_with": usual.basis,
        "dispersion": round(usual.dispersion, 4),
    }
    return numbers, volume_reason(current, usual.expected, usual.basis, counts[-1].start, rule.window, test.p_value)


def judge_negative_share(rule: NegativeShareSpikeRule, counts: list[WindowCount]) -> tuple[dict[str, Any], str] | None:
    """Numbers and reason when the negative share of the last window rose significantly (same contract as
    `judge_volume`)."""
    cur, base = counts[-1], counts[:-1]
    if cur.total < rule.min_count or cur.negative < rule.min_negative:
        return None
    if sum(1 for c in base if c.total) < MIN_FLAT_WINDOWS:  # warm-up: no usual share yet
        return None
    base_neg, base_total = sum(c.negative for c in base), sum(c.total for c in base)
    rho = share_dispersion([c.negative for c in base], [c.total for c in base])
    test = overdispersed_share_increase(cur.negative, cur.total, base_neg, base_total, rho)
    share = cur.negative / cur.total
    if share - test.expected < rule.min_share_increase or test.p_value >= rule.alpha:
        return None
    numbers = {
        "negative": cur.negative,
        "mentions": cur.total,
        "negative_share": round(share, 3),
        "baseline_share": round(test.expected, 3),
        "baseline_mentions": base_total,
        "p_value": float(f"{test.p_value:.3g}"),
        "share_dispersion": round(rho, 4),
    }
    return numbers, (
        f"{share:.0%} of the {cur.total:,} mentions {span_words(cur.start, rule.window)} are "
        f"negative ({cur.negative:,}), against the usual {test.expected:.0%}; "
        f"{chance_words(test.p_value)}"
    )


def continues_incident(last_fired_at: datetime | None, now: datetime, rule: RuleSettings) -> bool:
    """Whether a spike firing at `now` is the same incident as the one that last fired (incident dedup): it is
    while the spike keeps firing, and for the rule's cooldown (at least one window) after."""
    window = getattr(rule, "window", timedelta(0))
    return last_fired_at is not None and last_fired_at >= now - max(rule.cooldown, window)


def spike_findings(es: Elasticsearch, alias: str, rules: list[RuleSettings], now: datetime) -> list[SpikeFinding]:
    """Evaluate every spike rule from one aggregation request (rules sharing window, baseline and time field
    share one group of aggregations)."""
    grouped: dict[tuple, list[RuleSettings]] = defaultdict(list)
    for rule in rules:
        if isinstance(rule, SPIKES):
            grouped[(rule.window, rule.baseline_windows, rule.time_field)].append(rule)
    if not grouped:
        return []
    groups = []
    for (window, baseline_windows, time_field), members in grouped.items():
        wildcard = any("*" in r.topics for r in members)
        topics = None if wildcard else tuple(sorted({t for r in members for t in r.topics}))
        groups.append(
            SpikeGroup(
                window,
                baseline_windows + 1,
                time_field,
                topics,
                volume=any(isinstance(r, VolumeSpikeRule) for r in members),
                negative=any(isinstance(r, NegativeShareSpikeRule) for r in members),
            )
        )
    size = max((r.examples for members in grouped.values() for r in members), default=0)
    results = group_windows(es, alias, groups, now, examples=size)
    findings: list[SpikeFinding] = []
    for members, result in zip(grouped.values(), results, strict=True):
        for rule in members:
            judge = judge_volume if isinstance(rule, VolumeSpikeRule) else judge_negative_share
            negative = isinstance(rule, NegativeShareSpikeRule)
            for topic, series in sorted(result.counts.items()):
                if "*" not in rule.topics and topic not in rule.topics:
                    continue
                verdict = judge(rule, series)  # type: ignore[arg-type]
                if verdict is None:
                    continue
                docs = (result.negative_examples if negative else result.examples).get(topic, [])
                findings.append(
                    SpikeFinding(
                        rule,
                        topic,
                        series[-1].start,
                        now,
                        *verdict,
                        examples=[example(d) for d in docs[: rule.examples]],
                    )
                )
    return findings
