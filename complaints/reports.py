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
from earful_complaints.process import FINISHED_STATES
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
class Workload:
    """One person's open records (as owner) and open investigations, and the age of the oldest."""

    person: str
    owned: int = 0
    investigating: int = 0
    oldest_days: int = 0


# Backlog age buckets: (label, up to this many whole days since receipt).
AGE_BUCKETS = (("0-2 days", 2), ("3-7 days", 7), ("8-14 days", 14), ("15-30 days", 30), ("over 30 days", None))


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
    satisfaction: list[int] = field(default_factory=list)  # the scores (1-5) given at closing
    safety_issues: int = 0
    backlog_age: list[tuple[str, int]] = field(default_factory=list)  # open records now, by days since receipt
    workload: list[Workload] = field(default_factory=list)  # open records now, per owner
    corrective_overdue: int = 0
    trend_unit: str = "day"
    trend: list[tuple[date, int, int]] = field(default_factory=list)  # bucket start, received, closed

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.closed_once if self.closed_once else None

    @property
    def recurring_root_causes(self) -> list[tuple[str, int]]:
        """Root causes of two records or more (grouped ignoring case and spacing)."""
        return [(cause, n) for cause, n in self.root_causes if n >= 2]

    @property
    def satisfaction_average(self) -> float | None:
        return statistics.fmean(self.satisfaction) if self.satisfaction else None

    @property
    def backlog(self) -> int:
        return sum(n for _, n in self.backlog_age)


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
    for column in ("category", "channel", "severity", "language", "status", "origin", "topic", "product_service"):
        rep.by[column] = _count(rows, column)
    rep.timings = _timings(rows, now)
    _count_outcomes(rep, rows)
    rep.missed_deadlines = sum((r["ack_overdue_at"] is not None) + (r["response_overdue_at"] is not None) for r in rows)
    rep.root_causes = _root_causes(rows)
    rep.safety_issues = sum(1 for r in rows if r["safety"])
    _monitor(rep, engine, now)
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
    """Closures, reopenings, the complainants' acceptance and satisfaction, and what became of the mentions
    listening raised."""
    rep.closed_once = sum(1 for r in rows if r["closed_at"] is not None or r["reopen_count"])
    rep.reopened = sum(1 for r in rows if r["reopen_count"])
    closed = [r for r in rows if r["status"] == "closed"]
    rep.accepted = {
        "yes": sum(1 for r in closed if r["complainant_accepted"] is True),
        "no": sum(1 for r in closed if r["complainant_accepted"] is False),
        "unknown": sum(1 for r in closed if r["complainant_accepted"] is None),
    }
    rep.satisfaction = [r["satisfaction_score"] for r in closed if r["satisfaction_score"] is not None]
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


def _monitor(rep: Report, engine: Engine, now: datetime) -> None:
    """Monitoring (8.4) looks at today, whatever the period: everything still owed to a complainant, and
    corrective actions past their follow-up date."""
    with engine.connect() as conn:
        open_rows = [
            dict(r)
            for r in conn.execute(sa.select(complaints).where(complaints.c.status.not_in(FINISHED_STATES))).mappings()
        ]
        corrective_rows = [
            dict(r)
            for r in conn.execute(
                sa.select(complaints).where(
                    complaints.c.status.in_(FINISHED_STATES), complaints.c.corrective_due.is_not(None)
                )
            ).mappings()
        ]
    rep.backlog_age, rep.workload = _backlog(open_rows, now)
    rep.corrective_overdue = sum(
        1
        for r in open_rows + corrective_rows
        if r["corrective_due"] is not None
        and r["corrective_status"] in ("planned", "in_progress")
        and utc(r["corrective_due"]) < now
    )


def _backlog(open_rows: list[dict[str, Any]], now: datetime) -> tuple[list[tuple[str, int]], list[Workload]]:
    """Open records by age, and per person: owned, investigating, oldest (days)."""
    ages: Counter[str] = Counter()
    people: dict[str, Workload] = {}
    for r in open_rows:
        days = max(0, (now - utc(r["received_at"])).days)
        ages[next(label for label, limit in AGE_BUCKETS if limit is None or days <= limit)] += 1
        owner = r["owner"] or "(no owner)"
        w = people.setdefault(owner, Workload(owner))
        w.owned += 1
        w.oldest_days = max(w.oldest_days, days)
        if r["status"] == "investigating" and r["investigator"]:
            people.setdefault(r["investigator"], Workload(r["investigator"])).investigating += 1
    workload = sorted(people.values(), key=lambda w: (-w.owned - w.investigating, w.person))
    return [(label, ages.get(label, 0)) for label, _ in AGE_BUCKETS], workload


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
# Every chart has a value axis with ticks, each bar its value written next to it, and labels that wrap onto more
# lines instead of being cut (the full text is also the bar's tooltip).

CHAR_W = 6.4  # px per character of the 11 px chart font (a generous average, so text fits)
LINE_H = 13


@dataclass
class Bar:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: int
    series: int = 0
    lines: tuple[tuple[float, str], ...] = ()  # (y, text) of the wrapped label (horizontal bars)


