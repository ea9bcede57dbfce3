"""Whole batches against a real index server, real SQLite/PostgreSQL and feeds served on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from earful.runner import run_batch
from earful_indexer.client import make_client
from earful_records.cursors import all_cursors
from tests.helpers.feeds import item, rss
from tests.helpers.http_server import Route, scripted_server

REPO = Path(__file__).resolve().parents[2]


def indexed(settings) -> dict[str, dict]:
    es = make_client(settings.index)
    es.indices.refresh(index=settings.index.alias)
    resp = es.search(index=settings.index.alias, size=1000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in resp["hits"]["hits"]}


def test_batch_indexes_once_and_a_failing_feed_does_not_stop_the_others(make_settings) -> None:
    with scripted_server() as srv:
        srv.routes["/good"] = Route(
            body=rss(
                [
                    item(1, "Acme boots are great"),
                    item(2, "weather today is grey"),
                    item(3, "Acme support did not answer my refund request"),
                ]
            ),
            etag='"1"',
        )
        srv.routes["/broken"] = Route(status=503)
        settings = make_settings(
            [{"name": "good", "url": srv.url("/good")}, {"name": "broken", "url": srv.url("/broken")}]
        )
        first = run_batch(settings)
        by_source = {s.source: s for s in first.sources}
        assert by_source["rss:good"].new == 2 and by_source["rss:good"].off_topic == 1
        assert by_source["rss:broken"].failed and "HTTP 503" in by_source["rss:broken"].errors[0]
        assert "rss:broken" not in all_cursors_of(settings)
        docs = indexed(settings)
        assert len(docs) == 2 and all(d["topics"] == ["acme"] and d["language"] == "en" for d in docs.values())

        srv.routes["/good"].etag = '"2"'  # the feed changed: same items again plus one new
        srv.routes["/good"].body = rss([item(1, "Acme boots are great"), item(4, "Acme jacket review: warm")])
        second = run_batch(settings)
        good = {s.source: s for s in second.sources}["rss:good"]
        assert (good.new, good.already_seen) == (1, 1)
        assert len(indexed(settings)) == 3

        third = run_batch(settings)  # unchanged feed: a 304, nothing new
        assert third.new == 0

    from earful_records.batch_runs import recent_batches
    from earful_records.db import make_engine

    runs = recent_batches(make_engine(settings.records_url()))
    assert [r["status"] for r in runs] == ["partial"] * 3 and runs[-1]["counts"]["new"] == 2


def test_a_batch_notes_everything_the_index_took_and_the_next_replays_nothing(make_settings) -> None:
    from earful_records.db import make_engine
    from earful_records.mentions import ACKNOWLEDGED, count_by_state

    with scripted_server() as srv:
        for n in range(3):  # the last source's marks are noted after the loop, the others' with the next source
            srv.routes[f"/f{n}"] = Route(body=rss([item(10 * n + k, f"Acme boots review {n} {k}") for k in range(4)]))
        settings = make_settings([{"name": f"f{n}", "url": srv.url(f"/f{n}")} for n in range(3)])
        first = run_batch(settings)
        assert first.new == 12 and first.replayed == 0
        assert count_by_state(make_engine(settings.records_url())) == {ACKNOWLEDGED: 12}
        second = run_batch(settings)
        assert (second.new, second.replayed, second.lost_by_index) == (0, 0, 0)
    assert len(indexed(settings)) == 12


def all_cursors_of(settings) -> dict:
    from earful_records.db import make_engine

    return all_cursors(make_engine(settings.records_url()))


def test_near_duplicates_are_recorded_not_dropped(make_settings) -> None:
    story = (
        "Acme is recalling forty thousand pairs of TrailRunner boots after customers reported that the soles "
        "came loose on wet rock, and owners can return them to any dealer for a refund"
    )
    with scripted_server() as srv:
        srv.routes["/a"] = Route(body=rss([item(1, story)]))
        srv.routes["/b"] = Route(body=rss([item(7, story + ", a spokesperson said on Thursday")]))
        settings = make_settings([{"name": "a", "url": srv.url("/a")}, {"name": "b", "url": srv.url("/b")}])
        summary = run_batch(settings)
    assert summary.new == 2
    docs = indexed(settings)
    originals = [d for d in docs.values() if "duplicate_of" not in d]
    copies = [d for d in docs.values() if "duplicate_of" in d]
    assert len(originals) == 1 and len(copies) == 1
    assert copies[0]["duplicate_of"] in docs


def test_records_on_postgresql(make_settings, pg_url: str) -> None:
    with scripted_server() as srv:
        srv.routes["/f"] = Route(body=rss([item(1, "Acme boots")]), etag='"x"')
        settings = make_settings([{"name": "f", "url": srv.url("/f")}], records={"url": pg_url})
        assert run_batch(settings).new == 1
        assert all_cursors_of(settings)["rss:f"] == {"etag": '"x"'}
        assert run_batch(settings).new == 0


def run_killed(script: str, config: Path) -> None:
    """Run a batch in a child process that `script` kills with SIGKILL at some point."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    crashed = subprocess.run(
        [sys.executable, "-c", script, str(config)], env=env, cwd=REPO, capture_output=True, timeout=120
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]


