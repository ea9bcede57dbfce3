"""Tests that respect counting noise, for spike rules.

Mention counts per window are Poisson counts: at a baseline of 4 per window the standard deviation is 2, and
chance alone gives 9 or 10 now and then. A "3 sigma" rule on the normal approximation fires far too often at low
volume; these exact tests do not.

- Volume: the exact conditional test of two Poisson rates. Given n = current + baseline total, the current
  count is Binomial(n, 1/(k+1)) under "no change" (k baseline windows of equal length). This also accounts for
  the baseline being a noisy estimate itself.
- Negative share: one-sided Fisher exact test on the 2x2 table (negative / other) x (current / baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy.stats import binom, fisher_exact

# One-sided tail probability of 3 standard deviations, for people who think in sigmas.
THREE_SIGMA_ALPHA = 0.00135


@dataclass(frozen=True)
class TestResult:
    p_value: float
    expected: float  # what the baseline predicts for the current window (count or share)


def volume_increase(current: int, baseline_total: int, baseline_windows: int) -> TestResult:
    """P(current or more | the rate did not change), exact; `expected` is the baseline mean per window."""
    if baseline_windows < 1:
        raise ValueError("need at least one baseline window")
    n = current + baseline_total
    expected = baseline_total / baseline_windows
    if current == 0:
        return TestResult(1.0, expected)
    p = float(binom.sf(current - 1, n, 1.0 / (baseline_windows + 1)))
    return TestResult(p, expected)


def share_increase(negative: int, total: int, baseline_negative: int, baseline_total: int) -> TestResult:
    """P(a negative share this high or higher | the share did not change), one-sided Fisher exact."""
    expected = baseline_negative / baseline_total if baseline_total else 0.0
    if total == 0:
        return TestResult(1.0, expected)
    table = [[negative, total - negative], [baseline_negative, baseline_total - baseline_negative]]
    return TestResult(float(fisher_exact(table, alternative="greater").pvalue), expected)
