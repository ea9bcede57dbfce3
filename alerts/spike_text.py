"""The words of a spike alert, for the communication people who read it: counts with thousands separators, the
usual for that time, and the p-value as odds ("chance of this by normal variation: less than 1 in 10,000")."""

from __future__ import annotations

from datetime import datetime, timedelta


def volume_reason(current: int, expected: float, basis: str, start: datetime, window: timedelta, p_value: float) -> str:
    """The alert text of a volume spike, for people: '1,240 mentions in the last hour (14:00–15:00 UTC), about
    3.1x the usual 400 at this time of day; chance of this by normal variation: less than 1 in 10,000'."""
    usual = f"{expected:,.0f}" if expected >= 10 else f"{expected:.1f}"
    where = {"time of day": "at this time of day", "time of week": f"for a {start:%A} {_clock(start, window)}"}.get(
        basis, f"per {_unit(window)}"
    )
    if expected < 0.05:
        times = "where there are usually none" + ("" if basis == "flat" else f" {where}")
    else:
        ratio = current / expected
        times = (
            f"about {ratio:.1f}x the usual {usual} {where}"
            if ratio < 10
            else f"about {ratio:.0f}x the usual {usual} {where}"
        )
    return f"{current:,} mentions {span_words(start, window)}, {times}; {chance_words(p_value)}"


def chance_words(p_value: float) -> str:
    """A p-value in words: 'chance of this by normal variation: about 1 in 2,000' / 'less than 1 in 10,000'."""
    if p_value < 1e-4:
        bound = next(b for b in (1e-6, 1e-5, 1e-4) if p_value < b)
        odds = "a million" if bound == 1e-6 else f"{round(1 / bound):,}"
        return f"chance of this by normal variation: less than 1 in {odds}"
    odds_n = 1 / max(p_value, 1e-12)
    digits = max(len(str(int(odds_n))) - 2, 0)
    return f"chance of this by normal variation: about 1 in {int(round(odds_n, -digits)):,}"


def _clock(start: datetime, window: timedelta) -> str:
    return f"{start:%H:%M}–{start + window:%H:%M} {start.tzname() or 'UTC'}"


def _unit(window: timedelta) -> str:
    """'hour', '2 hours', 'day', '15 minutes'."""
    seconds = int(window.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            amount = seconds // size
            return unit if amount == 1 else f"{amount} {unit}s"
    return f"{seconds} seconds"


def span_words(start: datetime, window: timedelta) -> str:
    """'in the last hour (14:00–15:00 UTC)', 'in the last day (to Fri 20 Nov 00:00 UTC)'."""
    end = start + window
    when = _clock(start, window) if window < timedelta(days=1) else f"to {end:%a %d %b %H:%M} {end.tzname() or 'UTC'}"
    return f"in the last {_unit(window)} ({when})"
