"""Calibration of predicted probabilities: expected calibration error (ECE) of the top label's probability.

An alert threshold such as "complaint probability 0.8" only means the same in every language when, among posts
given 0.8, about 80 % are right in each language; ECE measures the gap (0 is perfectly calibrated).
"""

from __future__ import annotations

import numpy as np

DEFAULT_BINS = 15  # the usual choice for ECE on classifier outputs (Guo et al. 2017)


def expected_calibration_error(confidences: list[float], correct: list[bool], bins: int = DEFAULT_BINS) -> float:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins (0 for no rows)."""
    if not confidences:
        return 0.0
    conf = np.clip(np.asarray(confidences, dtype=float), 0.0, 1.0)
    hits = np.asarray(correct, dtype=float)
    # Bin i holds confidences in (i/bins, (i+1)/bins]; a confidence of exactly 0 goes to the first bin.
    index = np.clip(np.ceil(conf * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() * abs(hits[members].mean() - conf[members].mean())
    return float(total / len(conf))


def fit_temperature(log_probs: np.ndarray, gold: np.ndarray) -> float:
    """The temperature T that minimises the negative log-likelihood of ``softmax(log_probs / T)`` (Guo et al.).

    ``log_probs`` are [rows, classes] logits or log-probabilities (the same thing up to a per-row constant);
    ``gold`` the class index per row. Dividing by T > 1 softens over-confident outputs; argmax is unchanged.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    rows = np.arange(len(gold))

    def nll(log_t: float) -> float:
        return float(-log_softmax(log_probs / np.exp(log_t), axis=1)[rows, gold].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def tempered(log_probs: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities of ``softmax(log_probs / temperature)``."""
    from scipy.special import softmax

    return softmax(log_probs / temperature, axis=1)


def top_label_ece(probs: np.ndarray, gold: np.ndarray) -> float:
    """ECE of the top label's probability for [rows, classes] ``probs`` against class indices ``gold``."""
    return expected_calibration_error(probs.max(1).tolist(), (probs.argmax(1) == gold).tolist())
