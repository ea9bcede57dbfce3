"""Benchmark: volume-spike alerts on real mention-volume series with labelled bursts.

Replays each series (CSV `timestamp,value` of counts per fixed interval, UTC) through earful's own decision
(`alerts.rules.judge_volume`, the function the alert evaluation calls, and `alerts.rules.continues_incident`, its
incident dedup), stepped every 15 minutes as the listening DAG runs, with the volume-spike rules of
config/examples/production.yaml. Windows before a series' first mention are unknown (`alerts.windows.known_windows`).
Two baselines run in the same replay, with the same minimum-volume gate and incident dedup: a rolling mean + 3
sigma over the baseline windows, and a Poisson tail test at p < 0.001 (the exact Poisson-rate test).

Printed per series and in total: labelled windows hit, alerts (new incidents) inside and outside the windows,
outside ones per day, and what the same number of alerts placed uniformly at random over the judged time would
get (exact expectations), with the lift (inside / random inside).

    .venv/bin/python bench/spikes.py                       # ../shared/data/spikes relative to the repository
    .venv/bin/python bench/spikes.py DIR --json out.json   # DIR: *.csv series and windows.json
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from pydantic import ValidationError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import cpu_model  # noqa: E402
from earful_alerts.baseline import usual_volume  # noqa: E402
from earful_alerts.config import AlertsSettings, VolumeSpikeRule  # noqa: E402
from earful_alerts.rules import continues_incident, judge_volume  # noqa: E402
from earful_alerts.stats import volume_increase  # noqa: E402
from earful_alerts.windows import WindowCount, known_windows  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "data" / "spikes"
DEFAULT_CONFIG = ROOT / "config" / "examples" / "production.yaml"
STEP = timedelta(minutes=15)
POISSON_ALPHA = 0.001

Detector = Callable[[VolumeSpikeRule, list[WindowCount]], bool]


def earful_rule(rule: VolumeSpikeRule, series: list[WindowCount]) -> bool:
    return judge_volume(rule, series) is not None


def mean_three_sigma(rule: VolumeSpikeRule, series: list[WindowCount]) -> bool:
    """Baseline: current > mean + 3 sd of the baseline windows (same volume gate)."""
    current, base = series[-1].total, [c.total for c in series[:-1]]
    if current < rule.min_count or len(base) < 2:
        return False
    return current > statistics.fmean(base) + 3 * statistics.stdev(base)


def poisson_tail(rule: VolumeSpikeRule, series: list[WindowCount]) -> bool:
    """Baseline: exact Poisson-rate test p < 0.001 against the baseline windows (same volume gate)."""
    current, base = series[-1].total, [c.total for c in series[:-1]]
    if current < rule.min_count or not base:
        return False
    return volume_increase(current, sum(base), len(base)).p_value < POISSON_ALPHA


DETECTORS: dict[str, Detector] = {
    "earful": earful_rule,
    "mean+3sigma": mean_three_sigma,
    "poisson p<0.001": poisson_tail,
}


@dataclass
class Score:
    windows: int = 0
    hit: int = 0
    inside: int = 0
    outside: int = 0
    days: float = 0.0
    random_inside: float = 0.0  # expected alerts inside windows if the same number were placed at random
    random_hit: float = 0.0  # expected windows hit by them
    alert_times: list[datetime] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("windows", "hit", "inside", "outside", "days", "random_inside", "random_hit"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def lift(self) -> float:
        return self.inside / self.random_inside if self.random_inside else float("nan")

    def line(self) -> str:
        return (
            f"hit {self.hit}/{self.windows} (random {self.random_hit:.1f}), alerts inside {self.inside} "
            f"(random {self.random_inside:.1f}, lift {self.lift:.1f}x), outside {self.outside} "
            f"= {self.outside / self.days if self.days else 0:.2f}/day"
        )


def read_series(path: Path) -> tuple[list[datetime], list[int]]:
    """Timestamps (UTC) and counts of a `timestamp,value` CSV; one clear line when it is malformed."""
    times, values = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                times.append(datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC))
                values.append(int(float(row["value"])))
            except (KeyError, TypeError, ValueError):
                raise SystemExit(f"{path}:{line}: expected 'timestamp,value', got {row}") from None
    if len(times) < 2:
        raise SystemExit(f"{path}: fewer than two rows")
    return times, values


def replay(
    rule: VolumeSpikeRule, times: list[datetime], values: list[int], detectors: dict[str, Detector]
) -> tuple[dict[str, list[datetime]], datetime, datetime]:
    """Alert times (new incidents) of each detector, and the judged span (from the end of the warm-up)."""
    interval = times[1] - times[0]
    per_window, per_step = rule.window // interval, STEP // interval
    if per_window * interval != rule.window or per_step * interval != STEP:
        raise SystemExit(f"the series interval {interval} does not divide the window {rule.window} and step {STEP}")
    cumulative = [0]
    for v in values:
        cumulative.append(cumulative[-1] + v)
    # The window ending after sample j; windows reaching before the first sample are unknown.
    window_at = {
        j: WindowCount(times[j] + interval - rule.window, cumulative[j + 1] - cumulative[j + 1 - per_window], 0)
        for j in range(per_window - 1, len(values))
    }
    alerts: dict[str, list[datetime]] = {name: [] for name in detectors}
    last: dict[str, datetime | None] = dict.fromkeys(detectors)
    span_start = None
    for j in range(per_window - 1, len(values), per_step):
        now = times[j] + interval
        ends = range(j - per_window * rule.baseline_windows, j + 1, per_window)
        series = known_windows([window_at[e] for e in ends if e in window_at], earlier_mentions=False)
        if span_start is None:
            if usual_volume([c.total for c in series[:-1]], rule.window, rule.seasonality) is None:
                continue  # earful's warm-up: every detector starts judging at the same time
            span_start = now
        for name, detector in detectors.items():
            if not detector(rule, series):
                continue
            if not continues_incident(last[name], now, rule):
                alerts[name].append(now)
            last[name] = now
    end = times[-1] + interval
    return alerts, span_start or end, end


def score(
    alert_times: list[datetime], windows: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> Score:
    span = (end - start).total_seconds()
    result = Score(windows=len(windows), days=span / 86400, alert_times=alert_times)
    inside = [t for t in alert_times if any(a <= t <= b for a, b in windows)]
    result.inside, result.outside = len(inside), len(alert_times) - len(inside)
    result.hit = sum(any(a <= t <= b for t in alert_times) for a, b in windows)
    n = len(alert_times)
    for a, b in windows:
        share = max(0.0, (min(b, end) - max(a, start)).total_seconds()) / span if span else 0.0
        result.random_inside += n * share
        result.random_hit += 1 - (1 - share) ** n
    return result


def load_windows(folder: Path) -> dict[str, list[tuple[datetime, datetime]]]:
    raw = json.loads((folder / "windows.json").read_text(encoding="utf-8"))
    return {
        name: [
            (datetime.fromisoformat(a).replace(tzinfo=UTC), datetime.fromisoformat(b).replace(tzinfo=UTC))
            for a, b in pairs
        ]
        for name, pairs in raw.items()
    }


def volume_rules(config: Path) -> list[VolumeSpikeRule]:
    """The volume_spike rules of a configuration file (only its rules are read: channels need secrets)."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    try:
        settings = AlertsSettings.model_validate({"rules": (data.get("alerts") or {}).get("rules") or []})
    except ValidationError as exc:
        raise SystemExit(f"{config}: invalid alert rules: {exc.errors()[0]['msg']}") from None
    rules = [r for r in settings.rules if isinstance(r, VolumeSpikeRule)]
    if not rules:
        raise SystemExit(f"{config}: no volume_spike rule")
    return rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR, help="CSV series and windows.json")
    parser.add_argument("--json", type=Path, help="write the totals of earful's rule here")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="take the volume_spike rules from here")
    args = parser.parse_args()
    if not (args.folder / "windows.json").exists():
        print(f"skipped: no spike series in {args.folder} (expected *.csv and windows.json)")
        return
    labelled = load_windows(args.folder)
    names = sorted(n for n in labelled if (args.folder / n).exists())
    print(f"CPU: {cpu_model()}")
    print(
        f"{len(names)} series from {args.folder}; rules from {args.config}; a step every "
        f"{STEP.total_seconds() / 60:.0f} min"
    )
    started = time.perf_counter()
    summary: dict[str, float] = {}
    for rule in volume_rules(args.config):
        print(
            f"\nrule {rule.name}: window {rule.window}, {rule.baseline_windows} baseline windows, "
            f"seasonality {rule.seasonality}, alpha {rule.alpha:g}, min_count {rule.min_count}, "
            f"min_ratio {rule.min_ratio}, incident kept open {max(rule.cooldown, rule.window)}"
        )
        totals = {name: Score() for name in DETECTORS}
        for name in names:
            times, values = read_series(args.folder / name)
            alerts, start, end = replay(rule, times, values, DETECTORS)
            print(f"  {name} ({(end - start).total_seconds() / 86400:.1f} days judged)")
            for detector, moments in alerts.items():
                result = score(moments, labelled[name], start, end)
                totals[detector].add(result)
                print(f"    {detector:<16} {result.line()}")
        print("  total")
        for detector, result in totals.items():
            print(f"    {detector:<16} {result.line()}")
        if not summary:
            mine = totals["earful"]
            summary = {
                "windows_hit_share": round(mine.hit / mine.windows, 4) if mine.windows else 0.0,
                "false_alerts_per_topic_day": round(mine.outside / mine.days, 4) if mine.days else 0.0,
                "lift_vs_random": round(mine.lift, 3),
            }
            print(
                f"  targets: windows hit {summary['windows_hit_share']:.0%} (>= 90%), outside alerts per topic-day "
                f"{summary['false_alerts_per_topic_day']:.2f} (<= 0.25), lift {summary['lift_vs_random']:.1f}x "
                f"(>= 4x)"
            )
    print(f"\nreplayed in {time.perf_counter() - started:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    from bench.report import printed, record

    with printed() as lines:
        main()
    record("spikes", lines, cpu_model())
