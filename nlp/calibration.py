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
    """Probabilities of ``softmax(log_probs / temperature)``.

    Plain numpy: classification calls it in every batch (per-language factors), where importing scipy would
    cost the first batch about 0.2 s.
    """
    scaled = log_probs / temperature
    scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def top_label_ece(probs: np.ndarray, gold: np.ndarray) -> float:
    """ECE of the top label's probability for [rows, classes] ``probs`` against class indices ``gold``."""
    return expected_calibration_error(probs.max(1).tolist(), (probs.argmax(1) == gold).tolist())


MIN_LANGUAGE_ROWS = 150  # fewer validation rows than this give too noisy a per-language fit
MIN_ECE_GAIN = 0.005  # a language keeps its own factor only when it lowers that language's held-out ECE this much
# A factor beyond this says the validation labels and the model disagree about nearly everything (xlmt's Hindi
# is at chance), not that the model is a little over- or under-confident: it would flatten every real post.
MAX_LANGUAGE_FACTOR = 3.0


def _bounded_factor(log_probs: np.ndarray, gold: np.ndarray) -> float:
    return float(np.clip(fit_temperature(log_probs, gold), 1.0 / MAX_LANGUAGE_FACTOR, MAX_LANGUAGE_FACTOR))


def language_temperatures(
    log_probs: np.ndarray,
    gold: np.ndarray,
    langs: list[str],
    halves: np.ndarray,
    sources: list[str] | None = None,
    min_rows: int = MIN_LANGUAGE_ROWS,
) -> tuple[dict[str, float], dict[str, dict]]:
    """Per-language temperature factors on top of an already applied global temperature, and their evidence.

    For each language with ``min_rows`` rows a factor is fitted on one half of its rows (``halves``) and its
    ECE measured on the other, and the other way round. The factor (fitted on all its rows) is kept only
    when that cross-fitted ECE beats the global temperature's by ``MIN_ECE_GAIN``, and, where the language's
    rows come from several ``sources`` (validation files), makes none of them (with ``min_rows`` rows) worse
    by as much: a factor that suits one genre of a language and not another is no calibration of the language,
    and a language whose posts are already calibrated keeps factor 1 rather than a fit to noise. Factors are
    bounded by ``MAX_LANGUAGE_FACTOR``.
    Returns ``({lang: factor}, {lang: {"global": ece, "own": ece, "factor": f, "by_source": {...}}})``.
    """
    lang_array = np.asarray(langs)
    source_array = np.asarray(sources if sources is not None else [""] * len(langs))
    factors: dict[str, float] = {}
    evidence: dict[str, dict] = {}
    for lang in sorted(set(langs)):
        rows = lang_array == lang
        if rows.sum() < min_rows:
            continue
        own = np.zeros_like(log_probs[rows])
        part = halves[rows]
        lp, y = log_probs[rows], gold[rows]
        for half in (part, ~part):
            own[half] = tempered(lp[half], _bounded_factor(lp[~half], y[~half]))
        factor = _bounded_factor(lp, y)
        plain = tempered(lp, 1.0)
        global_ece, own_ece = top_label_ece(plain, y), top_label_ece(own, y)
        by_source = {}
        for source in sorted(set(source_array[rows])):
            members = source_array[rows] == source
            if members.sum() >= min_rows:
                by_source[source] = {
                    "global": round(top_label_ece(plain[members], y[members]), 4),
                    "own": round(top_label_ece(own[members], y[members]), 4),
                }
        evidence[lang] = {"global": round(global_ece, 4), "own": round(own_ece, 4), "factor": round(factor, 4)}
        if len(by_source) > 1:
            evidence[lang]["by_source"] = by_source
        harms = any(item["own"] > item["global"] + MIN_ECE_GAIN for item in by_source.values())
        if own_ece <= global_ece - MIN_ECE_GAIN and not harms:
            factors[lang] = round(factor, 4)
    return factors, evidence


def apply_language_temperatures(probs: np.ndarray, langs: list[str], factors: dict[str, float]) -> np.ndarray:
    """``probs`` [rows, classes] with each row of a language in ``factors`` re-tempered by that factor.

    Argmax (the label) is unchanged; only how sure the model says it is changes.
    """
    if not factors:
        return probs
    out = probs.copy()
    lang_array = np.asarray(langs)
    for lang, factor in factors.items():
        rows = lang_array == lang
        if rows.any():
            out[rows] = tempered(np.log(np.clip(probs[rows], 1e-12, 1.0)), factor)
    return out
