"""Tests that respect counting noise, for spike rules.

Mention counts per window are Poisson counts: at a baseline of 4 per window the standard deviation is 2, and
chance alone gives 9 or 10 now and then. A "3 sigma" rule on the normal approximation fires far too often at low
volume; these exact tests do not.

- Volume: the exact conditional test of two Poisson rates. Given n = current + baseline total, the current
  count is Binomial(n, 1/(k+1)) under "no change" (k baseline windows of equal length). This also accounts for
  the baseline being a noisy estimate itself.
- Negative share: one-sided Fisher exact test on the 2x2 table (negative / other) x (current / baseline).

Both assume every window is drawn alike; real traffic is overdispersed, so the spike rules use the
negative-binomial and beta-binomial tests below and keep these two as the baselines `bench/spikes.py` compares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy.stats import betabinom, binom, fisher_exact, nbinom

if TYPE_CHECKING:
    from collections.abc import Sequence

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


# --- Overdispersed tests (what the spike rules use) -----------------------------------------------------------
# Real mention counts are not Poisson: hourly variance/mean runs from about 4 to over 500 on real Twitter volume,
# so a Poisson or binomial test rejects on every busy afternoon. These tests take the extra variance as measured
# on the baseline windows the rule already has.


def nb_dispersion(rows: Sequence[Sequence[float]]) -> float:
    """Negative-binomial dispersion `a` (variance = mean + a * mean^2) by the method of moments.

    `rows` are periods (days, or one row for a flat baseline), columns the phases within a period (hours): each
    column has its own mean (the daily cycle is not noise), the spread around it is. 0 means Poisson or tighter.
    """
    periods = len(rows)
    if periods < 2:
        return 0.0
    columns = list(zip(*rows, strict=True))
    excess, scale = 0.0, 0.0
    for column in columns:
        mean = sum(column) / periods
        squares = sum((x - mean) ** 2 for x in column) / (periods - 1)
        excess += squares - mean
        scale += mean * mean
    return max(0.0, excess / scale) if scale > 0 else 0.0


def overdispersed_increase(current: int, expected: float, dispersion: float, references: float) -> TestResult:
    """P(current or more | no change), negative binomial with mean `expected` and dispersion `dispersion`.

    `references`: how many baseline windows `expected` was estimated from; their noise widens the test (the
    variance of the estimate, variance / references, is added), so a short baseline is more cautious.
    """
    if references <= 0:
        raise ValueError("need at least one reference window")
    mean = max(expected, 0.5)  # a topic that was silent so far: half a mention per window, not zero
    variance = (mean + dispersion * mean * mean) * (1 + 1 / references)
    if current <= 0:
        return TestResult(1.0, expected)
    size = mean * mean / (variance - mean)  # variance > mean always holds here (the estimate's own noise)
    return TestResult(float(nbinom.sf(current - 1, size, size / (size + mean))), expected)


def share_dispersion(negatives: list[int], totals: list[int]) -> float:
    """Beta-binomial intra-window correlation `rho` of the negative share over baseline windows (moments, counting
    only what exceeds chance; 0 = binomial). Windows with no mentions carry no information and are skipped."""
    pairs = [(k, n) for k, n in zip(negatives, totals, strict=True) if n > 0]
    if len(pairs) < 3:
        return 0.0
    total = sum(n for _, n in pairs)
    share = sum(k for k, _ in pairs) / total
    if share <= 0 or share >= 1:
        return 0.0
    # Observed spread of the window shares against the binomial spread; rho solves E[chi2] = sum(1 + rho(n-1)).
    # Only spread beyond two standard errors of chi2 counts: on windows of a few mentions each, chance alone
    # makes rho look like 0.05-0.1, and applied to a busy current window that would hide any rise.
    chi2 = sum((k - n * share) ** 2 / (n * share * (1 - share)) for k, n in pairs)
    excess = chi2 - (len(pairs) - 1) - 2 * math.sqrt(2 * (len(pairs) - 1))
    spread = sum(n - 1 for _, n in pairs) * (1 - 1 / len(pairs))
    return min(max(excess / spread, 0.0), 0.99) if spread > 0 else 0.0


def overdispersed_share_increase(
    negative: int, total: int, baseline_negative: int, baseline_total: int, rho: float
) -> TestResult:
    """P(this many negative mentions or more | the share did not change), beta-binomial.

    The share's window-to-window spread (`rho`, from `share_dispersion`) and the uncertainty of the baseline
    share itself (from `baseline_total` mentions) both widen the test.
    """
    expected = baseline_negative / baseline_total if baseline_total else 0.0
    if total == 0 or negative == 0:
        return TestResult(1.0, expected)
    # A pseudo-count keeps a share of exactly 0 or 1 in the baseline from making any change "impossible".
    share = (baseline_negative + 0.5) / (baseline_total + 1.0)
    # Total variance of the count: beta-binomial spread plus n^2 * var(share estimate); as a beta-binomial rho.
    estimate_var = share * (1 - share) / (baseline_total + 1.0)
    binomial_var = total * share * (1 - share)
    variance = binomial_var * (1 + rho * (total - 1)) + total * total * estimate_var
    if total == 1:
        return TestResult(float(binom.sf(negative - 1, total, share)), expected)
    rho_total = min(max((variance / binomial_var - 1) / (total - 1), 1e-9), 0.99)
    concentration = 1 / rho_total - 1  # alpha + beta of the beta distribution
    return TestResult(
        float(betabinom.sf(negative - 1, total, share * concentration, (1 - share) * concentration)), expected
    )
