"""Which tests the fast tier leaves out, and why, in one table (`make test-fast` runs `pytest -m "not slow"`).

The fast tier is the edit-test loop: unit-level tests against real SQLite, PostgreSQL, noida-db and servers on
127.0.0.1, in under 90 s. Left out (marked `slow`, and `browser` / `airflow` where that is the reason): Chromium,
Airflow, earful run as a process, processes killed and disks filled, the web app served over HTTP with its
password hashing, and the transformer models. `make test` (CI) runs everything. A test file can still mark itself
(`pytestmark = pytest.mark.slow`); this table is for what is slow for a reason shared by many tests.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

# Node id prefixes (a folder, a file or one test) -> why they are left out of the fast tier.
SLOW: dict[str, str] = {
    "tests/dags/test_dags.py": "imports Airflow and runs the DAGs with dag.test()",
    "tests/dags/test_airflow_install.py": "installs and starts Airflow's own processes",
    "tests/dags/test_scheduler_smoke.py": "a real Airflow scheduler for minutes",
    "tests/complaints/test_web_e2e.py": "Chromium",
    "tests/complaints/test_web_attacks.py": "the web app over HTTP, argon2 sign-ins and throttling per test",
    "tests/complaints/test_web_security.py": "the web app over HTTP, argon2 sign-ins per test",
    "tests/complaints/test_cli.py": "earful as a process",
    "tests/complaints/test_cli_hostile_text.py": "earful as a process",
    "tests/alerts/test_cli.py": "earful as a process, one killed while sending",
    "tests/alerts/test_demo_spikes.py": "the demo's spike series through the whole rule evaluation",
    "tests/alerts/test_bench_spikes.py": "runs bench/spikes.py as a process",
    "tests/alerts/test_rules.py::test_spike_rules_on_generated_series_with_known_answers": "weeks of series",
    "tests/earful/test_cli.py": "earful as a process, the demo batch with the models",
    "tests/earful/test_errors.py": "earful as a process per failure",
    "tests/earful/test_durability.py": "batches killed with SIGKILL, a full disk",
    "tests/earful/test_overlap.py": "concurrent earful processes",
    "tests/earful/test_fetch_pool.py": "fetch worker processes, some killed",
    "tests/earful/test_batch.py": "whole batches with worker processes and crashes",
    "tests/housekeeping/test_housekeeping.py::test_cli_as_a_real_process": "earful as a process",
    "tests/indexer/test_embedded.py": "index servers started, shared and killed across processes",
    "tests/listeners/test_reddit.py::test_a_429_waits_for_the_reset_when_allowed": "waits out a 1 s rate limit",
    "tests/listeners/test_reddit.py::test_server_errors_and_timeouts_are_retried": "praw's own retry pauses",
    "tests/listeners/test_reddit.py::test_a_server_that_keeps_failing_fails_the_source": "praw's own retry pauses",
}
# Fixtures whose users are left out: what the fixture costs.
SLOW_FIXTURES: dict[str, str] = {
    "models_cache": "builds the encoder and loads transformer models (torch)",
}
BROWSER = ("tests/complaints/test_web_e2e.py",)
AIRFLOW = ("tests/dags/test_dags.py", "tests/dags/test_airflow_install.py", "tests/dags/test_scheduler_smoke.py")


def mark_tiers(items: Iterable[pytest.Item]) -> None:
    """Mark the collected tests per the tables above."""
    for item in items:
        if any(item.nodeid == prefix or item.nodeid.startswith((f"{prefix}::", f"{prefix}[")) for prefix in SLOW):
            item.add_marker(pytest.mark.slow)
        if any(name in SLOW_FIXTURES for name in getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        if item.nodeid.startswith(BROWSER):
            item.add_marker(pytest.mark.browser)
        if item.nodeid.startswith(AIRFLOW):
            item.add_marker(pytest.mark.airflow)