CRASH_BEFORE_INDEXING = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import earful.index_sync as index_sync
    from earful.settings import load_settings
    import earful.runner as runner

    def crash(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)  # the records transaction committed; the index write never happens

    index_sync.index_documents = crash
    runner.run_batch(load_settings(Path(sys.argv[1])))
    """
)


def stored_states(settings) -> dict[int, int]:
    from earful_records.db import make_engine
    from earful_records.mentions import count_by_state

    return count_by_state(make_engine(settings.records_url()))


def test_a_crash_between_the_records_commit_and_the_index_write_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    """Killed with SIGKILL after storing, before indexing: the cursor moved (the feed now answers 304), and the
    next run indexes every stored mention exactly once and runs its hooks once."""
    import earful.runner as runner
    from earful.settings import load_settings
    from tests.conftest import write_config

    items = [item(n, f"Acme mention number {n} about boots") for n in range(1, 31)]
    with scripted_server() as srv:
        srv.routes["/f"] = Route(body=rss(items), etag='"v1"')
        config = write_config(
            tmp_path / "earful.yaml",
            {
                "data_dir": str(tmp_path / "data"),
                "sources": {"rss": {"feeds": [{"name": "f", "url": srv.url("/f")}]}},
                "topics": [{"name": "acme", "query": "acme"}],
                "nlp": {"enabled": False},
            },
        )
        run_killed(CRASH_BEFORE_INDEXING, config)
        settings = load_settings(config)
        assert all_cursors_of(settings) == {"rss:f": {"etag": '"v1"'}}  # moved with the stored mentions
        assert stored_states(settings) == {0: 30}  # durable, none indexed

        seen: list[str] = []
        monkeypatch.setattr(
            runner,
            "post_index_hooks",
            lambda services: [("record", lambda ctx: seen.extend(m.id for m in ctx.new_mentions))],
        )
        summary = run_batch(settings)  # the embedded index starts again on the same data folder
        assert summary.sources[0].fetched == 0  # 304: only the records still have these mentions
        assert summary.replayed == 30 and summary.awaiting_index == 0 and summary.status == "ok"
        assert len(seen) == 30 == len(set(seen))
        from earful.services import open_services

        with open_services(settings) as services:
            services.es.indices.refresh(index=services.alias)
            ids = [h["_id"] for h in services.es.search(index=services.alias, size=100)["hits"]["hits"]]
        assert len(ids) == 30 == len(set(ids)) and set(ids) == set(seen)

        seen.clear()
        again = run_batch(settings)
        assert again.replayed == 0 and seen == [] and stored_states(settings) == {2: 30}


CRASH_BEFORE_HOOKS = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import earful.runner as runner
    from earful.settings import load_settings

    def crash(services):
        os.kill(os.getpid(), signal.SIGKILL)  # everything is indexed and committed; the alerts never ran

    runner.post_index_hooks = crash
    runner.run_batch(load_settings(Path(sys.argv[1])))
    """
)


def test_a_crash_before_the_alerts_runs_them_next_batch(tmp_path: Path, monkeypatch) -> None:
    """Mentions indexed by a batch that died before its post-index hooks get them in the next batch."""
    import earful.runner as runner
    from earful.settings import load_settings
    from tests.conftest import write_config

    with scripted_server() as srv:
        srv.routes["/f"] = Route(body=rss([item(n, f"Acme mention {n} about boots") for n in range(1, 11)]))
        config = write_config(
            tmp_path / "earful.yaml",
            {
                "data_dir": str(tmp_path / "data"),
                "sources": {"rss": {"feeds": [{"name": "f", "url": srv.url("/f")}]}},
                "topics": [{"name": "acme", "query": "acme"}],
                "nlp": {"enabled": False},
            },
        )
        run_killed(CRASH_BEFORE_HOOKS, config)

        seen: list[str] = []
        monkeypatch.setattr(
            runner,
            "post_index_hooks",
            lambda services: [("record", lambda ctx: seen.extend(m.id for m in ctx.new_mentions))],
        )
        summary = run_batch(load_settings(config))
        assert summary.new == 0  # all indexed by the crashed batch
        assert len(seen) == 10 and summary.hook_counts["mentions from an unfinished batch"] == 10
        seen.clear()
        run_batch(load_settings(config))
        assert seen == []  # cleared once the hooks ran


def test_fetch_worker_processes_give_the_same_result(make_settings, es_url: str, tmp_path: Path) -> None:
    """Feeds fetched, parsed and annotated in worker processes index exactly what the in-process path does."""
    story = (
        "Acme is recalling forty thousand pairs of TrailRunner boots after customers reported that the soles "
        "came loose on wet rock, and owners can return them to any dealer for a refund"
    )
    feeds = {
        "/a": rss([item(1, story), item(2, "weather report for the weekend: grey and cold")]),
        "/b": rss(
            [item(7, story + ", a spokesperson said"), item(8, "Die Stiefel von Acme sind nach zwei Wochen kaputt")]
        ),
        "/c": rss([item(9, "پشتیبانی Acme به درخواست بازپرداخت من پاسخ نمی‌دهد و خیلی ناراضی هستم")]),
    }
    outcomes = []
    for processes in (0, 2):
        with scripted_server() as srv:
            for path, body in feeds.items():
                srv.routes[path] = Route(body=body)
            settings = make_settings(
                [{"name": p.strip("/"), "url": srv.url(p)} for p in feeds],
                listening={"fetch_processes": processes},
                data_dir=str(tmp_path / f"d{processes}"),
                index={"url": es_url, "alias": f"{tmp_path.name[:20].lower()}-{processes}"},
            )
            summary = run_batch(settings)
            assert [s.new for s in summary.sources] == [1, 2, 1] and not any(s.errors for s in summary.sources)
            docs = indexed(settings)
            outcomes.append(
                sorted((d["native_id"], d["language"], tuple(d["topics"]), "duplicate_of" in d) for d in docs.values())
            )
    assert outcomes[0] == outcomes[1]
    assert ("guid-7", "en", ("acme",), True) in outcomes[0] and ("guid-9", "fa", ("acme",), False) in outcomes[0]
