"""The bundled model held to the multilingual complaint check set written for the project (fixtures/)."""

from __future__ import annotations

from collections import Counter

from earful_nlp.datasets import read_labeled_csv
from earful_nlp.evaluation import evaluate
from earful_nlp.labels import COMPLAINT_LABELS
from tests.nlp.conftest import FIXTURES

CHECK_SET = FIXTURES / "complaint_check.csv"
LANGUAGES = ("en", "de", "it", "sv", "fa", "es", "fr", "ar")
# Floors under what the bundled model measures (model card: language average 0.8675, de 0.72 and sv 0.77 the
# lowest), so that a retrained model that loses complaints in a language fails here. Issue 13's aim is 0.85 in
# every language; de and sv are not there yet.
FLOOR = 0.70  # macro-F1 in each language
AVERAGE_FLOOR = 0.85  # macro-F1 averaged over the languages


def test_check_set_has_forty_posts_per_language_half_complaints() -> None:
    data = read_labeled_csv(CHECK_SET, COMPLAINT_LABELS)
    counts = Counter(zip(data.langs, data.labels, strict=True))
    for lang in LANGUAGES:
        assert counts[lang, "complaint"] >= 20 and counts[lang, "not_complaint"] >= 20, lang


def test_default_model_finds_complaints_in_every_language(classifier) -> None:
    data = read_labeled_csv(CHECK_SET, COMPLAINT_LABELS)
    results = classifier.classify(data.texts, data.langs)
    predicted = ["complaint" if result and result["complaint"] else "not_complaint" for result in results]
    report = evaluate(data.labels, predicted, data.langs, COMPLAINT_LABELS)
    scores = {lang: part["macro_f1"] for lang, part in report["per_language"].items()}
    low = {lang: score for lang, score in scores.items() if score < FLOOR}
    assert not low, f"complaint macro-F1 under {FLOOR} in {low} (all: {scores})"
    assert report["macro_f1_language_average"] >= AVERAGE_FLOOR, scores
