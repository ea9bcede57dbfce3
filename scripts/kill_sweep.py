"""Kill sweep: SIGKILL the whole process group of a batch (the batch, its fetch workers and the embedded noida-db
index server) at random moments, then run the next batch and check that nothing was lost or doubled.

For each kill point: a fresh data folder, `earful run` over feeds served on 127.0.0.1 (with ETags, so a feed
whose cursor moved answers 304 next time), SIGKILL of the group after a random delay within the length of an
unkilled batch measured first, then the next batch, then the checks: every item in the index exactly once,
every crisis alert and complaint record once, nothing left unindexed or waiting for its hooks.

    .venv/bin/python scripts/kill_sweep.py [--points 20] [--items 2000] [--feeds 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import cpu_model
from earful.runner import run_batch
from earful.settings import load_settings
from tests.helpers.batch_process import (
    kill_group,
    outcome,
    problems,
    records_engine,
    serve_batch,
    start_batch,
    stored_count,
)
from tests.helpers.http_server import scripted_server


def unkilled_timing(items: int, feeds: int) -> tuple[float, float, float]:
    """One unkilled batch here: seconds from start to the first mention stored, to the last stored, and to exit."""
    with tempfile.TemporaryDirectory() as tmp, scripted_server() as srv:
        batch = serve_batch(srv, Path(tmp), items, feeds)
        engine = records_engine(batch.config)
        start = time.monotonic()
        proc = start_batch(batch.config)
        first = last = 0.0
        while proc.poll() is None:
            count = stored_count(engine)
            now = time.monotonic() - start
            first = first or (now if count else 0.0)
            last = last or (now if count >= items else 0.0)
            time.sleep(0.05)
        seconds = time.monotonic() - start
        engine.dispose()
        err = proc.stderr.read() if proc.stderr else b""
        if proc.returncode != 0:
            raise SystemExit(f"the unkilled batch failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
        found = problems(batch, outcome(batch.config))
        if found:
            raise SystemExit(f"the unkilled batch is already wrong: {found}")
    return first, last, seconds


def one_point(delay: float, items: int, feeds: int) -> dict[str, object]:
    """Kill a batch after `delay` seconds, run the next one, check."""
    with tempfile.TemporaryDirectory() as tmp, scripted_server() as srv:
        batch = serve_batch(srv, Path(tmp), items, feeds)
        engine = records_engine(batch.config)
        proc = start_batch(batch.config)
        time.sleep(delay)
        was_running = kill_group(proc, Path(tmp) / "data")
        stored = stored_count(engine)
        engine.dispose()
        summary = run_batch(load_settings(batch.config))
        found = problems(batch, outcome(batch.config))
    return {
        "delay": delay,
        "killed": was_running,
        "stored_at_kill": stored,
        "next_new": summary.new,
        "replayed": summary.replayed,
        "lost_by_index": summary.lost_by_index,
        "hooks_resumed": summary.hook_counts.get("mentions from an unfinished batch", 0),
        "problems": found,
    }


def main() -> None:
    """Measure an unkilled batch, then kill at random moments and check each next run."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    first, last, length = unkilled_timing(args.items, args.feeds)
    print(
        f"an unkilled batch of {args.items} items in {args.feeds} feeds: first mention stored at {first:.1f} s, "
        f"all stored at {last:.1f} s, hooks done and exit at {length:.1f} s"
    )
    # Moments from a little before the first commit to the end: start-up before it (imports, migrations, the
    # index server starting) has nothing to lose, and would take most of the points on a slow machine.
    rng = random.Random(args.seed)
    low = max(0.0, first - 1.0)
    delays = sorted(rng.uniform(low, length) for _ in range(args.points))
    print(f"{args.points} kill moments drawn uniformly in [{low:.1f} s, {length:.1f} s] (seed {args.seed})")
    print(
        f"{'kill at':>8} {'running':>7} {'stored':>6} {'next new':>8} {'replayed':>8} {'index lost':>10} "
        f"{'hooks resumed':>13}  result"
    )
    failures = killed = 0
    for delay in delays:
        row = one_point(delay, args.items, args.feeds)
        failures += bool(row["problems"])
        killed += bool(row["killed"])
        print(
            f"{row['delay']:7.2f}s {str(row['killed']):>7} {row['stored_at_kill']:>6} {row['next_new']:>8} "
            f"{row['replayed']:>8} {row['lost_by_index']:>10} {row['hooks_resumed']:>13}  "
            + ("ok" if not row["problems"] else "; ".join(row["problems"])),
            flush=True,
        )
    print(
        f"{args.points - failures}/{args.points} kill points ({killed} hit a running batch): every item in the index "
        f"exactly once, every alert and complaint record once" + ("" if not failures else f"; {failures} FAILED")
    )
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
