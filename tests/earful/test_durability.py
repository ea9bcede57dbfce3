"""No mention lost, ever: kill -9 of the whole process group (batch, fetch workers and the embedded index server)
at a few moments of a batch over served feeds; a full disk; `earful reindex` after the index is lost.

Each kill leaves the next run to finish the job: every item in the index exactly once, every alert and complaint
record once. The 20-point sweep over 2,000 items is scripts/kill_sweep.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from earful.runner import run_batch
from earful.settings import load_settings
from earful_indexer.embedded import read_state
from tests.helpers.batch_process import (
    TEST_ENV,
    kill_group,
    outcome,
    problems,
    records_engine,
    serve_batch,
    start_batch,
    stored_count,
    wait_for_stored,
)
from tests.helpers.http_server import scripted_server

REPO = Path(__file__).resolve().parents[2]


def complaints_opened(engine: sa.Engine) -> int:
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM complaint_mentions")).scalar() or 0)
    except sa.exc.OperationalError:
        return 0


def _wait(engine: sa.Engine, proc: subprocess.Popen[bytes], ready: Callable[[sa.Engine], bool]) -> None:
    import time

    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and not ready(engine):
        time.sleep(0.01)


KILL_POINTS = {
    # the first source's mentions and cursor are committed; its index write may or may not have landed
    "first source stored": lambda engine, proc, batch: wait_for_stored(engine, proc, 1),
    # half of the sources stored and (mostly) acknowledged by an index server that has not saved them yet
    "half way": lambda engine, proc, batch: wait_for_stored(engine, proc, batch.items // 2),
    # everything stored and indexed; the hooks are opening complaint records
    "opening complaint records": lambda engine, proc, batch: _wait(engine, proc, lambda e: complaints_opened(e) > 0),
}


@pytest.mark.parametrize("moment", list(KILL_POINTS))
def test_kill_9_of_the_whole_process_group_loses_and_doubles_nothing(tmp_path: Path, moment: str) -> None:
    with scripted_server() as srv:
        batch = serve_batch(srv, tmp_path, n_items=300, n_feeds=10)
        engine = records_engine(batch.config)
        proc = start_batch(batch.config)
        KILL_POINTS[moment](engine, proc, batch)
        server = read_state(tmp_path / "data" / "index")
        assert server is not None  # the embedded index server is up
        assert kill_group(proc, tmp_path / "data"), f"ended before the kill point: {proc.stderr.read()[-2000:]!r}"
        assert not psutil.pid_exists(server.server_pid) or psutil.Process(server.server_pid).status() == "zombie"
        killed_with = stored_count(engine)
        engine.dispose()
        assert 0 < killed_with <= batch.items

        summary = run_batch(load_settings(batch.config))  # the next run: the feeds whose cursor moved answer 304
        assert summary.status == "ok" and not summary.awaiting_index
        assert problems(batch, outcome(batch.config)) == []


def fill_up(path: Path) -> None:
    """Write zeros to `path` until the file system is full."""
    block = b"\0" * (1 << 20)
    with path.open("wb") as out:
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError:
            pass


def test_a_full_disk_loses_nothing_and_the_next_run_completes(tmp_path: Path) -> None:
    """The data folder on a small tmpfs that fills up in the middle of a batch (while the second feed is fetched):
    the run says so in one line per source, exits 1 and loses nothing; once space is freed the next run stores and
    indexes everything, alerts and complaint records once."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    filler = mount / "filler"
    try:
        with scripted_server() as srv:
            first = serve_batch(srv, mount, n_items=30, n_feeds=3)
            assert run_batch(load_settings(first.config)).status == "ok"
            bigger = serve_batch(srv, mount, n_items=900, n_feeds=3)  # the feeds grow: new items, new ETags
            for i in range(3):
                srv.routes[f"/feed{i}"].etag = f'"w{i}"'
            second_feed = srv.routes["/feed1"]

            def fill_then_answer(handler) -> None:
                fill_up(filler)
                handler.send_response(200)
                handler.send_header("ETag", second_feed.etag or "")
                handler.send_header("Content-Length", str(len(second_feed.body)))
                handler.end_headers()
                handler.wfile.write(second_feed.body)

            second_feed.handler = fill_then_answer
            full = earful_run(bigger.config)
            second_feed.handler = None
            output = full.stdout + full.stderr
            assert full.returncode == 1 and "Traceback" not in output, output
            full_lines = [line for line in full.stdout.splitlines() if "records database full" in line]
            assert full_lines and any("not stored, cursor kept" in line for line in full_lines), output

            filler.unlink()  # space freed
            again = earful_run(bigger.config)
            assert again.returncode == 0, again.stdout + again.stderr
            assert problems(bigger, outcome(bigger.config)) == []
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def earful_run(config: Path) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "earful.cli", "run", "--config", str(config)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **TEST_ENV},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_reindex_after_the_index_is_deleted_restores_every_mention(tmp_path: Path) -> None:
    """The index folder is lost: `earful reindex` rebuilds it from the records, with labels and languages, and
    running it again changes nothing."""
    import os

    with scripted_server() as srv:
        batch = serve_batch(srv, tmp_path, n_items=120, n_feeds=2)
        assert run_batch(load_settings(batch.config)).status == "ok"
        before = outcome(batch.config)
    shutil.rmtree(tmp_path / "data" / "index")  # the index is gone

    env = {**os.environ, "PYTHONPATH": str(REPO), **TEST_ENV}
    cmd = [sys.executable, "-m", "earful.cli", "reindex", "--config", str(batch.config)]
    first = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0 and "120 stored mentions: 120 indexed now, 0 already in the index" in first.stdout, (
        first.stdout + first.stderr
    )
    restored = outcome(batch.config)
    assert restored["index"] == before["index"] and problems(batch, restored) == []
    second = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert "120 stored mentions: 0 indexed now, 120 already in the index" in second.stdout, second.stdout
    recreated = subprocess.run([*cmd, "--recreate"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert "recreated" in recreated.stdout and "120 indexed now" in recreated.stdout, recreated.stdout
    assert outcome(batch.config)["index"] == before["index"]

    shutil.rmtree(tmp_path / "data" / "index")  # lost again: the next batch notices (fewer documents than the
    with scripted_server() as srv:  # records say it holds) and indexes them again on its own
        serve_batch(srv, tmp_path, n_items=120, n_feeds=2)
        healed = run_batch(load_settings(batch.config))
    assert healed.lost_by_index == 120 and healed.replayed == 120 and healed.new == 0
    assert outcome(batch.config)["index"] == before["index"]


def test_a_batch_stores_while_the_index_is_down_and_the_next_run_indexes_it(
    make_settings, es_url: str, index_alias: str, monkeypatch
) -> None:
    """Index unreachable: mentions and cursors are stored, the summary says how many await indexing (never "ok"),
    the hooks wait; with the index back, the next run indexes them and runs their hooks, once."""
    from rich.console import Console

    import earful.runner as runner
    from earful.summary import print_summary
    from earful_indexer.client import make_client
    from earful_indexer.embedded import free_port
    from tests.helpers.feeds import item, rss
    from tests.helpers.http_server import Route

    seen: list[str] = []
    monkeypatch.setattr(
        runner,
        "post_index_hooks",
        lambda services: [("record", lambda ctx: seen.extend(m.id for m in ctx.new_mentions))],
    )
    with scripted_server() as srv:
        srv.routes["/f"] = Route(body=rss([item(n, f"Acme boots, take {n}") for n in range(12)]), etag='"1"')
        feeds = [{"name": "f", "url": srv.url("/f")}]
        down = run_batch(make_settings(feeds, index={"url": f"http://127.0.0.1:{free_port()}", "alias": index_alias}))
        source = down.sources[0]
        assert (source.new, source.indexed, source.awaiting_index, source.cursor_committed) == (12, 0, 12, True)
        assert down.awaiting_index == 12 and down.status == "partial" and down.not_durable
        assert "unreachable" in (down.index_unreachable or "") and seen == []
        out = Console(record=True, width=200)
        print_summary(down, out)
        text = out.export_text()
        assert "12 stored mentions await indexing" in text and "stored, not indexed" in text

        up = run_batch(make_settings(feeds, index={"url": es_url, "alias": index_alias}))
        assert up.sources[0].fetched == 0  # the cursor moved in the first run: 304
        assert up.replayed == 12 and up.awaiting_index == 0 and up.status == "ok"
        assert len(seen) == 12 == len(set(seen))
        es = make_client(make_settings(feeds, index={"url": es_url, "alias": index_alias}).index)
        es.indices.refresh(index=index_alias)
        assert es.count(index=index_alias)["count"] == 12
