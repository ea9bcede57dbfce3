"""An alert as channels see it (one alert, or a digest of several), built from the outbox row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class AlertMessage:
    """What a channel renders. A digest has `items` (the alerts it collects) and kind "digest"."""

    id: str
    kind: str
    rule: str
    severity: str
    title: str
    summary: str
    created_at: datetime
    topic: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    occurrences: int = 1
    items: list[AlertMessage] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], items: list[AlertMessage] | None = None) -> AlertMessage:
        """From a row of the `alerts` table (a mapping)."""
        return cls(
            id=row["id"],
            kind=row["kind"],
            rule=row["rule"],
            severity=row["severity"],
            title=row["title"],
            summary=row["summary"],
            created_at=row["created_at"],
            topic=row["topic"],
            details=dict(row["details"] or {}),
            occurrences=row["occurrences"],
            items=items or [],
        )

    @property
    def examples(self) -> list[dict[str, Any]]:
        """Example mentions (dicts with url, title, text, ...) carried by the alert."""
        return [e for e in self.details.get("examples", []) if isinstance(e, dict)]

    @property
    def numbers(self) -> dict[str, Any]:
        """The numbers behind the decision (counts, baseline, p-value, ...)."""
        value = self.details.get("numbers", {})
        return value if isinstance(value, dict) else {}
