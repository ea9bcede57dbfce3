"""Rules against a real noida-db index: spikes on generated series with known answers, per-mention rules,
incident dedup, cooldowns, idempotent re-runs and the complaint hook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from earful_alerts.config import AlertsSettings
from earful_alerts.evaluate import evaluate
from earful_alerts.rules import spike_findings
from earful_alerts.tables import alert_mention_hits, alerts
from tests.alerts.conftest import bulk_index, mention_doc

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def series_docs(
    topic: str, baseline: list[int], current: int, *, negative_base: float = 0.0, negative_now: float = 0.0
) -> list[dict]:
    """Docs with `baseline[i]` mentions in window i (oldest first) and `current` in the last hour before NOW."""
    docs, n = [], 0
    windows = [*baseline, current]
    for w, count in enumerate(windows):
        start = NOW - (len(windows) - w) * HOUR
        share = negative_now if w == len(windows) - 1 else negative_base
        negatives = round(count * share)
        for j in range(count):
            at = start + (j + 0.5) * HOUR / max(count, 1)
            docs.append(
                mention_doc(n, topic=topic, at=at, sentiment="negative" if j < negatives else "neutral", reach=100 + n)
            )
            n += 1
    return docs


SPIKE_RULES = {
    "rules": [
        {"name": "volume", "type": "volume_spike", "window": "1h", "baseline_windows": 24, "min_count": 10},
        {"name": "negative", "type": "negative_share_spike", "window": "1h", "baseline_windows": 24, "min_count": 10},
    ]
}


def test_spike_rules_on_generated_series_with_known_answers(index):
    es, alias = index
    rng_counts = [3, 5, 4, 4, 6, 2, 4, 5, 3, 4, 4, 5, 3, 4, 6, 4, 3, 4, 5, 4, 3, 4, 4, 5]  # mean 4
    assert sum(rng_counts) == 98
    docs = (
        series_docs("low-noise", rng_counts, 10)  # naive 3-sigma would fire; must not
        + series_docs("low-burst", rng_counts, 25)  # real burst at low volume: fires
        + series_docs("big-steady", [200] * 24, 228)  # +14% at high volume: noise
        + series_docs("big-burst", [200] * 24, 320)
        + series_docs("tiny", [0] * 24, 6)  # below the minimum volume
        + series_docs("neg-rise", [100] * 24, 100, negative_base=0.1, negative_now=0.4)
        + series_docs("neg-lowvol", [10] * 24, 12, negative_base=0.1, negative_now=0.42)
    )
    bulk_index(es, alias, docs)
    settings = AlertsSettings.model_validate(SPIKE_RULES)
    findings = spike_findings(es, alias, settings.rules, NOW)
    fired = {(f.rule.name, f.topic) for f in findings}
    assert fired == {("volume", "low-burst"), ("volume", "big-burst"), ("negative", "neg-rise")}
    burst = next(f for f in findings if f.topic == "low-burst")
    assert burst.numbers["mentions"] == 25 and burst.numbers["baseline_mean"] == pytest.approx(98 / 24, abs=0.01)
    assert len(burst.examples) == 3 and all(e["url"].startswith("https://") for e in burst.examples)
    neg = next(f for f in findings if f.topic == "neg-rise")
    assert neg.numbers["negative"] == 40 and all(e["sentiment"] == "negative" for e in neg.examples)


def test_same_spike_is_one_alert_updated_not_ten(index, sqlite_engine):
    es, alias = index
    bulk_index(es, alias, series_docs("acme", [4] * 24, 30))
    settings = AlertsSettings.model_validate(SPIKE_RULES)
    for minutes in (0, 10, 20, 30):  # four batches while the spike lasts
        evaluate(sqlite_engine, es, alias, settings, [], NOW + timedelta(minutes=minutes))
    with sqlite_engine.connect() as conn:
        rows = conn.execute(sa.select(alerts.c.rule, alerts.c.occurrences)).all()
    assert len(rows) == 1 and rows[0].occurrences >= 2


def test_per_mention_rules_and_idempotent_rerun(index, engine):
    es, alias = index
    at = NOW - timedelta(minutes=5)
    docs = [
        mention_doc(1, topic="acme", at=at, complaint=0.91, sentiment="negative", title="Refund <!channel>"),
        mention_doc(2, topic="acme", at=at, complaint=0.4),
        mention_doc(3, topic="acme", at=at, sentiment="negative", reach=250_000),
        mention_doc(4, topic="acme", at=at, sentiment="positive", reach=900_000),
        mention_doc(5, topic="acme", at=at, text="They announced a product RECALL today"),
        mention_doc(6, topic="other", at=at, complaint=0.99),
    ]
    bulk_index(es, alias, docs)
    settings = AlertsSettings.model_validate(
        {
            "rules": [
                {"name": "complaints", "type": "complaint", "topics": ["acme"], "min_probability": 0.8},
                {"name": "reach", "type": "high_reach_negative", "min_reach": 100_000},
                {"name": "crisis", "type": "crisis_query", "query": 'recall OR "data breach"'},
            ]
        }
    )
    report = evaluate(engine, es, alias, settings, docs, NOW)
    assert (report.raised, report.updated) == (3, 0)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(alerts.c.rule, alerts.c.severity, alerts.c.details)).all()
    by_rule = {r.rule: r for r in rows}
    assert set(by_rule) == {"complaints", "reach", "crisis"}
    assert by_rule["crisis"].severity == "critical"
    assert by_rule["complaints"].details["examples"][0]["url"] == "https://news.example.org/acme/1"
    assert by_rule["reach"].details["numbers"]["reach"] == 250_000
    again = evaluate(engine, es, alias, settings, docs, NOW + timedelta(minutes=1))  # the batch re-runs
    assert (again.raised, again.updated, again.folded) == (0, 0, 0)


def test_cooldown_folds_further_hits_into_the_open_alert(sqlite_engine):
    settings = AlertsSettings.model_validate(
        {"rules": [{"name": "complaints", "type": "complaint", "cooldown": "1h", "examples": 2}]}
    )
    first = [mention_doc(i, topic="acme", at=NOW, complaint=0.95) for i in range(3)]
    report = evaluate(sqlite_engine, None, None, settings, first, NOW)
    assert (report.raised, report.folded) == (1, 2)
    later = [mention_doc(9, topic="acme", at=NOW, complaint=0.95)]
    assert evaluate(sqlite_engine, None, None, settings, later, NOW + timedelta(minutes=90)).raised == 1
    with sqlite_engine.connect() as conn:
        rows = conn.execute(sa.select(alerts.c.occurrences, alerts.c.details).order_by(alerts.c.created_at)).all()
    assert [r.occurrences for r in rows] == [3, 1]
    assert len(rows[0].details["examples"]) == 2 and len(rows[0].details["mention_ids"]) == 3


class RecordingOpener:
    """A small in-test complaint register: idempotent per mention id, fails when told to."""

    def __init__(self) -> None:
        self.refs: dict[str, str] = {}
        self.calls: list[dict] = []
        self.fail = False

    def open_from_alert(self, *, mention: dict, alert_id: str, topic: str, rule: str) -> str:
        self.calls.append({"mention": mention, "alert_id": alert_id, "topic": topic, "rule": rule})
        if self.fail:
            raise RuntimeError("register down")
        return self.refs.setdefault(mention["id"], f"CMP-{len(self.refs) + 1:04d}")


def test_rule_opens_complaints_once_and_catches_up_after_a_failure(index, sqlite_engine):
    es, alias = index
    docs = [mention_doc(i, topic="acme", at=NOW, complaint=0.95, title=f"Broken {i}") for i in range(2)]
    bulk_index(es, alias, docs)
    settings = AlertsSettings.model_validate(
        {"rules": [{"name": "complaints", "type": "complaint", "open_complaint": True}]}
    )
    opener = RecordingOpener()
    opener.fail = True
    report = evaluate(sqlite_engine, es, alias, settings, docs, NOW, opener)
    assert report.raised == 2 and report.complaint_errors == 2 and report.complaints_opened == 0
    opener.fail = False
    report = evaluate(sqlite_engine, es, alias, settings, [], NOW + timedelta(minutes=5), opener)  # next batch
    assert report.complaints_opened == 2
    call = opener.calls[-1]
    assert call["mention"]["id"].startswith("m-acme-") and call["mention"]["title"].startswith("Broken")
    assert call["rule"] == "complaints" and call["topic"] == "acme" and call["alert_id"].startswith("al-")
    assert evaluate(sqlite_engine, es, alias, settings, docs, NOW + timedelta(minutes=6), opener).complaints_opened == 0
    with sqlite_engine.connect() as conn:
        refs = sorted(conn.execute(sa.select(alert_mention_hits.c.complaint_ref)).scalars())
    assert refs == ["CMP-0001", "CMP-0002"]


def test_bad_crisis_query_is_a_config_error():
    from earful_listeners.topics import QueryError

    settings = AlertsSettings.model_validate({"rules": [{"name": "c", "type": "crisis_query", "query": "a AND ("}]})
    with pytest.raises(QueryError, match="rule c"):
        evaluate(None, None, None, settings, [mention_doc(1, topic="t", at=NOW)], NOW)


def test_index_down_spikes_wait_but_mention_alerts_are_kept(sqlite_engine):
    from elasticsearch import Elasticsearch

    from earful_indexer.embedded import free_port

    es = Elasticsearch(f"http://127.0.0.1:{free_port()}", request_timeout=1, max_retries=0)
    settings = AlertsSettings.model_validate(
        {"rules": [{"name": "complaints", "type": "complaint"}, *SPIKE_RULES["rules"]]}
    )
    report = evaluate(
        sqlite_engine, es, "nowhere", settings, [mention_doc(1, topic="acme", at=NOW, complaint=0.99)], NOW
    )
    assert report.raised == 1 and report.spike_error and "Connection" in report.spike_error


def test_undated_mentions_count_by_first_sighting_and_new_topics_warm_up(index):
    es, alias = index
    undated = []
    for j in range(25):  # an RSS feed without dates: 25 items first seen in the last hour
        doc = mention_doc(f"u{j}", topic="undated", at=NOW - timedelta(minutes=55 - 2 * j))
        del doc["published_at"]
        undated.append(doc)
    old = mention_doc("old", topic="quiet-known", at=NOW - timedelta(days=30))
    docs = (
        series_docs("undated", [4] * 24, 0)
        + undated
        + series_docs("brand-new", [], 40)  # first mention this hour: nothing to compare with
        + series_docs("new-today", [0] * 20 + [5, 5, 5, 5], 40)  # started 4 hours ago: those zeros are unknown
        + series_docs("quiet-known", [0] * 24, 25)
        + [old]  # mentioned before: a silent day is a real zero
    )
    bulk_index(es, alias, docs)
    settings = AlertsSettings.model_validate(SPIKE_RULES)
    findings = spike_findings(es, alias, settings.rules, NOW)
    assert {(f.rule.name, f.topic) for f in findings} == {("volume", "undated"), ("volume", "quiet-known")}
    by_topic = {f.topic: f for f in findings}
    assert by_topic["undated"].numbers["mentions"] == 25 and by_topic["undated"].numbers["baseline_mean"] == 4
    assert "where there are usually none" in by_topic["quiet-known"].reason
    assert by_topic["undated"].reason.startswith(
        "25 mentions in the last hour (11:00–12:00 UTC), about 6.2x the "
        "usual 4.0 per hour; chance of this by normal variation"
    )


def test_a_shorter_group_learns_earlier_mentions_from_a_longer_one(index):
    es, alias = index
    old = mention_doc("old", topic="known", at=NOW - timedelta(hours=100))  # inside the 14-day range only
    docs = series_docs("known", [0] * 30, 25) + [old] + series_docs("fresh", [0] * 30, 25)
    bulk_index(es, alias, docs)
    settings = AlertsSettings.model_validate(
        {
            "rules": [
                {"name": "long", "type": "volume_spike", "window": "1h", "baseline_windows": 336, "min_count": 10},
                {
                    "name": "short",
                    "type": "volume_spike",
                    "window": "1h",
                    "baseline_windows": 30,
                    "min_count": 10,
                    "seasonality": "none",
                },
            ]
        }
    )
    fired = {(f.rule.name, f.topic) for f in spike_findings(es, alias, settings.rules, NOW)}
    # "known" was mentioned 100 hours ago: its silent hours since are real zeros for both rules ("short" fetches
    # 31 hours and learns that from "long"'s histogram); "fresh" starts this hour and is not judged.
    assert fired == {("long", "known"), ("short", "known")}
