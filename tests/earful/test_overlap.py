"""Overlapping runs on one data folder (a cron overlap, two started at once) and concurrent first starts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.helpers.feeds import item, rss
from tests.helpers.http_server import Route, scripted_server
from tests.helpers.postgres import throwaway_database

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "config" / "samples" / "outdoor-news-en.xml"


def earful(*args: str) -> list[str]:
    return [sys.executable, "-m", "earful.cli", *args]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}


def config(tmp_path: Path, feeds: list[dict]) -> Path:
    return write_config(
        tmp_path / "earful.yaml",
        {
            "data_dir": str(tmp_path / "data"),
            "privacy": {"author_secret": "overlap-test-secret"},
            "nlp": {"enabled": False},
            "topics": [{"name": "acme", "query": "acme"}],
            "sources": {"rss": {"connect_timeout": 5, "read_timeout": 60, "feeds": feeds}},
        },
    )


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_run_refuses_in_one_line_and_never_stops_the_first_runs_index(tmp_path: Path) -> None:
    release = threading.Event()

    def held_feed(handler) -> None:  # answers only when the test says so: the first run is busy
        release.wait(120)
        body = rss([item(1, "Acme boots are great"), item(2, "Acme jacket review")])
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with scripted_server() as server:
        server.routes["/held"] = Route(handler=held_feed)
        cfg = config(tmp_path, [{"name": "held", "url": server.url("/held")}, {"name": "sample", "path": str(SAMPLE)}])
        first = subprocess.Popen(
            earful("run", "-c", str(cfg)),
            cwd=tmp_path,
            env=env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            wait_for(tmp_path / "data" / "index" / "server.json", first)  # it holds the lock and its index is up

            second = subprocess.run(
                earful("run", "-c", str(cfg)), cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120
            )
            assert second.returncode == 1
            assert len(second.stderr.strip().splitlines()) == 1 and "Traceback" not in second.stderr
            assert f"in use by another earful run: pid {first.pid} (earful run" in second.stderr
            assert "--wait" in second.stderr

            # A command that only reads, meanwhile, shares the running index server and leaves it running.
            stats = subprocess.run(
                earful("stats", "-c", str(cfg)), cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120
            )
            assert stats.returncode == 0, stats.stderr

            waiting = subprocess.Popen(
                earful("run", "--wait", "300", "-c", str(cfg)),
                cwd=tmp_path,
                env=env(),
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        finally:
            release.set()
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, err
        assert "new mentions from 2 sources" in out and "failed" not in out  # its index was never stopped
        out, err = waiting.communicate(timeout=300)
        assert waiting.returncode == 0, err
        assert "0 new mentions from 2 sources" in out  # it waited for the first, then found everything stored


def test_two_runs_started_together_on_a_new_data_folder_both_succeed(tmp_path: Path) -> None:
    cfg = config(tmp_path, [{"name": "sample", "path": str(SAMPLE)}])
    runs = [
        subprocess.Popen(
            earful("run", "--wait", "300", "-c", str(cfg)),
            cwd=tmp_path,
            env=env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [run.communicate(timeout=300) + (run.returncode,) for run in runs]
    for _out, err, code in results:
        assert code == 0, err
        assert "Traceback" not in err and "already exists" not in err
    new = sorted(int(re.search(r"(\d+) new mentions from", out).group(1)) for out, _, _ in results)
    assert new[0] == 0 and new[1] > 0  # one ran first, the other waited and found nothing new


MIGRATE = """
import sys, time
from pathlib import Path
from earful_records.db import make_engine
from earful.schema import upgrade
go = Path(sys.argv[2])
(go.parent / f"ready-{sys.argv[3]}").touch()
while not go.exists():
    time.sleep(0.005)
upgrade(make_engine(sys.argv[1]))
"""


def migrate_together(url: str, tmp_path: Path, count: int = 4) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url, str(go), str(n)], env=env(), text=True, stderr=subprocess.PIPE
        )
        for n in range(count)
    ]
    for n, proc in enumerate(procs):  # every process has imported and waits for the start signal
        wait_for(tmp_path / f"ready-{n}", proc)
    go.touch()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err


def test_concurrent_first_migrations_on_sqlite(tmp_path: Path) -> None:
    migrate_together(f"sqlite:///{tmp_path}/data/records.db", tmp_path)


@pytest.mark.postgres
def test_concurrent_first_migrations_on_postgresql(tmp_path: Path) -> None:
    with throwaway_database("migrate") as url:
        migrate_together(url, tmp_path)


LISTEN_TASK = """
import json, sys, time
from pathlib import Path
from earful.settings import load_settings
from earful.tasks import run_source
settings = load_settings(Path(sys.argv[1]))
go = Path(sys.argv[3])
(go.parent / f"ready-{sys.argv[2]}").touch()
while not go.exists():
    time.sleep(0.005)
print(json.dumps({k: v for k, v in run_source(settings, sys.argv[2]).items() if k != "mention_ids"}))
"""


def test_concurrent_listen_tasks_share_the_embedded_index(tmp_path: Path) -> None:
    """Airflow's mapped `listen` tasks, one process each, started at once on one data folder (embedded index):
    every one succeeds on its first try, and the index holds every mention once."""
    import json

    samples = sorted((REPO / "config" / "samples").iterdir())[:4]  # source concurrency 4, as the DAG default
    feeds = [{"name": path.stem, "path": str(path)} for path in samples]
    cfg = config(tmp_path, feeds)
    go = tmp_path / "go"
    tasks = [
        subprocess.Popen(
            [sys.executable, "-c", LISTEN_TASK, str(cfg), f"rss:{feed['name']}", str(go)],
            env=env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for feed in feeds
    ]
    for feed, task in zip(feeds, tasks, strict=True):
        wait_for(tmp_path / f"ready-rss:{feed['name']}", task)
    go.touch()
    new = 0
    for task in tasks:
        out, err = task.communicate(timeout=300)
        assert task.returncode == 0, err
        result = json.loads(out.strip().splitlines()[-1])
        assert result["errors"] == 0 and result["cursor_committed"], result
        new += result["new"]
    stats = subprocess.run(
        earful("stats", "-c", str(cfg)), cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=120
    )
    assert stats.returncode == 0, stats.stderr
    assert new > 0 and f"{new} mentions in the index" in stats.stdout
    assert not list((tmp_path / "data" / "index" / "users").iterdir())  # everyone left; the server stopped
