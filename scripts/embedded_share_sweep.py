"""Sweep: many processes attach to one data folder's embedded index at random moments, some are killed -9.

Checks, every round: no attached process ever sees its server stop answering (a healthy server is never stopped
under a user), nothing is left running once every process is gone (no orphan keeper or noida-db), and every
document written in any round is still there at the end (the server saved each time it stopped).

    .venv/bin/python scripts/embedded_share_sweep.py [--rounds 20] [--workers 4] [--kill 0.3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORKER = """
import json, random, sys, time
from pathlib import Path
import httpx
from earful_indexer.embedded import embedded_index
started = time.monotonic()
with embedded_index(Path(sys.argv[1]), start_timeout=60) as url:
    attach_s = time.monotonic() - started
    doc = sys.argv[2]
    httpx.put(f"{url}/sweep/_doc/{doc}?refresh=true", json={"doc": doc}, timeout=30).raise_for_status()
    print(json.dumps({"event": "attached", "url": url, "attach_s": attach_s}), flush=True)
    ok = failed = 0
    until = time.monotonic() + float(sys.argv[3])
    while time.monotonic() < until:
        try:
            ok += httpx.get(url, timeout=5).status_code == 200
        except httpx.HTTPError:
            failed += 1
        time.sleep(0.05)
    print(json.dumps({"event": "left", "ok": ok, "failed": failed}), flush=True)
"""


def leftovers(folder: Path) -> list[int]:
    """Processes still serving `folder` (keepers or noida-db)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if str(folder) in cmdline and any("noida-db" in part or "embedded_keeper" in part for part in cmdline):
            found.append(proc.info["pid"])
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill", type=float, default=0.3, help="share of workers killed -9 while attached")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    data = Path(tempfile.mkdtemp(prefix="earful-sweep-"))
    folder = (data / "index").resolve()
    attach_times: list[float] = []
    urls: set[str] = set()
    docs: list[str] = []
    poll_failures = killed = orphans = 0
    started = time.monotonic()
    for round_no in range(args.rounds):
        procs = []
        for n in range(args.workers):
            doc = f"r{round_no}-w{n}"
            hold = rng.uniform(0.2, 1.5)
            procs.append(
                (
                    subprocess.Popen(
                        [sys.executable, "-c", WORKER, str(data), doc, str(hold)],
                        env=env,
                        stdout=subprocess.PIPE,
                        text=True,
                    ),
                    doc,
                )
            )
            time.sleep(rng.uniform(0.0, 0.3))  # staggered: some attach while others leave
        for proc, doc in procs:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"round {round_no}: a worker failed to attach (exit {proc.wait()})")
            attached = json.loads(line)
            attach_times.append(attached["attach_s"])
            urls.add(attached["url"])
            docs.append(doc)
            if rng.random() < args.kill:
                proc.kill()
                killed += 1
        for proc, _ in procs:
            out, _ = proc.communicate(timeout=120)
            for line in out.splitlines():
                event = json.loads(line)
                poll_failures += event.get("failed", 0)
        deadline = time.monotonic() + 15
        while leftovers(folder) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans += len(leftovers(folder))
    from earful_indexer.embedded import embedded_index

    with embedded_index(data) as url:
        httpx.post(f"{url}/sweep/_refresh", timeout=30)
        found = httpx.get(f"{url}/sweep/_count", timeout=30).json()["count"]
    elapsed = time.monotonic() - started
    print(f"cpu: {cpu_model()}")
    print(
        f"rounds {args.rounds}, workers {args.rounds * args.workers}, killed -9 while attached {killed}, "
        f"servers started {len(urls)}, {elapsed:.0f} s"
    )
    print(f"polls that failed under an attached worker: {poll_failures} (must be 0)")
    print(f"processes left running after a round: {orphans} (must be 0)")
    print(f"documents kept: {found} of {len(docs)} (must be all)")
    print(
        f"attach time: median {statistics.median(attach_times) * 1000:.0f} ms, "
        f"p95 {sorted(attach_times)[int(0.95 * (len(attach_times) - 1))] * 1000:.0f} ms, "
        f"max {max(attach_times) * 1000:.0f} ms"
    )
    return 0 if poll_failures == 0 and orphans == 0 and found == len(docs) else 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} cores)"
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
