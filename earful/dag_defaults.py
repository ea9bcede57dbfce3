"""Task defaults shared by earful's Airflow DAGs (standard library only: DAG files are parsed often)."""

from __future__ import annotations

import os
from datetime import timedelta


def task_defaults(retry_delay: timedelta, max_retry_delay: timedelta, execution_timeout: timedelta) -> dict:
    """`default_args` for a DAG: retries with exponential backoff (count from EARFUL_TASK_RETRIES, default 3)."""
    return {
        "owner": "earful",
        "retries": int(os.environ.get("EARFUL_TASK_RETRIES", "3")),
        "retry_delay": retry_delay,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": max_retry_delay,
        "execution_timeout": execution_timeout,
    }
