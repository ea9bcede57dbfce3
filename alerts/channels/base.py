"""What every channel returns: an outcome the sender turns into sent, retry later, or park."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from earful_alerts.message import AlertMessage


@dataclass(frozen=True)
class Outcome:
    """The result of one delivery attempt."""

    ok: bool
    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait (429 / 503 Retry-After)
    permanent: bool = False  # retrying cannot help (e.g. 404 webhook deleted, 400 bad payload, 550 no mailbox)


class Channel(Protocol):
    """A delivery target. `send` never raises for delivery problems; it returns an Outcome."""

    name: str

    def send(self, message: AlertMessage) -> Outcome: ...


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
