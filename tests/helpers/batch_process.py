"""A listening batch as a real process group (the batch, its fetch workers, the embedded noida-db server), killed
with SIGKILL at chosen moments, and the checks that nothing was lost or doubled afterwards.

Shared by tests/earful/test_durability.py (a few kill points) and scripts/kill_sweep.py (the long sweep).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tests.helpers.feeds import rss
from tests.helpers.http_server import Route, ScriptedServer

REPO = Path(__file__).resolve().parents[2]
# Feeds on 127.0.0.1 are real sources to earful, which refuses the public demo pseudonym secret for them.
TEST_ENV = {"EARFUL_PRIVACY__AUTHOR_SECRET": "kill-test-secret-3f9a1c0e5b7d"}
CRISIS_WORD = "recall"
_WORDS = (
    "boots jacket support refund delivery store trail weather late broken great terrible warm price order "
    "waiting weeks customer service answer email return quality sole zipper size fit"
).split()


@dataclass
class Batch:
    """What the batch is fed: served feeds and the ids of the items that should end up stored."""

    config: Path
    items: int
    crisis_items: int


def feed_items(n_items: int, n_feeds: int, seed: int = 3) -> list[list[dict[str, str]]]:
    """Items spread over feeds, all on topic; every 9th mentions a recall (fires the crisis rule, opens a record)."""
    rng = random.Random(seed)
    feeds: list[list[dict[str, str]]] = [[] for _ in range(n_feeds)]
    for n in range(n_items):
        words = rng.choices(_WORDS, k=rng.randint(10, 30))
        words.insert(rng.randrange(len(words)), "Acme")
        if n % 9 == 0:
            words.append(CRISIS_WORD)
        words.append(f"ref{n}")  # no two items alike: near-duplicate marking stays out of these counts
        feeds[n % n_feeds].append(
            {
                "title": " ".join(words[:6]),
                "link": f"/posts/{n}",
                "guid": f"kill-{n}",
                "description": " ".join(words),
                "pubDate": f"Mon, 30 Nov 2026 {n % 24:02d}:{n % 60:02d}:00 GMT",
            }
        )
    return feeds


def serve_batch(srv: ScriptedServer, data_dir: Path, n_items: int, n_feeds: int) -> Batch:
    """Serve the feeds (with ETags: a feed whose cursor moved answers 304) and write the batch's configuration."""
    from tests.conftest import write_config

    feeds = feed_items(n_items, n_feeds)
    for i, items in enumerate(feeds):
        srv.routes[f"/feed{i}"] = Route(
            body=rss(items, title=f"feed {i}"),
            etag=f'"v{i}"',
            headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        )
    config = write_config(
        data_dir / "earful.yaml",
        {
            "data_dir": str(data_dir / "data"),
            "sources": {"rss": {"feeds": [{"name": f"feed{i}", "url": srv.url(f"/feed{i}")} for i in range(n_feeds)]}},
            "topics": [{"name": "acme", "query": "acme"}],
            "nlp": {"enabled": False},
            "alerts": {
                "channels": {"console": {"type": "console"}},
                "routes": [{"channels": ["console"]}],
                "rules": [{"name": "crisis", "type": "crisis_query", "query": CRISIS_WORD, "open_complaint": True}],
            },
        },
    )
    return Batch(config=config, items=n_items, crisis_items=len(range(0, n_items, 9)))


