"""What "usual" volume is for the current window: the same time of day (or of the week) on previous days.

Social traffic has a strong daily rhythm: comparing 15:00 with the night before makes every afternoon a spike.
So the current window is compared with the windows at the same phase of the day on the previous days of the
baseline (median of them from three days on, robust to one earlier burst), and the day-to-day spread at equal
phases gives the overdispersion. Without enough whole days (a new topic, or daily windows) the baseline is flat:
all known windows alike, their spread measured the same way.

Windows before a topic's first mention are not zeros; the caller passes only the known windows, and this module
says when they are too few to judge (the warm-up).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from earful_alerts.stats import nb_dispersion

Seasonality = Literal["daily", "weekly", "none"]
DAY = timedelta(days=1)
MIN_FLAT_WINDOWS = 3  # fewest known windows a flat baseline is judged from
MIN_SEASONS = {"daily": 2, "weekly": 3}  # fewest previous days / weeks for a same-time comparison


@dataclass(frozen=True)
class Usual:
    """The usual volume of the current window, and how much it varies."""

    expected: float  # mentions per window by the usual pattern
    dispersion: float  # negative-binomial `a`: variance = mean + a * mean^2
    references: float  # effective number of windows `expected` was estimated from (a median counts 2/pi of them)
    basis: Literal["time of day", "time of week", "flat"]


def windows_per(window: timedelta, period: timedelta) -> int | None:
    """How many windows make up `period` exactly, or None when it is not a whole number (or not above one)."""
    ratio = period / window
    whole = round(ratio)
    return whole if whole > 1 and abs(ratio - whole) < 1e-9 else None


def usual_volume(baseline: list[int], window: timedelta, seasonality: Seasonality = "daily") -> Usual | None:
    """The usual count for the window after `baseline` (known windows, oldest first), or None during warm-up."""
    n = len(baseline)
    for basis, period in (("weekly", timedelta(days=7)), ("daily", DAY)):
        if seasonality == "none" or (basis == "weekly" and seasonality != "weekly"):
            continue
        per = windows_per(window, period)
        if per is None or n // per < MIN_SEASONS[basis]:
            continue
        seasons = n // per
        same_phase = [baseline[-per * k] for k in range(1, seasons + 1)]
        robust = seasons >= 3
        expected = statistics.median(same_phase) if robust else statistics.fmean(same_phase)
        recent = baseline[n - seasons * per :]
        rows = [recent[i * per : (i + 1) * per] for i in range(seasons)]
        # A median is noisier than a mean of as many values (efficiency 2/pi): the test must know.
        return Usual(
            float(expected),
            _cautious(nb_dispersion(rows), seasons * per),
            seasons * (2 / math.pi if robust else 1.0),
            "time of week" if basis == "weekly" else "time of day",
        )
    # Flat: need a whole day of known windows below a day (so the first afternoon of a topic is not a spike over
    # its first morning), or a few windows of a day or more.
    needed = max(MIN_FLAT_WINDOWS, 0 if seasonality == "none" else windows_per(window, DAY) or 0)
    if n < needed:
        return None
    return Usual(statistics.fmean(baseline), _cautious(nb_dispersion([[c] for c in baseline]), n), n, "flat")


def _cautious(dispersion: float, values: int) -> float:
    """The measured dispersion raised by about one standard error of a variance estimate from `values` counts:
    skewed counts make the estimate come out low more often than high, and a low one means false alarms."""
    return dispersion * (1 + math.sqrt(2 / max(values - 1, 1)))
