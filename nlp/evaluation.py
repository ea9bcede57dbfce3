"""Classification metrics per language and overall: macro-F1, accuracy, calibration, confusion matrix, rows."""

from __future__ import annotations

from collections import defaultdict

from earful_nlp.calibration import expected_calibration_error


def scores(gold: list[str], predicted: list[str], labels: tuple[str, ...]) -> dict:
    """Macro-F1, accuracy, per-class F1 and the confusion matrix (rows gold, columns predicted)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    return {
        "rows": len(gold),
        "macro_f1": round(float(f1_score(gold, predicted, labels=list(labels), average="macro", zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(gold, predicted)), 4),
        "f1_per_label": {
            label: round(float(value), 4)
            for label, value in zip(
                labels, f1_score(gold, predicted, labels=list(labels), average=None, zero_division=0), strict=True
            )
        },
        "confusion_matrix": {
            "labels": list(labels),
            "matrix": confusion_matrix(gold, predicted, labels=list(labels)).tolist(),
        },
    }


def evaluate(
    gold: list[str],
    predicted: list[str],
    langs: list[str],
    labels: tuple[str, ...],
    confidences: list[float] | None = None,
) -> dict:
    """Overall scores plus ``per_language`` scores and the average of the per-language macro-F1.

    With ``confidences`` (the probability the model gave its predicted label, per row), each part also carries
    its expected calibration error (``ece``).
    """
    by_lang: dict[str, list[int]] = defaultdict(list)
    for index, lang in enumerate(langs):
        by_lang[lang].append(index)
    per_language = {
        lang: scores([gold[i] for i in idx], [predicted[i] for i in idx], labels)
        for lang, idx in sorted(by_lang.items())
    }
    report = scores(gold, predicted, labels)
    if confidences is not None:
        correct = [g == p for g, p in zip(gold, predicted, strict=True)]
        report["ece"] = round(expected_calibration_error(confidences, correct), 4)
        for lang, idx in by_lang.items():
            ece = expected_calibration_error([confidences[i] for i in idx], [correct[i] for i in idx])
            per_language[lang]["ece"] = round(ece, 4)
    report["macro_f1_language_average"] = round(
        sum(v["macro_f1"] for v in per_language.values()) / len(per_language), 4
    )
    report["per_language"] = per_language
    return report


def render_text(report: dict, title: str) -> str:
    """A plain-text report for the terminal: the language-averaged macro-F1 first (the figure published tweet
    benchmarks report), then the per-language table, then the confusion matrix."""
    languages = len(report["per_language"])
    lines = [
        f"language-averaged macro-F1: {report['macro_f1_language_average']:.4f} ({languages} languages)",
        title,
    ]
    with_ece = "ece" in report
    header = f"{'lang':<8}{'rows':>7}{'macro-F1':>10}{'accuracy':>10}" + (f"{'ECE':>8}" if with_ece else "")
    lines.append(header)

    def row(name: str, item: dict) -> str:
        text = f"{name:<8}{item['rows']:>7}{item['macro_f1']:>10.4f}{item['accuracy']:>10.4f}"
        return text + (f"{item['ece']:>8.4f}" if with_ece else "")

    for lang, item in report["per_language"].items():
        lines.append(row(lang, item))
    lines.append(row("overall", report))
    labels = report["confusion_matrix"]["labels"]
    width = max(len(label) for label in labels) + 2
    lines.append("confusion matrix (rows gold, columns predicted):")
    lines.append(" " * width + "".join(f"{label:>{width}}" for label in labels))
    for label, matrix_row in zip(labels, report["confusion_matrix"]["matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{value:>{width}}" for value in matrix_row))
    return "\n".join(lines)
