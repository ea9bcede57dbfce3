"""Labeled CSV files for training and evaluation: columns ``text,label`` and optionally ``lang``."""

from __future__ import annotations

import csv
import dataclasses
import pathlib

from earful_nlp.errors import TrainingDataError

UNKNOWN_LANGUAGE = "und"


@dataclasses.dataclass(frozen=True)
class LabeledData:
    """Texts with their gold labels and language codes, in file order."""

    texts: list[str]
    labels: list[str]
    langs: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: list[int]) -> LabeledData:
        """The rows at ``indices``, in that order."""
        return LabeledData(
            [self.texts[i] for i in indices], [self.labels[i] for i in indices], [self.langs[i] for i in indices]
        )

    @classmethod
    def concat(cls, parts: list[LabeledData]) -> LabeledData:
        """All rows of ``parts``, one after the other."""
        return cls(
            [t for p in parts for t in p.texts],
            [x for p in parts for x in p.labels],
            [x for p in parts for x in p.langs],
        )


def read_labeled_csv(path: pathlib.Path, allowed_labels: tuple[str, ...] | None = None) -> LabeledData:
    """Read ``path``; rows with an empty text are skipped, unknown labels are an error naming the file."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise TrainingDataError(f"{path}: no such file")
    texts, labels, langs = [], [], []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or ())
        if not {"text", "label"} <= columns:
            raise TrainingDataError(
                f"{path}: needs a header with at least the columns text,label (found {sorted(columns)})"
            )
        for line, row in enumerate(reader, start=2):
            text = (row.get("text") or "").strip()
            label = (row.get("label") or "").strip()
            if not text:
                continue
            if allowed_labels is not None and label not in allowed_labels:
                raise TrainingDataError(f"{path}:{line}: label {label!r} is not one of {', '.join(allowed_labels)}")
            texts.append(text)
            labels.append(label)
            langs.append((row.get("lang") or "").strip() or UNKNOWN_LANGUAGE)
    if not texts:
        raise TrainingDataError(f"{path}: no labeled rows")
    return LabeledData(texts, labels, langs)


def read_labeled_csvs(paths: list[pathlib.Path], allowed_labels: tuple[str, ...] | None = None) -> LabeledData:
    """Read and concatenate several labeled CSV files."""
    return LabeledData.concat([read_labeled_csv(p, allowed_labels) for p in paths])


def write_labeled_csv(data: LabeledData, path: pathlib.Path) -> None:
    """Write ``data`` as a ``text,label,lang`` CSV."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "lang"])
        writer.writerows(zip(data.texts, data.labels, data.langs, strict=True))


def split_labeled(data: LabeledData, test_fraction: float, seed: int) -> tuple[LabeledData, LabeledData]:
    """Stratified (by label) split into (train, held-out), reproducible for a given seed."""
    from sklearn.model_selection import train_test_split

    indices = list(range(len(data)))
    try:
        train_idx, test_idx = train_test_split(
            indices, test_size=test_fraction, random_state=seed, stratify=data.labels, shuffle=True
        )
    except ValueError as exc:  # too few rows, or a label with one row: sklearn says which
        raise TrainingDataError(
            f"cannot hold out {test_fraction:g} of {len(data)} rows stratified by label: {exc}"
        ) from None
    return data.subset(sorted(train_idx)), data.subset(sorted(test_idx))
