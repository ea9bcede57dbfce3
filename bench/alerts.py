"""Benchmark: alert rule evaluation over an index of generated mentions (default 200,000 across 100 topics).

Prints the bulk-load time, the seconds per evaluation cycle of earful's aggregated approach (one request: terms
over topics -> nested date ranges -> each rule group's histogram, see alerts/windows.py; plus per-mention rules on
a batch), and a naive baseline in the same run (one date-histogram query per topic per rule), and checks that both
find the same spikes.

    .venv/bin/python bench/alerts.py                 # embedded noida-db in a temporary folder
    .venv/bin/python bench/alerts.py --es-url http://127.0.0.1:9200 --mentions 50000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model
from earful_alerts.config import AlertsSettings
from earful_alerts.rules import judge_negative_share, judge_volume, mention_hits, spike_findings
from earful_alerts.windows import WindowCount, known_windows, negative_count

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

WINDOW = timedelta(hours=1)
RULES = {
    "rules": [  # the spike rules of config/examples/production.yaml, plus a daily one
        {
            "name": "volume",
            "type": "volume_spike",
            "window": "1h",
            "baseline_windows": 336,
            "min_count": 20,
            "examples": 3,
        },
        {"name": "negative", "type": "negative_share_spike", "window": "1h", "baseline_windows": 48, "min_count": 20},
        {"name": "volume-daily", "type": "volume_spike", "window": "1d", "baseline_windows": 13},
        {"name": "complaints", "type": "complaint", "min_probability": 0.8},
        {"name": "reach", "type": "high_reach_negative", "min_reach": 50_000},
        {"name": "crisis", "type": "crisis_query", "query": 'recall OR "data breach" OR lawsuit'},
    ]
}
WORDS = [
    "boots",
    "jacket",
    "refund",
    "delivery",
    "support",
    "recall",
    "trail",
    "tent",
    "stove",
    "rain",
    "zip",
    "warranty",
    "price",
    "shop",
]


def generate(n: int, topics: int, now: datetime, seed: int = 1) -> tuple[list[dict[str, Any]], set[str]]:
    """Mentions spread over 15 days; a few topics get a burst (volume or negative) in the last hour."""
    rng = random.Random(seed)
    names = [f"topic-{i:03d}" for i in range(topics)]
    weights = [rng.paretovariate(1.2) for _ in names]  # a few loud topics, many quiet ones
    bursts = set(rng.sample(names, 5))
    span = 15 * 86400  # more than the 14-day baseline of the hourly volume rule
    docs = []
    for i in range(n):
        topic = rng.choices(names, weights)[0]
        at = now - timedelta(seconds=rng.uniform(0, span))
        docs.append(_doc(i, topic, at, rng, negative_p=0.15))
    j = n
    for topic in sorted(bursts):  # bursts: 80 mentions in the last hour, 60% negative
        for _ in range(80):
            docs.append(_doc(j, topic, now - timedelta(seconds=rng.uniform(1, 3599)), rng, negative_p=0.6))
            j += 1
    return docs, bursts


def _doc(i: int, topic: str, at: datetime, rng: random.Random, negative_p: float) -> dict[str, Any]:
    iso = at.isoformat()
    sentiment = "negative" if rng.random() < negative_p else rng.choice(["neutral", "positive"])
    complaint = rng.random() * (0.95 if sentiment == "negative" else 0.4)
    words = " ".join(rng.choices(WORDS, k=12))
    return {
        "_id": f"bench-{i}",
        "source_kind": "rss",
        "source": "rss:bench",
        "native_id": str(i),
        "url": f"https://news.example.org/{topic}/{i}",
        "title": f"{topic} {words[:40]}",
        "text": words,
        "author_ref": f"{i % 5000:016x}",
        "published_at": iso,
        "fetched_at": iso,
        "reach": int(rng.paretovariate(1.1) * 100),
        "engagement": {"likes": rng.randint(0, 50)},
        "language": "en",
        "topics": [topic],
        "labels": {
            "sentiment": sentiment,
            "sentiment_scores": {"negative": 0.3, "neutral": 0.4, "positive": 0.3},
            "complaint": complaint >= 0.5,
            "complaint_probability": round(complaint, 3),
            "model": "bench",
            "model_version": "1",
        },
    }


def naive_spikes(
    es: Elasticsearch, alias: str, settings: AlertsSettings, topics: list[str] | set[str], now: datetime
) -> set:
    """The baseline: one date-histogram query per topic per spike rule, and one count of the topic's earlier
    mentions (the warm-up guard). The generated mentions all have a publication date."""
    fired = set()
    for rule in settings.rules:
        if rule.type not in ("volume_spike", "negative_share_spike"):
            continue
        width = int(rule.window.total_seconds() * 1000)
        end = int(now.timestamp() * 1000)
        start = end - (rule.baseline_windows + 1) * width
        for topic in topics:
            body = {
                "size": 0,
                "query": {
                    "bool": {
                        "filter": [
                            {"term": {"topics": topic}},
                            {"range": {rule.time_field: {"gte": start, "lt": end, "format": "epoch_millis"}}},
                            {"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}},
                        ]
                    }
                },
                "aggs": {
                    "w": {
                        "date_histogram": {
                            "field": rule.time_field,
                            "fixed_interval": f"{width}ms",
                            "offset": f"{end % width}ms",
                            "min_doc_count": 0,
                            "extended_bounds": {"min": start, "max": end - 1},
                        },
                        "aggs": {"sentiment": {"terms": {"field": "labels.sentiment", "size": 10}}},
                    }
                },
            }
            buckets = {int(b["key"]): b for b in es.search(index=alias, body=body)["aggregations"]["w"]["buckets"]}
            series = [
                WindowCount(
                    datetime.fromtimestamp(s / 1000, tz=UTC),
                    buckets.get(s, {}).get("doc_count", 0),
                    negative_count(buckets.get(s, {})),
                )
                for s in range(start, end, width)
            ]
            earlier = es.count(
                index=alias,
                body={
                    "query": {
                        "bool": {
                            "filter": [
                                {"term": {"topics": topic}},
                                {"range": {rule.time_field: {"lt": start, "format": "epoch_millis"}}},
                                {"bool": {"must_not": [{"exists": {"field": "duplicate_of"}}]}},
                            ]
                        }
                    }
                },
            )["count"]
            series = known_windows(series, earlier > 0)
            judge = judge_volume if rule.type == "volume_spike" else judge_negative_share
            if judge(rule, series):
                fired.add((rule.name, topic))
    return fired


def bench_index(stack: ExitStack, es_url: str | None, prefix: str) -> tuple[Elasticsearch, str, int | None]:
    """A client and a fresh alias with earful's template: on `es_url`, or on an embedded noida-db in a temporary
    folder (both closed by `stack`); and the embedded server's process id (None on `es_url`)."""
    from earful_indexer.client import make_client
    from earful_indexer.config import IndexSettings
    from earful_indexer.embedded import embedded_index, read_state
    from earful_indexer.template import ensure_index

    url = es_url
    server_pid = None
    if url is None:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="earful-bench-")))
        url = stack.enter_context(embedded_index(folder, 60))
        state = read_state(folder / "index")
        server_pid = state.server_pid if state else None
    index_settings = IndexSettings(alias=f"{prefix}-{int(time.time())}", request_timeout=300)
    es = make_client(index_settings, url)
    stack.callback(es.close)
    ensure_index(es, index_settings)
    return es, index_settings.alias, server_pid


