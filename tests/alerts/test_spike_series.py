"""Known answers of the volume-spike decision on generated hourly series with a daily cycle (seeded, no server).

The series are what real mention volume looks like in shape: a daily rhythm (lowest at 03:00, highest at 15:00),
Poisson or overdispersed (negative-binomial) noise. Judged hour by hour with the production rule (1 h windows,
336 baseline windows, min 20), through `judge_volume`, the function the evaluation calls.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from earful_alerts.baseline import usual_volume
from earful_alerts.config import AlertsSettings, VolumeSpikeRule
from earful_alerts.rules import judge_negative_share, judge_volume
from earful_alerts.stats import share_increase, volume_increase
from earful_alerts.windows import WindowCount, known_windows

T0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DAYS = 21
JUDGED_FROM = 14 * 24  # the last week is judged, after two weeks of history

# (name, negative-binomial dispersion a (0 = Poisson), hourly mean at night and in the afternoon, burst size)
KINDS = [
    ("poisson", 0.0, (15, 120), 2.5),
    ("overdispersed", 0.05, (15, 120), 3.0),  # variance/mean 2 at night, 7 in the afternoon
    ("overdispersed-loud", 0.1, (40, 1500), 4.0),  # variance/mean up to 150, like a busy brand
]
PLANTED = [15 * 24 + 3, 16 * 24 + 15, 17 * 24 + 9, 18 * 24 + 21, 19 * 24 + 15]  # night, peak, morning, evening


@pytest.fixture(scope="module")
def rule() -> VolumeSpikeRule:
    return AlertsSettings.model_validate(
        {
            "rules": [
                {
                    "name": "volume-spike",
                    "type": "volume_spike",
                    "window": "1h",
                    "baseline_windows": 336,
                    "min_count": 20,
                }
            ]
        }
    ).rules[0]


def daily_cycle(hours: int, night: float, peak: float) -> np.ndarray:
    hour = np.arange(hours) % 24
    return night + (peak - night) * (0.5 - 0.5 * np.cos(2 * np.pi * (hour - 3) / 24))


def draw(mean: np.ndarray, dispersion: float, rng: np.random.Generator) -> np.ndarray:
    if dispersion == 0:
        return rng.poisson(mean)
    size = 1 / dispersion
    return rng.negative_binomial(size, size / (size + mean))


def fired_hours(
    rule: VolumeSpikeRule, counts: np.ndarray, start: int = JUDGED_FROM, first_mention_known: bool = False
) -> list[int]:
    """Hours (index of the current window) at which the rule fires, judged every hour from `start`."""
    windows = [WindowCount(T0 + timedelta(hours=i), int(c), 0) for i, c in enumerate(counts)]
    fired = []
    for end in range(start, len(counts)):
        series = known_windows(windows[max(0, end - rule.baseline_windows) : end + 1], first_mention_known)
        if judge_volume(rule, series) is not None:
            fired.append(end)
    return fired


@pytest.mark.parametrize(("name", "dispersion", "levels", "size"), KINDS, ids=[k[0] for k in KINDS])
def test_quiet_series_do_not_fire_where_a_poisson_test_cries_wolf(rule, name, dispersion, levels, size):
    fired, poisson_fired, judged = 0, 0, 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        counts = draw(daily_cycle(DAYS * 24, *levels), dispersion, rng)
        hours = fired_hours(rule, counts)
        assert len(hours) <= 1, (seed, hours)  # a week of hourly judgements at alpha 0.001: ~0.17 by chance
        fired += len(hours)
        judged += len(counts) - JUDGED_FROM
        # The old rule: the same hour against the 48 before it, exact Poisson test, same volume gate.
        poisson_fired += sum(
            1
            for i in range(JUDGED_FROM, len(counts))
            if counts[i] >= rule.min_count
            and volume_increase(int(counts[i]), int(counts[i - 48 : i].sum()), 48).p_value < 0.001
        )
    assert fired <= 2 * rule.alpha * judged  # 4 series x 168 hours: at most 1 false alarm
    assert poisson_fired > 25 * 4  # every afternoon looks like a spike to it


@pytest.mark.parametrize(("name", "dispersion", "levels", "size"), KINDS, ids=[k[0] for k in KINDS])
def test_every_planted_burst_of_the_stated_size_fires(rule, name, dispersion, levels, size):
    for seed in range(3):
        rng = np.random.default_rng(seed)
        mean = daily_cycle(DAYS * 24, *levels)
        counts = draw(mean, dispersion, rng)
        for hour in PLANTED:  # `size` times the usual volume of that hour (and at least the minimum volume)
            counts[hour] = max(round(mean[hour] * size), rule.min_count)
        fired = fired_hours(rule, counts)
        assert set(PLANTED) <= set(fired), (seed, sorted(set(PLANTED) - set(fired)))


def test_a_topic_that_starts_mid_series_does_not_fire_on_its_first_day(rule):
    rng = np.random.default_rng(3)
    mean = daily_cycle(DAYS * 24, 15, 120)
    start = 10 * 24  # first mention on day 10 at 00:00; before it the topic did not exist (not: zero volume)
    counts = draw(mean, 0.05, rng)
    counts[:start] = 0
    assert fired_hours(rule, counts, start=start) == []
    # Without the warm-up guard the empty days count as zeros and the topic's first afternoon "spikes".
    assert fired_hours(rule, counts, start=start, first_mention_known=True)
    # Three days in, a burst of the stated size is found against its short history.
    burst = start + 3 * 24 + 15
    counts[burst] = round(mean[burst] * 3)
    assert burst in fired_hours(rule, counts, start=start)


def test_no_judgement_before_a_whole_known_day():
    hour = timedelta(hours=1)
    assert usual_volume([50] * 23, hour) is None  # warm-up
    flat = usual_volume([50] * 24, hour)
    assert flat is not None and flat.basis == "flat" and flat.expected == 50
    seasonal = usual_volume(list(range(24)) * 3, hour)  # 3 days: the same hour on each of them
    assert seasonal is not None and seasonal.basis == "time of day" and seasonal.expected == 0  # hour 00 is 0
    assert usual_volume([5, 6, 4], timedelta(days=1)).basis == "flat"  # daily windows: 3 known days suffice
    assert usual_volume([5, 6], timedelta(days=1)) is None


def test_weekly_seasonality_compares_the_same_weekday_hour():
    hour = timedelta(hours=1)
    week = [10] * (24 * 5) + [100] * (24 * 2)  # quiet weekdays, loud weekends
    usual = usual_volume(week * 3, hour, "weekly")  # the next window is a Monday 00:00
    assert usual is not None and usual.basis == "time of week" and usual.expected == 10
    daily = usual_volume(week * 3, hour, "daily")  # the same hour on the last 21 days: median of 15 x 10, 6 x 100
    assert daily is not None and daily.basis == "time of day" and daily.expected == 10


def test_sub_daily_baseline_shorter_than_a_day_is_a_config_error():
    with pytest.raises(ValueError, match="less than a day"):
        AlertsSettings.model_validate(
            {"rules": [{"name": "v", "type": "volume_spike", "window": "1h", "baseline_windows": 12}]}
        )
    AlertsSettings.model_validate(
        {
            "rules": [  # fine without the daily comparison
                {"name": "v", "type": "volume_spike", "window": "1h", "baseline_windows": 12, "seasonality": "none"}
            ]
        }
    )


def test_alert_text_says_it_in_words(rule):
    windows = [WindowCount(T0 + timedelta(hours=i), 400 if i % 24 == 15 else 100, 0) for i in range(14 * 24 + 15)]
    current = WindowCount(T0 + timedelta(days=14, hours=15), 1240, 0)  # Monday 16 Nov 15:00-16:00
    numbers, reason = judge_volume(rule, [*windows[-336:], current])
    assert reason == (
        "1,240 mentions in the last hour (15:00–16:00 UTC), about 3.1x the usual 400 at this time of "
        "day; chance of this by normal variation: less than 1 in a million"
    )
    assert numbers["mentions"] == 1240 and numbers["baseline_mean"] == 400 and numbers["ratio"] == 3.1
    assert numbers["compared_with"] == "time of day"


def test_negative_share_wandering_is_not_a_spike_a_real_rise_is():
    rule = AlertsSettings.model_validate(
        {
            "rules": [
                {
                    "name": "negative-spike",
                    "type": "negative_share_spike",
                    "window": "1h",
                    "baseline_windows": 48,
                    "min_count": 20,
                }
            ]
        }
    ).rules[0]
    rng = np.random.default_rng(2)
    hours, rho, share = 8 * 24, 0.02, 0.12  # the hourly negative share wanders around 12% (beta-binomial)
    totals = rng.poisson(daily_cycle(hours, 60, 400))
    negatives = rng.binomial(totals, rng.beta(share * (1 / rho - 1), (1 - share) * (1 / rho - 1), size=hours))
    planted = [2 * 24 + 4, 4 * 24 + 7, 6 * 24 + 14]  # more than 48 hours apart: each baseline is clean
    for hour in planted:  # 40% negative instead of 12% (the share wanders by about 5 points an hour)
        negatives[hour] = round(totals[hour] * 0.4)

    def fired(neg: np.ndarray) -> list[int]:
        windows = [
            WindowCount(T0 + timedelta(hours=i), int(t), int(n))
            for i, (t, n) in enumerate(zip(totals, neg, strict=True))
        ]
        return [end for end in range(48, hours) if judge_negative_share(rule, windows[end - 48 : end + 1])]

    assert fired(negatives) == planted
    # Fisher's exact test, which takes every window as drawn alike, fires on the ordinary wandering too.
    fisher = [
        end
        for end in range(48, hours)
        if end not in planted
        and share_increase(
            int(negatives[end]),
            int(totals[end]),
            int(negatives[end - 48 : end].sum()),
            int(totals[end - 48 : end].sum()),
        ).p_value
        < rule.alpha
    ]
    assert len(fisher) >= 3
