"""CSV that is safe to open in a spreadsheet: cells that would run as a formula are defused with a leading quote."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value`, with a leading ' when a spreadsheet would take the text for a formula (=HYPERLINK(...), +, -, @)."""
    return f"'{value}" if isinstance(value, str) and value[:1] in _FORMULA_STARTS else value


class SafeCsvWriter:
    """Wraps a csv.writer or csv.DictWriter so that every row written goes through safe_cell."""

    def __init__(self, writer: Any) -> None:  # noqa: ANN401 - a csv.writer or a csv.DictWriter (no common type)
        self._writer = writer

    def writeheader(self) -> None:
        self._writer.writeheader()

    def writerow(self, row: Sequence[object] | Mapping[str, object]) -> None:
        if isinstance(row, dict):
            self._writer.writerow({k: safe_cell(v) for k, v in row.items()})
        else:
            self._writer.writerow([safe_cell(v) for v in row])
