"""bench/spikes.py's contract: a folder of CSV series and windows.json in, per-series and total scores out, the
totals as JSON; a clear skip when the folder is absent."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "spikes.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_scores_a_planted_burst_and_writes_the_totals(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    start = datetime(2015, 3, 2, 0, 2, 53, tzinfo=UTC)
    steps = 6 * 288  # six days of 5-minute counts with a daily cycle
    hour = (np.arange(steps) // 12) % 24
    counts = rng.poisson(3 + 12 * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 3) / 24)))
    burst = 4 * 288 + 14 * 12  # day 4, 14:00: three hours at six times the usual
    counts[burst : burst + 36] *= 6
    lines = ["timestamp,value"] + [
        f"{(start + timedelta(minutes=5 * i)):%Y-%m-%d %H:%M:%S},{c}" for i, c in enumerate(counts)
    ]
    (tmp_path / "Twitter_volume_TEST.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    t0 = start + timedelta(minutes=5 * burst)
    window = [
        f"{t0 - timedelta(hours=12):%Y-%m-%d %H:%M:%S}.000000",
        f"{t0 + timedelta(hours=12):%Y-%m-%d %H:%M:%S}.000000",
    ]
    (tmp_path / "windows.json").write_text(json.dumps({"Twitter_volume_TEST.csv": [window]}), encoding="utf-8")
    out = tmp_path / "totals.json"
    result = run(str(tmp_path), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "CPU: " in result.stdout and "mean+3sigma" in result.stdout and "poisson p<0.001" in result.stdout
    totals = json.loads(out.read_text(encoding="utf-8"))
    assert set(totals) == {"windows_hit_share", "false_alerts_per_topic_day", "lift_vs_random"}
    assert totals["windows_hit_share"] == 1.0 and totals["false_alerts_per_topic_day"] == 0.0
    assert totals["lift_vs_random"] > 4


def test_skips_with_a_message_when_the_series_are_absent(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nowhere"))
    assert result.returncode == 0 and result.stdout.startswith("skipped: no spike series in")
