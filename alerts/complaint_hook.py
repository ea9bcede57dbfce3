"""The seam between alerts and the complaint register: a rule with `open_complaint: true` calls it."""

from __future__ import annotations

from typing import Protocol


class ComplaintOpener(Protocol):
    """Opens (or finds) the complaint record of a mention; implemented by `complaints.intake`."""

    def open_from_alert(self, *, mention: dict, alert_id: str, topic: str, rule: str) -> str:
        """Open a complaint for `mention` (the indexed document plus its `id`); idempotent per mention id.

        Returns the complaint reference.
        """
        ...
