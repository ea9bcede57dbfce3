"""earful housekeeping DAG (daily): retention, index rollover through the write alias, alert outbox retries.

The three tasks are independent: one failing does not keep the others from running. Erasing one author on
request is a person's decision and runs from the command line: `earful housekeeping erase-author`.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from earful.dag_defaults import task_defaults

DEFAULT_ARGS = task_defaults(timedelta(minutes=2), timedelta(minutes=30), timedelta(hours=2))


@dag(
    dag_id="earful_housekeeping",
    schedule=os.environ.get("EARFUL_HOUSEKEEPING_SCHEDULE", "30 2 * * *"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["earful", "housekeeping"],
    doc_md=__doc__,
)
def earful_housekeeping() -> None:
    @task(multiple_outputs=False)
    def retention() -> dict:
        from earful.airflow_settings import load_task_settings
        from earful.tasks import housekeeping_retention

        return housekeeping_retention(load_task_settings())

    @task(multiple_outputs=False)
    def rollover() -> dict:
        from earful.airflow_settings import load_task_settings
        from earful.tasks import housekeeping_rollover

        return housekeeping_rollover(load_task_settings())

    @task(multiple_outputs=False)
    def outbox_retries() -> dict:
        from earful.airflow_settings import load_task_settings
        from earful.tasks import housekeeping_outbox

        return housekeeping_outbox(load_task_settings())

    retention()
    rollover()
    outbox_retries()


earful_housekeeping()
