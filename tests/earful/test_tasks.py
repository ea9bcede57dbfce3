"""The functions the Airflow tasks call, without Airflow: what one listening task hands on, and honest counts in
the alerts task (this run's mentions against those an earlier run left behind)."""

from __future__ import annotations

from typing import Any

from tests.helpers.feeds import item, rss
from tests.helpers.http_server import Route, scripted_server


def test_the_alerts_task_counts_only_mentions_of_earlier_runs_as_unfinished(make_settings: Any) -> None:
    from earful.tasks import SourceCounts, run_post_index_hooks, run_source

    with scripted_server() as srv:
        srv.routes["/a"] = Route(body=rss([item(n, f"Acme boots recall {n}") for n in range(1, 4)]))
        srv.routes["/b"] = Route(
            body=rss([item(n, f"Acme jacket recall {n}") for n in range(11, 16)]),
            headers={"Content-Type": "application/rss+xml; charset=utf-8"},
        )
        settings = make_settings(
            [{"name": "a", "url": srv.url("/a")}, {"name": "b", "url": srv.url("/b")}],
            alerts={
                "channels": {"console": {"type": "console"}},
                "routes": [{"channels": ["console"]}],
                "rules": [{"name": "crisis", "type": "crisis_query", "query": "recall*"}],
            },
            privacy={"author_secret": "tasks-test-secret"},  # URL feeds are real sources: no demo secret
        )
        earlier = run_source(settings, "rss:a")  # a run that indexed source a and died before its alerts task
        this_run = run_source(settings, "rss:b")

    assert set(this_run) == set(SourceCounts.__annotations__)  # counts and ids only: no text, no windows
    assert this_run["new"] == len(this_run["mention_ids"]) == 5 and earlier["new"] == 3
    counts = run_post_index_hooks(settings, this_run["mention_ids"])
    assert counts["mentions"] == 5 and counts["found"] == 8  # the hooks ran over both runs' mentions
    assert counts["mentions from an unfinished batch"] == 3  # only source a's, not this run's own
    again = run_post_index_hooks(settings, [])
    assert again["found"] == 0 and "mentions from an unfinished batch" not in again
