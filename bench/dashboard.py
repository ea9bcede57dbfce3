"""Benchmark: the listening dashboard over an index of generated mentions (default 200,000 across 100 topics).

Prints, each as the median of several loads (taking turns, so other work on the machine weighs on all alike), next to the index's own floor measured in the same run (an empty
match_all request with size 0 and no hit count):
- the overview's aggregation request, and the whole overview page through the web app (sign-in session, records
  database for the spike markers, template rendering);
- a mentions page 100,000 mentions deep (search_after), request and page, next to the first page.
Target: the overview within 2x of the floor.

    .venv/bin/python bench/dashboard.py                 # embedded noida-db in a temporary folder
    .venv/bin/python bench/dashboard.py --es-url http://127.0.0.1:9200 --mentions 50000
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.alerts import bench_index, bulk_load, generate
from bench.machine import cpu_model

if TYPE_CHECKING:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

PASSWORD = "bench-password-123"


def interleaved(cases: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    """Seconds of each case, `repeat` times, the cases taking turns within each round (after one warm-up round),
    so that other work on the machine weighs on the floor and the pages alike."""
    for fn in cases.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, fn in cases.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return times


def deep_token(docs: list[dict[str, Any]], depth: int) -> tuple[str, str]:
    """The search_after token of the mention at `depth` in the list's time order, and the id of the next one,
    from the generated documents themselves (no walk through the pages)."""
    from earful_indexer.dashboard import encode_after

    def millis(value: str) -> int:
        return int(datetime.fromisoformat(value).timestamp() * 1000)

    ordered = sorted(
        docs, key=lambda d: (-millis(d["published_at"]), -millis(d["fetched_at"]), d["source"], d["native_id"])
    )
    at = ordered[depth - 1]
    values = [millis(at["published_at"]), millis(at["fetched_at"]), at["source"], at["native_id"]]
    return encode_after(values), ordered[depth]["_id"]


def signed_in_client(app: FastAPI) -> TestClient:
    from fastapi.testclient import TestClient

    client = TestClient(app, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    resp = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 303, resp.text
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=200_000)
    parser.add_argument("--topics", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--depth", type=int, default=100_000, help="how deep the deep mentions page starts")
    parser.add_argument("--es-url", help="an Elasticsearch cluster instead of the embedded noida-db")
    args = parser.parse_args()

    from earful.schema import upgrade
    from earful_complaints.config import ComplaintsSettings
    from earful_complaints.users import add_user
    from earful_complaints.web.app import create_app
    from earful_complaints.web.dash_deps import DashboardIndex
    from earful_indexer.dashboard import MentionFilter, Period, list_mentions, overview
    from earful_records.db import make_engine

    now = datetime.now(UTC).replace(microsecond=0)
    print(f"CPU: {cpu_model()}")
    with ExitStack() as stack:
        es, alias, _server_pid = bench_index(stack, args.es_url, "bench-dashboard")
        docs, _ = generate(args.mentions, args.topics, now)
        sorted_docs = [dict(d) for d in docs]
        count, load_s, errors = bulk_load(es, alias, docs)
        print(f"bulk-loaded {count:,} mentions across {args.topics} topics in {load_s:.1f} s, errors: {len(errors)}")

        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="earful-bench-records-")))
        engine = make_engine(f"sqlite:///{folder}/records.db")
        stack.callback(engine.dispose)
        upgrade(engine)
        add_user(engine, "bench", PASSWORD, "comms")
        dashboard = DashboardIndex(es=es, alias=alias, labels_dir=folder / "labels")
        client = signed_in_client(create_app(engine, ComplaintsSettings(), dashboard=dashboard))
        stack.callback(client.close)

        top = now.replace(minute=0, second=0) + timedelta(hours=1)
        week = Period(top - timedelta(days=7), top)

        def page(path: str, **params: str) -> None:
            resp = client.get(path, params=params)
            assert resp.status_code == 200, resp.text[:500]

        depth = min(args.depth, count - 26)
        token, expected_first = deep_token(sorted_docs, depth)
        deep_hits = list_mentions(es, alias, MentionFilter(), after=token).hits
        assert deep_hits[0]["id"] == expected_first, (deep_hits[0]["id"], expected_first)
        times = interleaved(
            {
                "floor": lambda: es.search(index=alias, size=0, track_total_hits=False, query={"match_all": {}}),
                "overview": lambda: overview(es, alias, week),
                "overview_topic": lambda: overview(es, alias, week, topic="topic-000"),
                "overview_page": lambda: page("/dashboard", period="7d"),
                "first": lambda: list_mentions(es, alias, MentionFilter()),
                "deep": lambda: list_mentions(es, alias, MentionFilter(), after=token),
                "first_page": lambda: page("/mentions"),
                "deep_page": lambda: page("/mentions", after=token),
            },
            args.repeat,
        )
        med = {name: statistics.median(values) for name, values in times.items()}
        floor, agg, agg_topic, overview_page = (
            med["floor"],
            med["overview"],
            med["overview_topic"],
            med["overview_page"],
        )
        first_req, deep_req, first_page, deep_page = med["first"], med["deep"], med["first_page"], med["deep_page"]
        floor_all = times["floor"]

    ms = 1000
    print(
        f"floor: empty match_all (size 0, no hit count) {floor * ms:.1f} ms "
        f"(median of {args.repeat}: {', '.join(f'{t * ms:.1f}' for t in floor_all)})"
    )
    print(f"overview, 7 days, all topics: aggregation request {agg * ms:.1f} ms ({agg / floor:.1f}x the floor)")
    print(f"overview, 7 days, one topic:  aggregation request {agg_topic * ms:.1f} ms ({agg_topic / floor:.1f}x)")
    print(f"overview page through the web app: {overview_page * ms:.1f} ms ({overview_page / floor:.1f}x the floor)")
    print(
        f"mentions, first page: request {first_req * ms:.1f} ms, page {first_page * ms:.1f} ms; "
        f"{depth:,} deep (search_after): request {deep_req * ms:.1f} ms, page {deep_page * ms:.1f} ms "
        f"(first hit is the expected mention: yes)"
    )
    verdict = "meets" if agg <= 2 * floor else "MISSES"
    print(f"{verdict} the target: the overview's aggregation within 2x of the floor ({agg / floor:.1f}x)")


if __name__ == "__main__":
    main()
