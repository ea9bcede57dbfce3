"""Expected calibration error: zero when confidence matches accuracy, the gap when it does not."""

from __future__ import annotations

import pytest

from earful_nlp.calibration import expected_calibration_error
from earful_nlp.evaluation import evaluate, render_text


def test_calibrated_predictions_have_no_error() -> None:
    # 80 % confidence, 8 of 10 right: calibrated.
    assert expected_calibration_error([0.8] * 10, [True] * 8 + [False] * 2) == pytest.approx(0.0)


def test_overconfidence_is_the_gap_weighted_by_rows() -> None:
    # 10 rows at 0.95 with 5 right (gap 0.45) and 10 rows at 0.55 with 10 right (gap 0.45): 0.45 overall.
    confidences = [0.95] * 10 + [0.55] * 10
    correct = [True] * 5 + [False] * 5 + [True] * 10
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.45)


def test_no_rows_no_error() -> None:
    assert expected_calibration_error([], []) == 0.0


def test_report_leads_with_the_language_average_and_gives_ece_per_language() -> None:
    gold = ["positive", "negative", "positive", "neutral"]
    predicted = ["positive", "negative", "negative", "neutral"]
    report = evaluate(gold, predicted, ["en", "en", "de", "de"], ("negative", "neutral", "positive"), [0.9] * 4)
    assert set(report["per_language"]["de"]) >= {"ece", "macro_f1"}
    assert report["per_language"]["en"]["ece"] == pytest.approx(0.1)
    first = render_text(report, "sentiment").splitlines()[0]
    assert first.startswith("language-averaged macro-F1:") and "(2 languages)" in first
