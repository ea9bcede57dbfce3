"""earful complaints DAGs: the hourly deadline check and the weekly ISO 10002 clause 8 report.

- earful_complaint_deadlines (hourly): records each newly missed acknowledge/respond deadline as an event and
  raises one alert per record and deadline (idempotent), then delivers the alert outbox.
- earful_complaints_report (weekly, Monday 06:00 UTC): builds the clause 8 report of the previous ISO week,
  saves it as HTML and CSV under <data_dir>/reports/ and sends it as a `complaints_report` alert to the channels
  the routing table gives that kind.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

from earful.dag_defaults import task_defaults

DEFAULT_ARGS = task_defaults(timedelta(minutes=1), timedelta(minutes=15), timedelta(minutes=30))
START = pendulum.datetime(2026, 1, 1, tz="UTC")


@dag(
    dag_id="earful_complaint_deadlines",
    schedule="@hourly",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["earful", "complaints"],
    doc_md=__doc__,
)
def earful_complaint_deadlines() -> None:
    @task(multiple_outputs=False)
    def check_deadlines() -> dict:
        from datetime import UTC, datetime

        from earful.airflow_settings import load_task_settings
        from earful.tasks import check_complaint_deadlines

        return check_complaint_deadlines(load_task_settings(), datetime.now(UTC))

    check_deadlines()


@dag(
    dag_id="earful_complaints_report",
    schedule=os.environ.get("EARFUL_REPORT_SCHEDULE", "0 6 * * 1"),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["earful", "complaints"],
    doc_md=__doc__,
)
def earful_complaints_report() -> None:
    @task(multiple_outputs=False)
    def weekly_report() -> dict:
        from datetime import UTC, datetime

        from earful.airflow_settings import load_task_settings
        from earful.tasks import send_complaints_report, week_bounds

        ctx = get_current_context()
        start, end = week_bounds(ctx.get("logical_date") or datetime.now(UTC))
        return send_complaints_report(load_task_settings(), start, end)

    weekly_report()


earful_complaint_deadlines()
earful_complaints_report()
