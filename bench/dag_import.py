"""Benchmark: how long each DAG file takes to import (what the dag-processor pays on every parse).

Each DAG file is imported in a fresh interpreter after `import airflow.sdk` (Airflow itself is not the DAG file's
cost), median of several runs; the baseline in the same run is Airflow's own smallest DAG (one EmptyOperator)
imported the same way. Target: under 2 s per file.

    .venv/bin/python bench/dag_import.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model

REPO = Path(__file__).resolve().parents[1]
TARGET_S = 2.0
PROBE = """
import importlib.util, json, sys, time
import airflow.sdk
spec = importlib.util.spec_from_file_location("dagfile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
start = time.perf_counter(); spec.loader.exec_module(module); took = time.perf_counter() - start
print(json.dumps({"took": took}))
"""
BASELINE_DAG = """
from datetime import datetime
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator
with DAG("baseline", start_date=datetime(2026, 1, 1), schedule=None):
    EmptyOperator(task_id="nothing")
"""


def import_seconds(dag_file: Path, airflow_home: Path, runs: int) -> float:
    """Median seconds to import `dag_file` in a fresh interpreter that has already imported airflow.sdk."""
    env = {"AIRFLOW_HOME": str(airflow_home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    times = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(dag_file)], capture_output=True, text=True, env=env, check=True
        )
        times.append(json.loads(done.stdout.strip().splitlines()[-1])["took"])
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="imports per file (the median is printed)")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        baseline_file = home / "baseline_dag.py"
        baseline_file.write_text(BASELINE_DAG, encoding="utf-8")
        baseline = import_seconds(baseline_file, home, args.runs)
        print(f"{'one EmptyOperator DAG (baseline)':34s}: {baseline:6.3f} s")
        for dag_file in sorted((REPO / "dags").glob("*.py")):
            took = import_seconds(dag_file, home, args.runs)
            verdict = "OK" if took < TARGET_S else "MISSED"
            print(f"{dag_file.name:34s}: {took:6.3f} s ({took / baseline:.1f}x the baseline; target < 2 s) {verdict}")


if __name__ == "__main__":
    from bench.report import printed, record

    with printed() as lines:
        main()
    record("dag_import", lines, cpu_model())
