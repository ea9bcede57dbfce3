"""Labels corrected by people ("label is wrong" on the dashboard), kept as labelled data `earful train` reads.

One CSV per task in a folder (`<data_dir>/labels/sentiment.csv`, `.../complaint.csv`) with the columns
text,label,lang that read_labeled_csv expects, plus mention_id, corrected_by and corrected_at (ignored by
training). One row per mention and task: a second correction of the same mention replaces the first, so the
file never holds two answers for one text. Writes go through a file lock and an atomic rename.
"""

from __future__ import annotations

import csv
import os
import pathlib
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime

from filelock import FileLock

from earful_nlp.errors import TrainingDataError
from earful_nlp.labels import TASK_LABELS

COLUMNS = ("text", "label", "lang", "mention_id", "corrected_by", "corrected_at")


@dataclass(frozen=True)
class Correction:
    task: str
    mention_id: str
    label: str
    corrected_by: str
    corrected_at: str


def corrections_file(folder: pathlib.Path, task: str) -> pathlib.Path:
    """The labelled-data file of `task` in `folder` (pass it to `earful train --task TASK`)."""
    if task not in TASK_LABELS:
        raise TrainingDataError(f"task must be one of {', '.join(TASK_LABELS)}, not {task!r}")
    return pathlib.Path(folder) / f"{task}.csv"


def _read(path: pathlib.Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def record_correction(
    folder: pathlib.Path, task: str, *, mention_id: str, text: str, lang: str, label: str, by: str
) -> Correction:
    """Store the right `label` of a mention's text for `task` (replacing an earlier correction of it)."""
    path = corrections_file(folder, task)
    if label not in TASK_LABELS[task]:
        raise TrainingDataError(f"label must be one of {', '.join(TASK_LABELS[task])}, not {label!r}")
    if not text.strip():
        raise TrainingDataError(f"mention {mention_id} has no text to learn from")
    path.parent.mkdir(parents=True, exist_ok=True)
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = {
        "text": text,
        "label": label,
        "lang": lang or "und",
        "mention_id": mention_id,
        "corrected_by": by,
        "corrected_at": at,
    }
    with FileLock(str(path) + ".lock", timeout=30):
        rows = [r for r in _read(path) if r.get("mention_id") != mention_id] + [row]
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
            os.replace(tmp, path)
        except BaseException:
            pathlib.Path(tmp).unlink(missing_ok=True)
            raise
    return Correction(task, mention_id, label, by, at)


def corrections_of(folder: pathlib.Path, mention_id: str) -> dict[str, Correction]:
    """The corrections stored for one mention, by task."""
    found = {}
    for task in TASK_LABELS:
        for row in _read(corrections_file(folder, task)):
            if row.get("mention_id") == mention_id:
                found[task] = Correction(
                    task, mention_id, row["label"], row.get("corrected_by", ""), row.get("corrected_at", "")
                )
    return found
