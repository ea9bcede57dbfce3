"""earful listening DAG: every configured source, one mapped task each, then alerts.

list_sources -> listen[source] (mapped: a failing source fails only its own task, retried with backoff;
                                at most EARFUL_SOURCE_CONCURRENCY of one run at once)
             -> alerts (runs when every source task is done, over the mentions they indexed)

Every run has a real data interval [start, end) of EARFUL_LISTENING_INTERVAL_MINUTES (a data-interval
timetable: a plain timedelta schedule would give Airflow 3's zero-width trigger intervals). The tasks hand on
counts and mention ids only, one XCom each.

Backfill-safe: a backfill, or a re-run of an interval that ended more than an hour ago, reads that interval
only (X bounds it server-side; Reddit and RSS keep what was published in it; RSS only has its current items)
and leaves the live cursors alone; the current interval reads since the cursor. Re-running doubles nothing:
mention ids are deterministic and indexing only creates.

Nothing heavy at import time: earful's task code is imported inside the tasks (only the standard-library
earful.dag_defaults at the top).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import DeltaDataIntervalTimetable, Param, dag, get_current_context, task

from earful.dag_defaults import task_defaults

if TYPE_CHECKING:
    from earful.tasks import SourceCounts

# A data-interval timetable, so that every run (scheduled, or manual with a logical date) covers a real interval
# [start, end): scheduled runs the grid's intervals, a manual run at T [T - INTERVAL, T).
INTERVAL = timedelta(minutes=int(os.environ.get("EARFUL_LISTENING_INTERVAL_MINUTES", "15")))
SOURCE_CONCURRENCY = int(os.environ.get("EARFUL_SOURCE_CONCURRENCY", "4"))

DEFAULT_ARGS = task_defaults(timedelta(seconds=30), timedelta(minutes=10), timedelta(minutes=30))


@dag(
    dag_id="earful_listening",
    schedule=DeltaDataIntervalTimetable(INTERVAL),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["earful"],
    params={
        "mode": Param(
            "auto",
            enum=["auto", "cursor", "window"],
            description="auto: past intervals read their window, the current one the cursor",
        )
    },
    doc_md=__doc__,
)
def earful_listening() -> None:
    @task
    def list_sources() -> list[str]:
        import logging

        from earful.airflow_settings import load_task_settings
        from earful.tasks import list_sources

        plan = list_sources(load_task_settings())
        for line in plan["skipped"]:
            logging.getLogger("earful").warning(line)  # e.g. "x: skipped, no bearer token (...)"
        return plan["sources"]

    @task(max_active_tis_per_dagrun=SOURCE_CONCURRENCY, multiple_outputs=False)
    def listen(source_id: str) -> SourceCounts:
        from datetime import UTC, datetime

        from earful.airflow_settings import load_task_settings
        from earful.tasks import run_source
        from earful.window import run_window

        ctx = get_current_context()
        window = run_window(
            ctx["params"].get("mode", "auto"),
            getattr(ctx.get("dag_run"), "run_type", None),
            ctx.get("data_interval_start"),
            ctx.get("data_interval_end"),
            datetime.now(UTC),
            length=INTERVAL,
        )
        return run_source(load_task_settings(), source_id, window)

    @task(trigger_rule="all_done", multiple_outputs=False)
    def alerts(results: list[SourceCounts | None]) -> dict[str, int]:
        from earful.airflow_settings import load_task_settings
        from earful.tasks import run_post_index_hooks

        ids = [mention_id for result in results if result for mention_id in result["mention_ids"]]
        return run_post_index_hooks(load_task_settings(), ids)

    alerts(listen.expand(source_id=list_sources()))


earful_listening()
