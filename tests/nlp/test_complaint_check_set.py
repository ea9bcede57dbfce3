"""The bundled model held to the multilingual complaint check set written for the project (fixtures/)."""

from __future__ import annotations

import csv
from collections import defaultdict

from tests.nlp.conftest import FIXTURES

CHECK_SET = FIXTURES / "complaint_check.csv"
LANGUAGES = ("en", "de", "it", "sv", "fa", "es", "fr", "ar")
# Floors under what the bundled model measures (model card: language average 0.8675, de 0.72 and sv 0.77 the
# lowest), so that a retrained model that loses complaints in a language fails here. Issue 13's aim is 0.85 in
# every language; de and sv are not there yet.
FLOOR = 0.70  # macro-F1 in each language
AVERAGE_FLOOR = 0.85  # macro-F1 averaged over the languages


def _rows() -> list[dict[str, str]]:
    with open(CHECK_SET, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_check_set_has_forty_posts_per_language_half_complaints() -> None:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in _rows():
        counts[row["lang"], row["label"]] += 1
    for lang in LANGUAGES:
        assert counts[lang, "complaint"] >= 20 and counts[lang, "not_complaint"] >= 20, lang


def test_default_model_finds_complaints_in_every_language(classifier) -> None:
    from sklearn.metrics import f1_score

    rows = _rows()
    results = classifier.classify([r["text"] for r in rows], [r["lang"] for r in rows])
    by_lang: dict[str, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for row, result in zip(rows, results, strict=True):
        gold, predicted = by_lang[row["lang"]]
        gold.append(row["label"])
        predicted.append("complaint" if result and result["complaint"] else "not_complaint")
    scores = {lang: f1_score(g, p, average="macro") for lang, (g, p) in by_lang.items()}
    low = {lang: round(score, 3) for lang, score in scores.items() if score < FLOOR}
    assert not low, f"complaint macro-F1 under {FLOOR} in {low} (all: {scores})"
    assert sum(scores.values()) / len(scores) >= AVERAGE_FLOOR, scores
