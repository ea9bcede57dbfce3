"""What the listening dashboard's routes share: the mention index, who may act, periods and the index's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from earful_common.errors import ReportedError
from earful_complaints.users import User
from earful_complaints.web.deps import BadInput, Forbidden, reader, render


@dataclass
class DashboardIndex:
    """The mention index the dashboard reads (a real cluster or the embedded noida-db), and where corrected
    labels go. Built by `earful web` / `earful complaints serve`; tests build their own."""

    es: Any  # elasticsearch.Elasticsearch
    alias: str
    labels_dir: Path | None = None  # corrected labels (earful_nlp.corrections); None: "label is wrong" is off
    topics: list[str] = field(default_factory=list)  # configured topics (the index may not hold all yet)
    error: str | None = None  # why the index could not be reached when the app started
    menu_seconds: float = 120.0  # how long the filter menus (topics, languages, sources in the index) are reused
    _menus: tuple[float, dict[str, list[str]]] | None = field(default=None, repr=False)

    def menus(self) -> dict[str, list[str]]:
        """The topics, languages and sources in the index, asked again at most every `menu_seconds`: the menus
        change slowly and each page should cost the index one request."""
        import time

        from earful_indexer.dashboard import distinct_values

        now = time.monotonic()
        if self._menus is None or now - self._menus[0] > self.menu_seconds:
            self._menus = (now, distinct_values(self.es, self.alias))
        return self._menus[1]


class IndexUnavailable(ReportedError):
    """The dashboard has no index, or the index did not answer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def index_of(request: Request) -> DashboardIndex:
    """The dashboard's index; IndexUnavailable when the app was started without one."""
    index: DashboardIndex | None = getattr(request.app.state, "dashboard", None)
    if index is None or index.es is None:
        reason = index.error if index is not None and index.error else "the web app was started without an index"
        raise IndexUnavailable(f"the listening dashboard needs the mention index: {reason}")
    return index


def dashboard_actor(user: User = Depends(reader)) -> User:
    """The signed-in user, who must be allowed to act on the dashboard (comms, quality, admin)."""
    if not user.can_act_on_dashboard:
        raise Forbidden(f"your role ({user.role}) may read the dashboard but not act on it")
    return user


PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
MAX_CUSTOM = timedelta(days=366)


def parse_day(value: str, name: str) -> datetime:
    """A YYYY-MM-DD date (as from <input type=date>) at 00:00 UTC; BadInput naming the parameter otherwise."""
    try:
        return datetime.strptime(value[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise BadInput(f"{name} must be a date like 2026-03-02, not {value[:30]!r}") from None


def period_bounds(period: str, start: str, end: str, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of a named period ending at the next full hour, or of a custom one (whole days)."""
    if period in PERIODS:
        top = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return top - PERIODS[period], top
    if period != "custom":
        raise BadInput(f"period must be one of {', '.join([*PERIODS, 'custom'])}, not {period[:20]!r}")
    if not start or not end:
        raise BadInput("a custom period needs both a start and an end date")
    first, last = parse_day(start, "start"), parse_day(end, "end") + timedelta(days=1)
    if last <= first:
        raise BadInput("the end date of a custom period must not be before its start")
    if last - first > MAX_CUSTOM:
        raise BadInput("a custom period may span at most 366 days")
    return first, last


def add_dashboard_errors(app: FastAPI) -> None:
    """An index that is missing or does not answer is a 503 page naming it (never a traceback)."""
    from earful_indexer.client import unreachable_errors

    @app.exception_handler(IndexUnavailable)
    async def _no_index(request: Request, exc: IndexUnavailable) -> Response:
        return render(request, "error.html", {"title": "Index unavailable", "message": exc.message}, 503)

    for error in unreachable_errors():

        @app.exception_handler(error)
        async def _index_error(request: Request, exc: Exception) -> Response:
            status = getattr(exc, "status_code", None) or getattr(getattr(exc, "meta", None), "status", None)
            detail = str(getattr(exc, "message", "") or exc).splitlines()[0][:300]
            message = f"the mention index did not answer this request ({status or 'no answer'}: {detail})"
            return render(request, "error.html", {"title": "Index unavailable", "message": message}, 503)
