"""Fetching one time window of a source (Airflow backfills and re-runs of past data intervals).

A live run reads since the stored cursor and moves it. A run over a past interval must not touch the cursor,
and should read only that interval where the source can say so:

- X: recent search takes `start_time` / `end_time` (listeners that offer `fetch_window` bound it server-side);
- Reddit: listings cannot start in the past; the newest items (up to about 1,000 per listing) are read and
  those created in the window kept (`created_utc` filtering);
- RSS/Atom: a feed holds only what it holds now; its items published in the window are kept. An interval
  older than the feed's memory cannot be backfilled from RSS.

Re-running a window doubles nothing: mention ids are deterministic and indexing only creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from earful_listeners.base import FetchResult, Listener


@dataclass(frozen=True)
class Window:
    """A half-open time interval [start, end), both aware (UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("window end must be after its start")

    def contains(self, moment: datetime | None) -> bool:
        if moment is None:
            return False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return self.start <= moment < self.end

    def describe(self) -> str:
        return f"{self.start.isoformat()} .. {self.end.isoformat()}"


class WindowedListener:
    """A listener read over one window: ignores the stored cursor and returns none to commit."""

    def __init__(self, listener: Listener, window: Window) -> None:
        self.inner = listener
        self.window = window
        self.source_id = listener.source_id
        self.source_kind = listener.source_kind

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:  # noqa: ARG002 - the live cursor is not used
        bounded = getattr(self.inner, "fetch_window", None)
        if bounded is not None:
            fetched = bounded(self.window.start, self.window.end)
            how = "bounded by the source"
        else:
            fetched = self.inner.fetch(None)
            how = "filtered by publication time" + (
                "; RSS holds only its current items" if self.source_kind == "rss" else ""
            )
        kept = [m for m in fetched.mentions if self.window.contains(m.published_at)]
        notes = [
            *fetched.notes,
            f"window {self.window.describe()} ({how}): kept {len(kept)} of {len(fetched.mentions)}",
        ]
        return FetchResult(mentions=kept, cursor=None, notes=notes, item_errors=list(fetched.item_errors))


def run_window(
    mode: str,
    run_type: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    lag: timedelta = timedelta(hours=1),
    length: timedelta | None = None,
) -> Window | None:
    """The window an Airflow run reads, or None for a live (cursor) run.

    mode "cursor" / "window" force one way. "auto": a backfill, or a run whose data interval ended more than
    `lag` ago (a re-run of a past interval), reads its interval; the current interval reads since the cursor, so
    a live run never leaves a gap between intervals. Under a trigger timetable (Airflow 3's default for a plain
    schedule) a manual run with a logical date has a zero-width interval; with `length` (the DAG's interval) it
    reads [logical date, logical date + length). earful's listening DAG uses a data-interval timetable, which
    gives every run a real interval.
    """
    if mode not in ("auto", "cursor", "window"):
        raise ValueError(f"mode must be auto, cursor or window, not {mode!r}")
    if start is not None and end is not None and end == start and length:
        end = start + length
    if mode == "cursor" or start is None or end is None or end <= start:
        if mode == "window":
            raise ValueError("mode 'window' needs a run with a data interval")
        return None
    if mode == "window" or run_type == "backfill" or end < now - lag:
        return Window(start.astimezone(UTC), end.astimezone(UTC))
    return None
