"""What a rule decides: an alert draft, before it is written to the outbox."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def alert_id_for(dedup_key: str) -> str:
    """A short, deterministic alert id: the same incident always gets the same id, on any machine."""
    return "al-" + hashlib.sha256(dedup_key.encode()).hexdigest()[:16]


@dataclass
class AlertDraft:
    """An alert as decided by a rule or by `raise_alert`: why it fired is in `details` (numbers, examples)."""

    kind: str  # complaint | high_reach_negative | crisis_query | volume_spike | negative_share_spike | ...
    rule: str
    dedup_key: str
    severity: str
    title: str
    summary: str
    topic: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return alert_id_for(self.dedup_key)
