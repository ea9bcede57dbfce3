"""The DAGs under a real Airflow 3 scheduler, as a production install runs them (slow: minutes).

PostgreSQL metadata (a fresh database per run on EARFUL_TEST_PG_URL's server, dropped afterwards; skipped
without one), `airflow db migrate`, then the api-server (the Execution API every task talks to), the
dag-processor and the scheduler with the LocalExecutor, each a process group started here and killed at the
end, also on failure. `earful_listening` is triggered over feeds served on 127.0.0.1, with several sources
running at once; every task must succeed on its first try, and the index and the alert outbox must hold what one
`earful run` over the same sources holds. Then `earful_housekeeping` (its three tasks at once) against the
same data, compared with `earful housekeeping retention|rollover|retry-outbox`.

Knobs (environment):
- EARFUL_SMOKE_SOURCE_CONCURRENCY: listen tasks of one run at once (default 4);
- EARFUL_SMOKE_INDEX: `embedded` (default: each task uses the embedded index of the shared data folder),
  `server` (the test starts one noida-db and sets index.url), or an Elasticsearch URL;
- EARFUL_SMOKE_FEEDS: how many feeds (sources) to serve (default 10).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from tests.helpers.feeds import item, rss
from tests.helpers.http_server import Route, ScriptedServer, scripted_server
from tests.helpers.postgres import throwaway_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
CONCURRENCY = int(os.environ.get("EARFUL_SMOKE_SOURCE_CONCURRENCY", "4"))
INDEX_MODE = os.environ.get("EARFUL_SMOKE_INDEX", "embedded")
FEEDS = int(os.environ.get("EARFUL_SMOKE_FEEDS", "10"))
RUN_TIMEOUT = 900.0  # seconds for one DAG run (tasks start as processes that import Airflow and earful)
WORDS = [
    "boots",
    "jacket",
    "tent",
    "backpack",
    "stove",
    "gloves",
    "lantern",
    "compass",
    "parka",
    "sleeping bag",
    "trekking poles",
    "rain cover",
]


# ---- test material -----------------------------------------------------------------------------------------------


def feed_items(n: int) -> list[dict[str, str]]:
    """Feed n: mentions of both topics (some with recall, the crisis rule's word), one off topic, one older than
    the retention period, a relative link and a text/plain title with '<' (as real feeds have)."""
    product = WORDS[n % len(WORDS)]
    base = n * 100
    items = [
        item(base + k, f"Acme {product} number {base + k}: {what}")
        for k, what in enumerate(
            [
                "the zip broke after a week, support never answered",
                "warm and dry on a wet weekend in the hills",
                f"recall notice for batch {base} posted by the shop",
                "price dropped again at the outlet",
            ]
        )
    ]
    items.append({**item(base + 5, f"Nordpeak versus Acme {product}, field test {n}"), "title": f"Test {n} < Acme"})
    items.append({**item(base + 6, f"Acme {product} review {n}"), "link": f"/reviews/{base + 6}"})
    items.append(item(base + 7, f"The weather report for valley {n} says grey skies"))  # off topic
    items.append({**item(base + 8, f"Acme {product} from the archive {n}"), "pubDate": "Mon, 02 Jun 2025 10:00:00 GMT"})
    return items


def serve_feeds(srv: ScriptedServer) -> list[dict[str, str]]:
    feeds = []
    for n in range(FEEDS):
        # The charset only in the HTTP header, as many servers send it.
        srv.routes[f"/feed/{n}"] = Route(
            body=rss(feed_items(n), title=f"Outdoor news {n}"),
            headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        )
        feeds.append({"name": f"outdoor-{n}", "url": srv.url(f"/feed/{n}")})
    return feeds


def write_config(folder: Path, feeds: list[dict[str, str]], index_url: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "data_dir": str(folder / "data"),
        "index": {"alias": f"smoke-{uuid.uuid4().hex[:8]}", **({"url": index_url} if index_url else {})},
        "nlp": {"enabled": False},
        "privacy": {"retention_days": 365},
        "topics": [{"name": "acme", "query": "acme"}, {"name": "nordpeak", "query": "nordpeak"}],
        "sources": {"rss": {"connect_timeout": 5, "read_timeout": 10, "feeds": feeds}},
        "alerts": {
            "channels": {"console": {"type": "console"}},
            "routes": [{"channels": ["console"]}],
            "rules": [{"name": "crisis", "type": "crisis_query", "query": "recall*"}],
        },
    }
    path = folder / "earful.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


# ---- what a run left -------------------------------------------------------------------------------------------


def index_contents(config: Path) -> dict[str, dict[str, Any]]:
    """Every mention document by id, without the moments of fetching and indexing."""
    from earful.services import open_services
    from earful.settings import load_settings

    with open_services(load_settings(config)) as services:
        services.es.indices.refresh(index=services.alias)
        hits = services.es.search(index=services.alias, size=10_000, query={"match_all": {}})["hits"]["hits"]
    return {
        h["_id"]: {k: v for k, v in h["_source"].items() if not k.endswith(("fetched_at", "indexed_at"))} for h in hits
    }


def outbox_contents(config: Path) -> list[tuple[Any, ...]]:
    """The alerts and their deliveries (kind, rule, topic, title, channel, status), sorted."""
    from earful.settings import load_settings
    from earful_records.db import make_engine

    engine = make_engine(load_settings(config).records_url())
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT a.kind, a.rule, a.topic, a.title, d.channel, d.status FROM alerts a "
                    "LEFT JOIN alert_deliveries d ON d.alert_id = a.id"
                )
            ).all()
    finally:
        engine.dispose()
    return sorted(tuple(r) for r in rows)


def earful(config: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "EARFUL_PRIVACY__AUTHOR_SECRET": "smoke-secret"}
    out = subprocess.run(
        [str(Path(sys.executable).with_name("earful")), *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert out.returncode == 0, f"earful {' '.join(args)}: {out.stdout[-2000:]}{out.stderr[-2000:]}"
    return out.stdout


# ---- Airflow, started by hand --------------------------------------------------------------------------------------


@contextmanager
def process_group(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `cmd` in its own process group (it and every process it starts); kill the group at the end."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    try:
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # a graceful stop first (the scheduler waits for its tasks)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever is left of the group (the leader if it hung, tasks and servers it started)
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def wait_for(what: str, check: Any, timeout: float, logs: list[Path], interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := check()) is not None:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:.0f} s\n" + tails(logs))


def tails(logs: list[Path], chars: int = 3000) -> str:
    return "\n".join(
        f"--- {'/'.join(log.parts[-3:])} ---\n{log.read_text(errors='replace')[-chars:]}"
        for log in logs
        if log.exists()
    )


class Airflow:
    """The environment of one Airflow install, and what a user does with its CLI."""

    def __init__(self, home: Path, metadata_url: str, config: Path, api_port: int) -> None:
        from cryptography.fernet import Fernet

        self.home, self.metadata_url = home, metadata_url
        self.env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "HOME": str(home),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Only the runs this test triggers: no scheduled run of the latest interval on first sight.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "EARFUL_CONFIG": str(config),
            "EARFUL_SOURCE_CONCURRENCY": str(CONCURRENCY),
            # Every task must succeed on its first try: without retries a failure ends the run now instead of
            # after minutes of backoff (the assertion is the same).
            "EARFUL_TASK_RETRIES": "0",
            "EARFUL_PRIVACY__AUTHOR_SECRET": "smoke-secret",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        self.engine = sa.create_engine(metadata_url)

    def cli(self, *args: str, timeout: float = 300) -> str:
        out = subprocess.run([AIRFLOW, *args], capture_output=True, text=True, env=self.env, timeout=timeout)
        assert out.returncode == 0, f"airflow {' '.join(args)}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        return out.stdout

    def dag_parsed(self, dag_id: str) -> bool | None:
        with self.engine.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM serialized_dag WHERE dag_id = :d"), {"d": dag_id}).first()
        return True if found else None

    def run_state(self, dag_id: str, run_id: str) -> dict[str, Any] | None:
        """The run's row once it finished (success or failed), else None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.text(
                        "SELECT state, data_interval_start, data_interval_end, start_date, end_date FROM dag_run "
                        "WHERE dag_id = :d AND run_id = :r"
                    ),
                    {"d": dag_id, "r": run_id},
                )
                .mappings()
                .first()
            )
        return dict(row) if row and row["state"] in ("success", "failed") else None

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT task_id, map_index, state, try_number, start_date, end_date FROM task_instance "
                        "WHERE dag_id = :d AND run_id = :r ORDER BY task_id, map_index"
                    ),
                    {"d": dag_id, "r": run_id},
                ).mappings()
            ]

    def xcom_rows(self, dag_id: str, run_id: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.text("SELECT count(*) FROM xcom WHERE dag_id = :d AND run_id = :r"), {"d": dag_id, "r": run_id}
            ).scalar_one()

    def xcom_value(self, dag_id: str, run_id: str, task_id: str) -> Any:
        import json

        with self.engine.connect() as conn:
            value = conn.execute(
                sa.text(
                    "SELECT value FROM xcom WHERE dag_id = :d AND run_id = :r AND task_id = :t AND key = 'return_value'"
                ),
                {"d": dag_id, "r": run_id, "t": task_id},
            ).scalar_one()
        return json.loads(value) if isinstance(value, str | bytes) else value

    def first_try_logs(self, dag_id: str, run_id: str, tis: list[dict[str, Any]]) -> list[Path]:
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        return [
            folder
            / f"task_id={ti['task_id']}"
            / (f"map_index={ti['map_index']}" if ti["map_index"] >= 0 else "")
            / "attempt=1.log"
            for ti in tis
        ]

    def trigger_and_wait(self, dag_id: str, logs: list[Path]) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        run_id = f"smoke-{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        self.cli(
            "dags",
            "trigger",
            dag_id,
            "--run-id",
            run_id,
            "--logical-date",
            datetime.now(UTC).replace(microsecond=0).isoformat(),
        )
        run = wait_for(
            f"{dag_id} run {run_id} finished", lambda: self.run_state(dag_id, run_id), RUN_TIMEOUT, logs, interval=2.0
        )
        run["took_s"] = round(time.monotonic() - started, 1)
        tis = self.task_instances(dag_id, run_id)
        not_first_try = [ti for ti in tis if ti["state"] != "success" or ti["try_number"] != 1]
        assert run["state"] == "success" and not not_first_try, (
            f"{dag_id}: run {run['state']}; {len(not_first_try)} of {len(tis)} tasks not successful on their first "
            f"try: {[(ti['task_id'], ti['map_index'], ti['state'], ti['try_number']) for ti in not_first_try]}\n"
            + tails(self.first_try_logs(dag_id, run_id, not_first_try)[:3], 2500)
        )
        return run_id, run, tis


