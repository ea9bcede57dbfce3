"""Known answers of the counting-noise tests."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.stats import THREE_SIGMA_ALPHA, share_increase, volume_increase


def test_low_volume_needs_more_than_a_naive_three_sigma_rule():
    # baseline 4 per window over 24 windows: the normal approximation says 4 + 3*2 = 10 is "3 sigma"
    for current in (9, 10, 11):
        assert volume_increase(current, 4 * 24, 24).p_value > THREE_SIGMA_ALPHA
    assert volume_increase(16, 4 * 24, 24).p_value < THREE_SIGMA_ALPHA


def test_large_volume_small_relative_change_is_not_a_spike():
    assert volume_increase(230, 200 * 24, 24).p_value > 0.001
    assert volume_increase(300, 200 * 24, 24).p_value < 1e-6


def test_short_baseline_is_more_cautious_than_a_long_one():
    assert volume_increase(15, 4 * 3, 3).p_value > volume_increase(15, 4 * 48, 48).p_value


def test_zero_counts():
    assert volume_increase(0, 0, 24).p_value == 1.0
    assert share_increase(0, 0, 5, 50).p_value == 1.0


def test_negative_share_known_answers():
    assert share_increase(40, 100, 240, 2400).p_value < 1e-8  # 40% vs 10%
    assert share_increase(5, 12, 240, 2400).p_value > 0.001  # 42% of 12: could be chance
    assert share_increase(12, 100, 240, 2400).p_value > 0.1  # 12% vs 10%


@pytest.mark.parametrize("rate", [0.5, 4.0, 50.0])
def test_false_alarm_rate_under_no_change_is_at_most_alpha(rate):
    rng = np.random.default_rng(7)
    trials, alpha, windows = 4000, 0.001, 24
    series = rng.poisson(rate, size=(trials, windows + 1))
    fired = sum(volume_increase(int(s[-1]), int(s[:-1].sum()), windows).p_value < alpha for s in series)
    assert fired / trials <= 2 * alpha
