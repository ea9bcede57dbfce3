"""The label sets of earful's tasks and the mapping of another model's labels onto them."""

from __future__ import annotations

import re
from typing import Final

from earful_nlp.errors import ModelLoadError

SENTIMENT: Final = "sentiment"
COMPLAINT: Final = "complaint"
SENTIMENT_LABELS = ("negative", "neutral", "positive")
COMPLAINT_LABELS = ("not_complaint", "complaint")
TASK_LABELS: dict[str, tuple[str, ...]] = {SENTIMENT: SENTIMENT_LABELS, COMPLAINT: COMPLAINT_LABELS}
# Labels a mapped model must be able to predict (a sentiment model without "neutral" is usable).
REQUIRED_LABELS: dict[str, tuple[str, ...]] = {SENTIMENT: ("negative", "positive"), COMPLAINT: ("complaint",)}
_ALIASES: dict[str, dict[str, str]] = {
    SENTIMENT: {"neg": "negative", "neu": "neutral", "pos": "positive"},
    COMPLAINT: {"no_complaint": "not_complaint", "non_complaint": "not_complaint", "not_a_complaint": "not_complaint"},
}


def normalize_label(name: str) -> str:
    """Lower-case a label name and join its words with underscores ("Not Complaint" -> "not_complaint")."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def map_model_labels(task: str, id2label: dict[int, str], label_map: dict[str, str] | None = None) -> dict[int, str]:
    """Map a model's class ids onto ``task``'s labels, or raise ``ModelLoadError`` saying what is missing.

    ``label_map`` (from configuration) maps the model's label names to ours and wins over the built-in
    matching by name; several model labels may map to the same label of ours (their probabilities add up).
    """
    ours = TASK_LABELS[task]
    explicit = {normalize_label(k): normalize_label(v) for k, v in (label_map or {}).items()}
    bad_targets = sorted({v for v in explicit.values() if v not in ours})
    if bad_targets:
        raise ModelLoadError(f"nlp.label_map.{task} maps to unknown labels {bad_targets}; use {', '.join(ours)}")
    mapping: dict[int, str] = {}
    unmapped: list[str] = []
    for class_id, name in sorted(id2label.items()):
        key = normalize_label(name)
        target = explicit.get(key) or (key if key in ours else _ALIASES[task].get(key))
        if target is None:
            unmapped.append(str(name))
        else:
            mapping[int(class_id)] = target
    if unmapped:
        raise ModelLoadError(
            f"the {task} model's labels {unmapped} cannot be mapped onto {', '.join(ours)}; "
            f"add them to nlp.label_map.{task} in the configuration (e.g. {{{unmapped[0]!r}: {ours[0]!r}}})"
        )
    uncovered = [label for label in REQUIRED_LABELS[task] if label not in mapping.values()]
    if uncovered:
        raise ModelLoadError(f"the {task} model has no label mapped to {uncovered}; check nlp.label_map.{task}")
    return mapping