def bulk_load(es: Elasticsearch, alias: str, docs: list[dict[str, Any]]) -> tuple[int, float, list[Any]]:
    """Bulk-load generated mentions (their "_id" key is popped) and refresh; (count in the index, seconds, errors)."""
    from elasticsearch import helpers

    t = time.perf_counter()
    actions = ({"_index": alias, "_id": d.pop("_id"), "_source": d} for d in docs)
    _ok, errors = helpers.bulk(es.options(request_timeout=300), actions, chunk_size=5000, raise_on_error=False)
    es.indices.refresh(index=alias)
    load_s = time.perf_counter() - t
    return es.count(index=alias)["count"], load_s, list(errors)


def _server_cpu(pid: int | None) -> float:
    """CPU seconds the embedded server process has used so far (0 when it is not ours to see)."""
    if pid is None:
        return 0.0
    import psutil

    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=200_000)
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500, help="new mentions per cycle for per-mention rules")
    parser.add_argument(
        "--naive-topics",
        type=int,
        default=5,
        help="topics the naive baseline is run on (its time is scaled to all topics)",
    )
    parser.add_argument("--es-url", help="an Elasticsearch cluster instead of the embedded noida-db")
    parser.add_argument("--quick", action="store_true", help="20,000 mentions, for iterating (report the full run)")
    args = parser.parse_args()
    if args.quick:
        args.mentions = 20_000

    now = datetime.now(UTC).replace(microsecond=0)
    print(f"CPU: {cpu_model()}")
    settings = AlertsSettings.model_validate(RULES)
    with ExitStack() as stack:
        es, alias, server_pid = bench_index(stack, args.es_url, "bench-alerts")

        t = time.perf_counter()
        docs, bursts = generate(args.mentions, args.topics, now)
        gen_s = time.perf_counter() - t
        count, load_s, errors = bulk_load(es, alias, docs)
        print(
            f"generated {len(docs):,} mentions across {args.topics} topics in {gen_s:.1f} s; "
            f"bulk-loaded {count:,} in {load_s:.1f} s ({count / load_s:,.0f} docs/s), errors: {len(errors)}"
        )

        batch = [
            {"id": f"new-{i}", **_doc(10**7 + i, f"topic-{i % args.topics:03d}", now, random.Random(i), 0.3)}
            for i in range(args.batch)
        ]
        # Each cycle right after an empty request (the server's floor), so that both see the same load; on the
        # embedded server also its CPU time, which a busy machine disturbs far less than the wall clock.
        floors, cycles, floor_cpu, cycle_cpu, found = [], [], [], [], set()
        empty = {"size": 0, "track_total_hits": False, "query": {"match_all": {}}}
        for _ in range(args.cycles):
            c, t = _server_cpu(server_pid), time.perf_counter()
            es.search(index=alias, body=empty)
            floors.append(time.perf_counter() - t)
            floor_cpu.append(_server_cpu(server_pid) - c)
            c, t = _server_cpu(server_pid), time.perf_counter()
            findings = spike_findings(es, alias, settings.rules, now)
            hits = mention_hits(settings.rules, batch)
            cycles.append(time.perf_counter() - t)
            cycle_cpu.append(_server_cpu(server_pid) - c)
            found = {(f.rule.name, f.topic) for f in findings}
        floor_s, cycle_s = statistics.median(floors), statistics.median(cycles)
        print(
            f"server floor: an empty match_all request (no hit count) takes {floor_s:.3f} s on this index "
            f"(median of {args.cycles}; {', '.join(f'{c:.3f}' for c in floors)})"
        )
        print(
            f"aggregated: {cycle_s:.3f} s per evaluation cycle (median of {args.cycles}; "
            f"{', '.join(f'{c:.3f}' for c in cycles)}), {cycle_s / floor_s:.2f}x the floor, {len(found)} spike "
            f"findings, {len(hits)} per-mention hits in a batch of {args.batch}"
        )
        cpu_floor, cpu_cycle = statistics.median(floor_cpu), statistics.median(cycle_cpu)
        if cpu_floor > 0:
            print(
                f"server CPU: {cpu_cycle:.3f} s per cycle, {cpu_floor:.3f} s for the empty request "
                f"({cpu_cycle / cpu_floor:.2f}x; medians of {args.cycles})"
            )

        topics = [f"topic-{i:03d}" for i in range(args.topics)]
        sample = (
            sorted(set(topics[: max(0, args.naive_topics - len(bursts))]) | bursts)[: args.naive_topics]
            if args.naive_topics < args.topics
            else topics
        )
        t = time.perf_counter()
        naive = naive_spikes(es, alias, settings, sample, now)
        naive_s = (time.perf_counter() - t) * len(topics) / len(sample)
        spike_rules = sum(r.type.endswith("spike") for r in settings.rules)
        print(
            f"naive: {naive_s:.1f} s per cycle ({len(topics) * spike_rules} queries: one per topic per spike "
            f"rule; measured on {len(sample)} topics and scaled); aggregated is "
            f"{naive_s / statistics.median(cycles):.0f}x faster"
        )
        hourly_volume = {t for r, t in found if r == "volume"}
        print(f"planted bursts {sorted(bursts)}; found by the hourly volume rule: {sorted(hourly_volume)}")
        same = naive == {f for f in found if f[1] in sample}
        print(f"same findings as the naive baseline on the sampled topics: {'yes' if same else 'NO'}")
        target = 5.0
        verdict = "meets" if statistics.median(cycles) < target else "MISSES"
        print(f"{verdict} the target of {target:.0f} s per cycle")
        es.indices.delete(index=f"{alias}-000001", ignore_unavailable=True)


if __name__ == "__main__":
    from bench.report import printed, record

    with printed() as lines:
        main()
    record("alerts", lines, cpu_model())
