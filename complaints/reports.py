"""Clause 8 analysis for a period: volumes, times to acknowledge/respond/close and the share within target,
reopen rate, satisfaction, recurring root causes and trends; as an HTML page (inline SVG charts) and as CSV."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.clock import utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.spreadsheet import SafeCsvWriter
from earful_complaints.tables import complaints


@dataclass
class Timing:
    """How long one step took, over the records that completed it, and how many met their deadline."""

    step: str
    done: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    within_target: int | None = None  # None when the step has no target
    late_pending: int = 0  # not done yet and already past the deadline

    @property
    def share_within(self) -> float | None:
        due = self.done + self.late_pending
        return None if self.within_target is None or not due else self.within_target / due


@dataclass
class Report:
    """Everything the clause 8 report shows."""

    start: datetime
    end: datetime  # exclusive
    total: int = 0
    by: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    timings: list[Timing] = field(default_factory=list)
    closed_once: int = 0
    reopened: int = 0
    accepted: dict[str, int] = field(default_factory=dict)
    rejected_from_listening: int = 0
    confirmed_from_listening: int = 0
    missed_deadlines: int = 0
    root_causes: list[tuple[str, int]] = field(default_factory=list)
    trend_unit: str = "day"
    trend: list[tuple[date, int, int]] = field(default_factory=list)  # bucket start, received, closed

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.closed_once if self.closed_once else None

    @property
    def recurring_root_causes(self) -> list[tuple[str, int]]:
        return [(cause, n) for cause, n in self.root_causes if n > 1]


FIRST_REPORT_DAY = date(2000, 1, 1)


def check_period(first: date | str | None, last: date | str | None, *, today: date) -> tuple[date, date]:
    """The report period as two dates (default: the 90 days up to today), each between 2000-01-01 and a year
    from today; ComplaintError naming the rule otherwise. Swapped dates are put in order."""
    from earful_complaints.errors import ComplaintError

    try:
        d_last = date.fromisoformat(last) if isinstance(last, str) else (last or today)
        d_first = date.fromisoformat(first) if isinstance(first, str) else first
    except ValueError:
        raise ComplaintError("dates must be given as YYYY-MM-DD") from None
    latest = today + timedelta(days=366)
    if d_first is None:
        d_first = max(FIRST_REPORT_DAY, d_last - timedelta(days=89)) if FIRST_REPORT_DAY <= d_last <= latest else d_last
    for day in (d_first, d_last):
        if not FIRST_REPORT_DAY <= day <= latest:
            raise ComplaintError(f"report dates must lie between {FIRST_REPORT_DAY} and {latest}, not {day}")
    return (d_last, d_first) if d_first > d_last else (d_first, d_last)


def period_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """[first_day 00:00, the day after last_day 00:00) in UTC."""
    return (datetime.combine(first_day, time.min, UTC), datetime.combine(last_day + timedelta(days=1), time.min, UTC))


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (utc(later) - utc(earlier)).total_seconds() / 3600


def _timing(step: str, rows: list[dict[str, Any]], done_col: str, due_col: str | None, now: datetime) -> Timing:
    durations = [h for r in rows if (h := _hours(r[done_col], r["received_at"])) is not None]
    timing = Timing(step, done=len(durations))
    if durations:
        timing.median_hours = statistics.median(durations)
        timing.p90_hours = (
            statistics.quantiles(durations, n=10, method="inclusive")[-1] if len(durations) > 1 else durations[0]
        )
    if due_col:
        timing.within_target = sum(1 for r in rows if r[done_col] is not None and utc(r[done_col]) <= utc(r[due_col]))
        skip = {"not_a_complaint", "merged"}
        timing.late_pending = sum(
            1 for r in rows if r[done_col] is None and r["status"] not in skip and utc(r[due_col]) < now
        )
    return timing


def _count(rows: list[dict[str, Any]], column: str) -> list[tuple[str, int]]:
    return Counter((r[column] or "(none)") for r in rows).most_common()


def build_report(
    engine: Engine,
    settings: ComplaintsSettings,  # noqa: ARG001 - the callers' signature; no setting changes the report yet
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
) -> Report:
    """The report over the records received in [start, end)."""
    now = utc(now) or datetime.now(UTC)
    rows, closed_at = _period_rows(engine, start, end)
    rep = Report(start=start, end=end, total=len(rows))
    for column in ("category", "channel", "severity", "language", "status", "origin", "topic"):
        rep.by[column] = _count(rows, column)
    rep.timings = _timings(rows, now)
    _count_outcomes(rep, rows)
    rep.missed_deadlines = sum((r["ack_overdue_at"] is not None) + (r["response_overdue_at"] is not None) for r in rows)
    rep.root_causes = _root_causes(rows)
    rep.trend_unit, rep.trend = _trend(rows, closed_at, start, end)
    return rep


def _period_rows(engine: Engine, start: datetime, end: datetime) -> tuple[list[dict[str, Any]], list[datetime]]:
    """The records received in [start, end), and when the records closed in it were closed."""
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                sa.select(complaints).where(complaints.c.received_at >= start, complaints.c.received_at < end)
            ).mappings()
        ]
        closed_at = list(
            conn.execute(
                sa.select(complaints.c.closed_at).where(complaints.c.closed_at >= start, complaints.c.closed_at < end)
            ).scalars()
        )
    return rows, closed_at


def _timings(rows: list[dict[str, Any]], now: datetime) -> list[Timing]:
    """How long acknowledging, responding and closing took (records that are no complaint are not timed)."""
    complaints_only = [r for r in rows if r["status"] not in ("not_a_complaint", "merged")]
    return [
        _timing("acknowledge", [r for r in rows if r["status"] != "not_a_complaint"], "ack_at", "due_ack", now),
        _timing("respond", complaints_only, "communicated_at", "due_response", now),
        _timing("close", complaints_only, "closed_at", None, now),
    ]


def _count_outcomes(rep: Report, rows: list[dict[str, Any]]) -> None:
    """Closures, reopenings, the complainants' acceptance, and what became of the mentions listening raised."""
    rep.closed_once = sum(1 for r in rows if r["closed_at"] is not None or r["reopen_count"])
    rep.reopened = sum(1 for r in rows if r["reopen_count"])
    closed = [r for r in rows if r["status"] == "closed"]
    rep.accepted = {
        "yes": sum(1 for r in closed if r["complainant_accepted"] is True),
        "no": sum(1 for r in closed if r["complainant_accepted"] is False),
        "unknown": sum(1 for r in closed if r["complainant_accepted"] is None),
    }
    listening = [r for r in rows if r["origin"] == "social_listening"]
    rep.rejected_from_listening = sum(1 for r in listening if r["status"] == "not_a_complaint")
    rep.confirmed_from_listening = sum(1 for r in listening if r["ack_at"] is not None)