def start_batch(config: Path) -> subprocess.Popen[bytes]:
    """`earful run` in a new session, so that the batch, its workers and its index server form one process group."""
    env = {**os.environ, "PYTHONPATH": str(REPO), **TEST_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "earful.cli", "run", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def kill_group(proc: subprocess.Popen[bytes], data_dir: Path) -> bool:
    """SIGKILL, at one moment, the batch's process group (the batch and its fetch workers) and every process
    serving its data folder's index (the shared server's keeper runs in a session of its own, so that one
    command's exit does not stop a server others use): what an OOM kill of the container, `docker kill` or a power
    cut does. True if the batch was still running."""
    import psutil

    folder = str((data_dir / "index").resolve())
    running = proc.poll() is None
    serving = [p for p in psutil.process_iter(["cmdline"]) if folder in " ".join(p.info["cmdline"] or ())]
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for process in serving:
        try:
            process.kill()
        except psutil.Error:
            pass
    proc.wait(timeout=30)
    psutil.wait_procs(serving, timeout=10)
    deadline = time.monotonic() + 10  # the group's other members (fetch workers) die with it
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    return running


def records_engine(config: Path) -> sa.Engine:
    from earful.settings import load_settings
    from earful_records.db import make_engine

    return make_engine(load_settings(config).records_url())


def stored_count(engine: sa.Engine) -> int:
    """Mentions stored so far (0 before the table exists); readable while a batch writes (WAL)."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM mentions")).scalar() or 0)
    except sa.exc.OperationalError:
        return 0


def wait_for_stored(engine: sa.Engine, proc: subprocess.Popen[bytes], at_least: int, timeout: float = 120) -> None:
    """Wait until the running batch has stored `at_least` mentions (or it ended)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if stored_count(engine) >= at_least:
            return
        time.sleep(0.01)


def outcome(config: Path) -> dict[str, Any]:
    """What the index and the records hold after a batch: id counts in the index, alerts and complaint records
    per mention of the crisis rule, and mentions still awaiting indexing or their hooks."""
    from earful.services import open_services
    from earful.settings import load_settings
    from earful_alerts.tables import alerts
    from earful_complaints.tables import complaint_mentions
    from earful_records.tables import mentions, pending_hooks

    with open_services(load_settings(config)) as services:
        es, alias = services.es, services.alias
        es.indices.refresh(index=alias)
        ids: Counter[str] = Counter()
        after: list[Any] | None = None
        while True:  # every document of every index behind the alias
            resp = es.search(
                index=alias,
                size=1000,
                source=["native_id"],
                sort=[{"native_id": "asc"}],
                **({"search_after": after} if after else {}),
            )
            hits = resp["hits"]["hits"]
            ids.update(h["_source"]["native_id"] for h in hits)
            if len(hits) < 1000:
                break
            after = hits[-1]["sort"]
        with services.engine.connect() as conn:
            alert_keys = Counter(conn.execute(sa.select(alerts.c.dedup_key).where(alerts.c.rule == "crisis")).scalars())
            complaint_ids = Counter(conn.execute(sa.select(complaint_mentions.c.mention_id)).scalars())
            unindexed = conn.execute(
                sa.select(sa.func.count()).select_from(mentions).where(mentions.c.index_state == 0)
            ).scalar()
            waiting = conn.execute(sa.select(sa.func.count()).select_from(pending_hooks)).scalar()
    return {"index": ids, "alerts": alert_keys, "complaints": complaint_ids, "unindexed": unindexed, "waiting": waiting}


def problems(batch: Batch, result: dict[str, Any]) -> list[str]:
    """Everything wrong with `result`: an item missing or doubled in the index, an alert or complaint record
    missing or doubled, mentions left unindexed or waiting for their hooks. Empty when all is well."""
    found: list[str] = []
    expected = {f"kill-{n}" for n in range(batch.items)}
    index = result["index"]
    if missing := expected - set(index):
        found.append(f"{len(missing)} items missing from the index (e.g. {sorted(missing)[:3]})")
    if doubled := [i for i, n in index.items() if n > 1]:
        found.append(f"{len(doubled)} items in the index more than once (e.g. {doubled[:3]})")
    if extra := set(index) - expected:
        found.append(f"{len(extra)} unexpected documents in the index")
    if len(result["alerts"]) != batch.crisis_items or any(n != 1 for n in result["alerts"].values()):
        found.append(f"{len(result['alerts'])} crisis alerts for {batch.crisis_items} crisis items")
    if len(result["complaints"]) != batch.crisis_items or any(n != 1 for n in result["complaints"].values()):
        found.append(f"{len(result['complaints'])} complaint records for {batch.crisis_items} crisis items")
    if result["unindexed"] or result["waiting"]:
        found.append(f"{result['unindexed']} mentions unindexed, {result['waiting']} waiting for their hooks")
    return found
