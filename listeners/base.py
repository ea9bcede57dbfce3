"""The listener interface: every source kind fetches since a cursor and returns normalized mentions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from earful_common.errors import ReportedError
from earful_listeners.mention import Mention


class SourceError(ReportedError):
    """A source failed as a whole (unreachable, refused, malformed); other sources still run."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        # Raised in a fetch subprocess and re-raised in the batch: keep both arguments through pickling.
        return (type(self), (self.source, self.message))


@dataclass
class FetchResult:
    """What one fetch returned: mentions, the cursor to commit once they are indexed, and notes."""

    mentions: list[Mention]
    cursor: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)  # e.g. "not modified (304)", "possible gap"
    item_errors: list[str] = field(default_factory=list)  # items skipped, with what and where
    annotated: bool = False  # language, topics and band keys already set (done in a fetch worker process)


class Listener(Protocol):
    """One configured source. `source_id` is stable (e.g. "rss:acme-news") and keys its cursor."""

    source_id: str
    source_kind: str

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Fetch what is new since `cursor`; raise SourceError when the source fails as a whole."""
        ...