def _root_causes(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The 20 most frequent root causes, counted case- and space-insensitively, shown as first written."""
    causes: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for r in rows:
        if r["root_cause"]:
            key = " ".join(r["root_cause"].casefold().split())
            causes[key] += 1
            shown.setdefault(key, r["root_cause"].strip())
    return [(shown[k], n) for k, n in causes.most_common(20)]


def _trend(
    rows: list[dict[str, Any]], closed_at: list[datetime], start: datetime, end: datetime
) -> tuple[str, list[tuple[date, int, int]]]:
    days = (end - start).days
    unit = "day" if days <= 45 else "week" if days <= 366 else "month"

    def bucket(d: date) -> date:
        if unit == "day":
            return d
        if unit == "week":
            return d - timedelta(days=d.weekday())
        return d.replace(day=1)

    buckets: list[date] = []
    d = bucket(start.date())
    while d < end.date():
        buckets.append(d)
        d = (
            d + timedelta(days=1 if unit == "day" else 7)
            if unit != "month"
            else (d + timedelta(days=32)).replace(day=1)
        )
    received = Counter(bucket(utc(r["received_at"]).date()) for r in rows)
    closed = Counter(bucket(utc(c).date()) for c in closed_at)
    return unit, [(b, received.get(b, 0), closed.get(b, 0)) for b in buckets]


# ---- charts (geometry only; the templates draw them as inline SVG) -----------------------------------------------


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: int
    series: int = 0


@dataclass
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    kind: str  # "hbar" (label left of each bar) or "columns" (time series)
    legend: tuple[str, ...] = ()
    ticks: list[tuple[float, str]] = field(default_factory=list)


def _hbar(title: str, items: list[tuple[str, int]], width: int = 420) -> Chart:
    items = items[:12]
    top = max((n for _, n in items), default=1) or 1
    row, label_w = 22, 130
    bars = [
        Bar(label_w, i * row + 4, max(1.0, (width - label_w - 40) * n / top), row - 8, label, n)
        for i, (label, n) in enumerate(items)
    ]
    return Chart(title, width, max(row, row * len(items)) + 8, bars, "hbar")


def _columns(title: str, trend: list[tuple[date, int, int]], unit: str, width: int = 860, height: int = 200) -> Chart:
    top = max((max(r, c) for _, r, c in trend), default=1) or 1
    slot = (width - 40) / max(1, len(trend))
    bar_w = max(1.0, slot / 2 - 1)
    plot_h = height - 40
    bars, ticks = [], []
    every = max(1, len(trend) // 12)
    for i, (start, received, closed) in enumerate(trend):
        x = 30 + i * slot
        for series, value in enumerate((received, closed)):
            h = plot_h * value / top
            bars.append(Bar(x + series * bar_w, 10 + plot_h - h, bar_w, h, start.isoformat(), value, series))
        if i % every == 0:
            ticks.append((x, start.strftime("%b %d") if unit != "month" else start.strftime("%b %Y")))
    return Chart(title, width, height, bars, "columns", ("received", "closed"), ticks)


def charts(rep: Report) -> list[Chart]:
    """The report's charts, in page order."""
    return [
        _columns(f"Received and closed per {rep.trend_unit}", rep.trend, rep.trend_unit),
        _hbar("By category", rep.by["category"]),
        _hbar("By channel", rep.by["channel"]),
        _hbar("By severity", rep.by["severity"]),
        _hbar("By language", rep.by["language"]),
    ]


# ---- output -----------------------------------------------------------------------------------------------------


def render_html(rep: Report) -> str:
    """A self-contained HTML page (stylesheet inlined, no external resources)."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("earful_complaints", "templates"), autoescape=select_autoescape(default=True)
    )
    css = files("earful_complaints").joinpath("static", "style.css").read_text(encoding="utf-8")
    return env.get_template("report_standalone.html").render(
        rep=rep, charts=charts(rep), css=css, last_day=(rep.end - timedelta(days=1)).date()
    )


def render_csv(rep: Report) -> str:
    """Long-format CSV: section, key, value (one figure per line, easy to pivot)."""
    out = io.StringIO()
    writer = SafeCsvWriter(csv.writer(out, lineterminator="\n"))
    writer.writerow(["section", "key", "value"])
    writer.writerow(["period", "from", rep.start.date().isoformat()])
    writer.writerow(["period", "to", (rep.end - timedelta(days=1)).date().isoformat()])
    writer.writerow(["volume", "received", rep.total])
    for column, items in rep.by.items():
        for key, n in items:
            writer.writerow([f"by_{column}", key, n])
    for t in rep.timings:
        writer.writerow([f"time_to_{t.step}", "done", t.done])
        writer.writerow([f"time_to_{t.step}", "median_hours", _num(t.median_hours)])
        writer.writerow([f"time_to_{t.step}", "p90_hours", _num(t.p90_hours)])
        if t.within_target is not None:
            writer.writerow([f"time_to_{t.step}", "within_target", t.within_target])
            writer.writerow([f"time_to_{t.step}", "late_pending", t.late_pending])
            writer.writerow([f"time_to_{t.step}", "share_within_target", _num(t.share_within, 4)])
    writer.writerow(["reopen", "closed_at_least_once", rep.closed_once])
    writer.writerow(["reopen", "reopened", rep.reopened])
    writer.writerow(["reopen", "rate", _num(rep.reopen_rate, 4)])
    for key, n in rep.accepted.items():
        writer.writerow(["complainant_accepted", key, n])
    writer.writerow(["social_listening", "confirmed", rep.confirmed_from_listening])
    writer.writerow(["social_listening", "rejected_not_a_complaint", rep.rejected_from_listening])
    writer.writerow(["deadlines", "missed", rep.missed_deadlines])
    for cause, n in rep.root_causes:
        writer.writerow(["root_cause", cause, n])
    for start, received, closed in rep.trend:
        writer.writerow([f"trend_{rep.trend_unit}_received", start.isoformat(), received])
        writer.writerow([f"trend_{rep.trend_unit}_closed", start.isoformat(), closed])
    return out.getvalue()


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"
