"""Errors of the complaint register; each message says what was refused and by which rule."""

from __future__ import annotations

from earful_common.errors import NotFound, ReportedError


class ComplaintError(ReportedError):
    """Base class: reported to the user as one line, exit code 1."""


class RecordNotFound(ComplaintError, NotFound):
    """No complaint record has this reference."""


class TransitionRefused(ComplaintError):
    """An action is not allowed: illegal transition, missing required field or a guard."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"refused by rule '{rule}': {message}")
        self.rule = rule


class StaleRecord(ComplaintError):
    """Someone else changed the record after it was read (optimistic locking)."""


class NotAuthorized(ComplaintError):
    """The acting user may not do this."""
