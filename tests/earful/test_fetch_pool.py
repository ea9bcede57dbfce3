"""Fetch workers and per-source faults in whole batches: a trickling feed fails alone at its deadline while the
good feed beside it is indexed (in-process and in worker processes), malformed items fail alone, and the fetch
workers of a batch killed with SIGKILL do not outlive it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from earful.runner import run_batch
from tests.conftest import write_config
from tests.helpers.feeds import item, rss, rss_raw
from tests.helpers.http_server import Route, scripted_server
from tests.helpers.trickle import trickle

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("processes", [0, 2], ids=["in-process", "worker-processes"])
def test_a_trickling_feed_fails_alone_and_malformed_items_fail_alone(make_settings, processes: int) -> None:
    malformed = (
        rss_raw(
            "<item><title>Acme boots fine</title><guid>m1</guid><description>Acme ok</description></item>"
            "<item><title>Acme bad &#xD800; ref</title><guid>m2</guid><description>Acme x</description></item>"
            "<item><title>Acme bad BYTE</title><guid>m3</guid><description>Acme y</description></item>"
            "<item><title>Acme last</title><guid>m4</guid><description>Acme z</description></item>"
        )
        .encode()
        .replace(b"BYTE", b"\xff")
    )
    with scripted_server() as srv:
        srv.routes["/good"] = Route(body=rss([item(1, "Acme boots are great"), item(2, "Acme jacket is warm")]))
        srv.routes["/slow"] = Route(handler=trickle(rss([item(3, "Acme slow")]), pause=0.01))
        srv.routes["/malformed"] = Route(body=malformed, headers={"Content-Type": "text/xml; charset=utf-8"})
        feeds = [{"name": n, "url": srv.url(f"/{n}")} for n in ("slow", "good", "malformed")]
        settings = make_settings(feeds, listening={"fetch_processes": processes})
        settings.sources.rss.deadline = 0.2  # a tiny injected deadline: the trickle takes seconds
        summary = run_batch(settings)
    by_source = {s.source: s for s in summary.sources}
    assert by_source["rss:slow"].failed
    assert by_source["rss:slow"].errors == [
        f"{srv.url('/slow')} took longer than the deadline of 0.2 s (sources.rss.deadline) after "
        + by_source["rss:slow"].errors[0].split(" after ", 1)[1]
    ]
    assert by_source["rss:good"].new == 2 and by_source["rss:good"].cursor_committed
    malformed_result = by_source["rss:malformed"]
    assert malformed_result.new == 4 and malformed_result.cursor_committed
    assert len(malformed_result.errors) == 2
    assert malformed_result.errors[0].startswith("item 2 ('m2'): ") and malformed_result.errors[1].startswith("item 3")


KILLED_BATCH = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from earful.runner import run_batch
    from earful.settings import load_settings
    run_batch(load_settings(Path(sys.argv[1])))
    """
)


def _children(pid: int) -> list[int]:
    """Direct child processes of `pid` (from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(predicate, limit: float = 60.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc (Linux)")
def test_fetch_workers_end_when_their_batch_is_killed_with_sigkill(
    tmp_path: Path, es_url: str, index_alias: str
) -> None:
    with scripted_server() as srv:
        for n in range(8):  # slow feeds keep both workers busy until the kill
            srv.routes[f"/f{n}"] = Route(handler=trickle(rss([item(n, "Acme " * 50)]), pause=0.05))
        config = write_config(
            tmp_path / "earful.yaml",
            {
                "data_dir": str(tmp_path / "data"),
                "index": {"url": es_url, "alias": index_alias},
                "sources": {
                    "rss": {"feeds": [{"name": f"f{n}", "url": srv.url(f"/f{n}")} for n in range(8)], "deadline": 600}
                },
                "topics": [{"name": "acme", "query": "acme"}],
                "nlp": {"enabled": False},
                "listening": {"fetch_processes": 2},
            },
        )
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        batch = subprocess.Popen(
            [sys.executable, "-c", KILLED_BATCH, str(config)],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        workers: list[int] = []
        try:

            def workers_started() -> bool:
                workers[:] = [c for c in _children(batch.pid) if "spawn_main" in _cmdline(c)]
                return len(workers) == 2 and len(srv.requests) >= 2  # both busy fetching

            assert _wait_for(workers_started), "the batch never started its two fetch workers"
            os.kill(batch.pid, signal.SIGKILL)
            batch.wait(timeout=10)
            assert _wait_for(lambda: not any(_alive(w) for w in workers), limit=10), (
                f"fetch workers {[w for w in workers if _alive(w)]} outlived their killed batch"
            )
        finally:
            if batch.poll() is None:
                batch.kill()
            for worker in workers:  # never leave one behind, even when the test fails
                if _alive(worker):
                    os.kill(worker, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc (Linux)")
def test_a_fetch_worker_killed_mid_batch_costs_no_source(make_settings) -> None:
    import threading

    killed: list[int] = []

    def kill_one_worker() -> None:
        def found() -> bool:
            workers = [c for c in _children(os.getpid()) if "spawn_main" in _cmdline(c)]
            if workers:
                os.kill(workers[0], signal.SIGKILL)  # as the OOM killer would
                killed.append(workers[0])
            return bool(workers)

        _wait_for(found, limit=60)

    with scripted_server() as srv:
        for n in range(10):
            srv.routes[f"/f{n}"] = Route(handler=trickle(rss([item(n, f"Acme story {n}")]), pause=0.002))
        settings = make_settings(
            [{"name": f"f{n}", "url": srv.url(f"/f{n}")} for n in range(10)], listening={"fetch_processes": 2}
        )
        killer = threading.Thread(target=kill_one_worker, daemon=True)
        killer.start()
        summary = run_batch(settings)
        killer.join(timeout=5)
    assert killed, "no fetch worker was started"
    assert [s.new for s in summary.sources] == [1] * 10 and not summary.failed_sources