def max_overlap(tis: list[dict[str, Any]]) -> int:
    """The most task instances that ran at the same moment."""
    events = sorted(
        [(ti["start_date"], 1) for ti in tis] + [(ti["end_date"], -1) for ti in tis], key=lambda e: (e[0], e[1])
    )
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


# ---- the test ------------------------------------------------------------------------------------------------------


def test_listening_and_housekeeping_under_a_real_scheduler(tmp_path: Path) -> None:
    from earful_indexer.embedded import embedded_index, free_port

    timings: dict[str, float] = {}
    begin = time.monotonic()
    with ExitStack() as stack:
        metadata_url = stack.enter_context(throwaway_database("airflow_smoke"))
        srv = stack.enter_context(scripted_server())
        feeds = serve_feeds(srv)
        index_url = {"embedded": None}.get(INDEX_MODE, INDEX_MODE)
        if INDEX_MODE == "server":
            index_url = stack.enter_context(embedded_index(tmp_path / "shared-index"))
        config = write_config(tmp_path / "airflow-run", feeds, index_url)
        reference = write_config(tmp_path / "earful-run", feeds, None)  # one `earful run`, embedded default

        home = tmp_path / "airflow-home"
        home.mkdir()
        api_port = free_port()
        airflow = Airflow(home, metadata_url, config, api_port)
        stack.callback(airflow.engine.dispose)
        t = time.monotonic()
        airflow.cli("db", "migrate", timeout=600)
        timings["db migrate"] = time.monotonic() - t

        logs = [home / f"{name}.log" for name in ("api-server", "dag-processor", "scheduler")]
        t = time.monotonic()
        stack.enter_context(
            process_group(
                [AIRFLOW, "api-server", "--apps", "execution", "-H", "127.0.0.1", "-p", str(api_port), "-w", "1"],
                airflow.env,
                logs[0],
            )
        )
        stack.enter_context(process_group([AIRFLOW, "dag-processor"], airflow.env, logs[1]))
        stack.enter_context(process_group([AIRFLOW, "scheduler"], airflow.env, logs[2]))

        def api_up() -> bool | None:
            try:
                return (
                    True if httpx.get(f"http://127.0.0.1:{api_port}/execution/health", timeout=2).is_success else None
                )
            except httpx.HTTPError:
                return None

        wait_for("the api-server answers", api_up, 180, logs)
        for dag_id in ("earful_listening", "earful_housekeeping"):
            wait_for(f"{dag_id} parsed", lambda d=dag_id: airflow.dag_parsed(d), 300, logs)
        timings["components up, DAGs parsed"] = time.monotonic() - t

        # ---- listening ----
        run_id, run, tis = airflow.trigger_and_wait("earful_listening", logs)
        timings["earful_listening run"] = run["took_s"]
        assert run["data_interval_start"] < run["data_interval_end"]  # a real data interval
        listens = [ti for ti in tis if ti["task_id"] == "listen"]
        assert len(listens) == FEEDS and {ti["task_id"] for ti in tis} == {"list_sources", "listen", "alerts"}
        overlap = max_overlap(listens)
        assert overlap <= CONCURRENCY  # the DAG's cap on one run's sources
        assert airflow.xcom_rows("earful_listening", run_id) == len(tis)  # one XCom per task instance
        counts = airflow.xcom_value("earful_listening", run_id, "alerts")
        assert counts["mentions"] == counts["found"] == FEEDS * 7  # every one of them this run's own
        assert "mentions from an unfinished batch" not in counts

        t = time.monotonic()
        earful(reference, "run")
        timings["earful run (reference)"] = time.monotonic() - t
        docs, expected = index_contents(config), index_contents(reference)
        assert docs.keys() == expected.keys() and docs == expected
        assert len(docs) == FEEDS * 7  # 8 items a feed, one off topic
        alerts = outbox_contents(config)
        assert alerts == outbox_contents(reference) and alerts

        # ---- housekeeping ----
        run_id, run, tis = airflow.trigger_and_wait("earful_housekeeping", logs)
        timings["earful_housekeeping run"] = run["took_s"]
        assert {ti["task_id"] for ti in tis} == {"retention", "rollover", "outbox_retries"}
        for command in ("retention", "rollover", "retry-outbox"):
            earful(reference, "housekeeping", command)
        docs = index_contents(config)
        assert docs == index_contents(reference) and len(docs) == FEEDS * 6  # the archive items are gone
        assert outbox_contents(config) == outbox_contents(reference)

    timings["total"] = time.monotonic() - begin
    print(
        f"\nscheduler smoke ({FEEDS} sources, concurrency {CONCURRENCY}, index {INDEX_MODE}, "
        f"{overlap} listen tasks at once at most): " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
    )