@dataclass
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    kind: str  # "hbar" (label above each bar) or "columns" (time series)
    legend: tuple[str, ...] = ()
    ticks: list[tuple[float, str]] = field(default_factory=list)  # category axis: (position, label)
    grid: list[tuple[float, str]] = field(default_factory=list)  # value axis: (position, value)
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # x0, y0, x1, y1 of the plotting area
    axis_label: str = "records"
    empty: str = "No records in this period."


def nice_ticks(top: int, most: int = 5) -> list[int]:
    """0 and round steps (1, 2, 5 x 10^k) up to at least `top`, at most `most` + 1 values."""
    top = max(1, top)
    step = 1
    while True:
        for m in (1, 2, 5):
            if -(-top // (step * m)) <= most:
                step *= m
                return list(range(0, step * -(-top // step) + 1, step))
        step *= 10


def wrap(text: str, width: int, max_lines: int = 4) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces where possible (long words are split)."""
    words, lines, line = text.split(), [], ""
    for word in words:
        while len(word) > width:
            if line:
                lines.append(line)
                line = ""
            lines.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line or not lines:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1][: width - 1] + "…"]
    return lines


def _hbar(title: str, items: list[tuple[str, int]], width: int = 420, empty: str | None = None) -> Chart:
    items = items[:12]
    left, right = 6, 40  # room for the value after the longest bar
    plot_w = width - left - right
    grid_values = nice_ticks(max((n for _, n in items), default=1))
    top = grid_values[-1]
    bars, y = [], 4.0
    for label, n in items:
        lines = wrap(label, int(plot_w / CHAR_W))
        label_lines = tuple((y + 10 + i * LINE_H, text) for i, text in enumerate(lines))
        bar_y = y + LINE_H * len(lines) + 1
        bars.append(Bar(left, bar_y, max(1.0, plot_w * n / top), 12, label, n, lines=label_lines))
        y = bar_y + 12 + 8
    axis_y = y + 2
    grid = [(left + plot_w * v / top, str(v)) for v in grid_values]
    chart = Chart(title, width, int(axis_y + 30), bars, "hbar", grid=grid, plot=(left, 0, left + plot_w, axis_y))
    if empty:
        chart.empty = empty
    return chart


def _columns(title: str, trend: list[tuple[date, int, int]], unit: str, width: int = 860, height: int = 240) -> Chart:
    left, right, top_pad, bottom = 44, 10, 24, 48
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    grid_values = nice_ticks(max((max(r, c) for _, r, c in trend), default=1))
    top = grid_values[-1]
    slot = plot_w / max(1, len(trend))
    bar_w = max(1.0, slot / 2 - 1)
    base = top_pad + plot_h
    bars, ticks = [], []
    every = max(1, -(-len(trend) // 12))
    for i, (start, received, closed) in enumerate(trend):
        x = left + i * slot
        for series, value in enumerate((received, closed)):
            h = plot_h * value / top
            bars.append(Bar(x + series * bar_w, base - h, bar_w, h, start.isoformat(), value, series))
        if i % every == 0:
            ticks.append((x, start.strftime("%b %d") if unit != "month" else start.strftime("%b %Y")))
    grid = [(base - plot_h * v / top, str(v)) for v in grid_values]
    return Chart(
        title, width, height, bars, "columns", ("received", "closed"), ticks, grid, (left, top_pad, left + plot_w, base)
    )


def charts(rep: Report) -> list[Chart]:
    """The report's charts, in page order."""
    return [
        _columns(f"Received and closed per {rep.trend_unit}", rep.trend, rep.trend_unit),
        _hbar("By product or service", rep.by["product_service"]),
        _hbar("By category", rep.by["category"]),
        _hbar("By channel", rep.by["channel"]),
        _hbar("By severity", rep.by["severity"]),
        _hbar("By language", rep.by["language"]),
        _hbar("Open records by age (today)", [(k, n) for k, n in rep.backlog_age]),
        _hbar("Recurring root causes", rep.recurring_root_causes, empty="No root cause occurred twice in this period."),
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
    for cause, n in rep.recurring_root_causes:
        writer.writerow(["recurring_root_cause", cause, n])
    writer.writerow(["satisfaction", "scores", len(rep.satisfaction)])
    writer.writerow(["satisfaction", "average", _num(rep.satisfaction_average, 2)])
    writer.writerow(["safety", "issues", rep.safety_issues])
    writer.writerow(["corrective_actions", "overdue", rep.corrective_overdue])
    for label, n in rep.backlog_age:
        writer.writerow(["backlog_age", label, n])
    for w in rep.workload:
        writer.writerow(["workload_owned", w.person, w.owned])
        writer.writerow(["workload_investigating", w.person, w.investigating])
        writer.writerow(["workload_oldest_days", w.person, w.oldest_days])
    for start, received, closed in rep.trend:
        writer.writerow([f"trend_{rep.trend_unit}_received", start.isoformat(), received])
        writer.writerow([f"trend_{rep.trend_unit}_closed", start.isoformat(), closed])
    return out.getvalue()


def _num(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"
