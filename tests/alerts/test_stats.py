"""Known answers of the counting-noise tests."""

from __future__ import annotations

import numpy as np
import pytest

from earful_alerts.stats import THREE_SIGMA_ALPHA, share_increase, volume_increase


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


# --- the overdispersed tests the spike rules use ---------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from scipy.stats import nbinom  # noqa: E402

from earful_alerts.baseline import usual_volume  # noqa: E402
from earful_alerts.stats import (  # noqa: E402
    nb_dispersion,
    overdispersed_increase,
    overdispersed_share_increase,
    share_dispersion,
)


def test_dispersion_is_measured_around_each_hour_not_across_the_daily_cycle():
    rng = np.random.default_rng(1)
    cycle = np.array([20.0] * 12 + [200.0] * 12)
    poisson_days = rng.poisson(cycle, size=(30, 24)).tolist()
    assert nb_dispersion(poisson_days) < 0.01  # a strong cycle with Poisson noise is not overdispersed
    a = 0.2
    nb_days = rng.negative_binomial(1 / a, (1 / a) / (1 / a + cycle), size=(60, 24)).tolist()
    assert nb_dispersion(nb_days) == pytest.approx(a, rel=0.25)
    assert nb_dispersion([[5, 7, 9]]) == 0.0  # one day: nothing to measure


def test_overdispersed_test_is_the_negative_binomial_tail_widened_by_the_baseline_noise():
    wide = overdispersed_increase(300, 200, 0.0, 1_000_000)  # long baseline, no dispersion: ~Poisson(200)
    assert wide.p_value == pytest.approx(float(nbinom.sf(299, 1e9, 1e9 / (1e9 + 200))), rel=0.05)
    # The same count on overdispersed traffic (variance/mean 41 at 200 an hour) is ordinary.
    assert overdispersed_increase(300, 200, 0.2, 14).p_value > 0.05
    assert overdispersed_increase(1200, 200, 0.2, 14).p_value < 0.001
    assert overdispersed_increase(15, 4, 0.0, 3).p_value > overdispersed_increase(15, 4, 0.0, 48).p_value
    assert overdispersed_increase(0, 4, 0.1, 10).p_value == 1.0


@pytest.mark.parametrize(("rate", "a"), [(4.0, 0.0), (50.0, 0.1), (800.0, 0.3)])
def test_overdispersed_false_alarm_rate_under_no_change_is_at_most_alpha(rate, a):
    rng = np.random.default_rng(11)
    trials, alpha, windows = 3000, 0.001, 48
    size = 1e9 if a == 0 else 1 / a
    draws = rng.negative_binomial(size, size / (size + rate), size=(trials, windows + 1))
    fired = 0
    for row in draws:
        usual = usual_volume(row[:-1].tolist(), timedelta(hours=1), "none")  # what the rule compares with
        test = overdispersed_increase(int(row[-1]), usual.expected, usual.dispersion, usual.references)
        fired += test.p_value < alpha
    assert fired / trials <= 2 * alpha


def test_share_dispersion_and_beta_binomial_share_test():
    rng = np.random.default_rng(5)
    totals = rng.integers(80, 120, size=200)
    assert share_dispersion(rng.binomial(totals, 0.1).tolist(), totals.tolist()) < 0.005
    rho = 0.05  # the negative share wanders from window to window
    shares = rng.beta(0.1 * (1 / rho - 1), 0.9 * (1 / rho - 1), size=200)
    wandering = rng.binomial(totals, shares).tolist()
    assert share_dispersion(wandering, totals.tolist()) == pytest.approx(rho, rel=0.4)
    # 25% negative of 100 against a usual 10%: a real rise on steady traffic, ordinary when the share wanders.
    assert overdispersed_share_increase(25, 100, 240, 2400, 0.0).p_value < 0.001
    assert overdispersed_share_increase(25, 100, 240, 2400, rho).p_value > 0.001
    assert overdispersed_share_increase(60, 100, 240, 2400, rho).p_value < 1e-4
    assert overdispersed_share_increase(0, 100, 240, 2400, 0.0).p_value == 1.0
    assert overdispersed_share_increase(5, 5, 0, 0, 0.0).p_value > 0.1  # no baseline: no evidence of a rise


def test_few_mentions_per_window_do_not_look_like_a_wandering_share():
    for seed in range(10):  # a quiet topic, 4 mentions an hour, 14% negative, binomial: then a burst of 87
        rng = np.random.default_rng(seed)
        totals = rng.poisson(4, size=48)
        negatives = rng.binomial(totals, 0.14)
        rho = share_dispersion(negatives.tolist(), totals.tolist())
        assert rho < 0.02, seed
        assert overdispersed_share_increase(48, 87, int(negatives.sum()), int(totals.sum()), rho).p_value < 0.001
