"""Deadlines: when a record must be acknowledged and answered, and what happens when it is not.

`check_overdue` is what the hourly Airflow task and `earful complaints check-deadlines` run: each missed
deadline becomes one `deadline_missed` event on the record and one alert through the alert channels.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.clock import iso, utc
from earful_complaints.config import BusinessHours, ComplaintsSettings
from earful_complaints.process import RESPONDED_STATES
from earful_complaints.tables import complaints

_MAX_DAYS = 3660  # a deadline further than ten years ahead is a configuration mistake


def add_hours(start: datetime, hours: float, business: BusinessHours) -> datetime:
    """`start` plus `hours`, counting only business hours when they are enabled."""
    start = utc(start)
    if not business.enabled:
        return start + timedelta(hours=hours)
    tz = ZoneInfo(business.timezone)
    holidays = {date.fromisoformat(d) for d in business.holidays}
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(tz)
    for _ in range(_MAX_DAYS):
        day = cursor.date()
        if day.weekday() in business.weekdays and day not in holidays:
            opens = datetime.combine(day, business.start, tz)
            closes = datetime.combine(day, business.end, tz)
            cursor = max(cursor, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return utc(cursor + remaining)
                remaining -= available
        cursor = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    raise ValueError("deadline is more than ten years of business hours ahead")


def due_dates(received_at: datetime, severity: str, settings: ComplaintsSettings) -> tuple[datetime, datetime]:
    """(due_ack, due_response) for a record received at `received_at` with this severity."""
    target = settings.targets[severity]
    return (
        add_hours(received_at, target.acknowledge_hours, settings.business_hours),
        add_hours(received_at, target.respond_hours, settings.business_hours),
    )


def overdue_clause(now: datetime) -> sa.ColumnElement[bool]:
    """SQL condition: the record has missed its acknowledgement or response deadline and is still owed."""
    c = complaints.c
    return sa.or_(
        sa.and_(c.status == "received", c.due_ack < now),
        sa.and_(c.status.not_in(RESPONDED_STATES), c.due_response < now),
    )


def overdue_now(record: dict[str, Any], now: datetime) -> bool:
    """True when the record is past a deadline it still owes (the queue's 'overdue' mark)."""
    return bool(
        (record["status"] == "received" and utc(record["due_ack"]) < now)
        or (record["status"] not in RESPONDED_STATES and utc(record["due_response"]) < now)
    )


def missed(record: dict[str, Any], now: datetime) -> list[str]:
    """Which deadlines ('acknowledge', 'respond') this record has missed and not yet recorded as missed."""
    which = []
    if record["status"] == "received" and utc(record["due_ack"]) < now and record["ack_overdue_at"] is None:
        which.append("acknowledge")
    if (
        record["status"] not in RESPONDED_STATES
        and utc(record["due_response"]) < now
        and record["response_overdue_at"] is None
    ):
        which.append("respond")
    return which


def check_overdue(engine: Engine, settings: ComplaintsSettings, now: datetime) -> list[str]:
    """Record each newly missed deadline as an event and raise one alert per record and deadline.

    Returns the references of the records with a newly missed deadline. Safe to re-run: the alert is raised
    before the event is written and is idempotent by its dedup key, so a crash in between neither loses nor
    doubles an alert, and a recorded deadline is never reported again.
    """
    from earful_alerts.api import raise_alert
    from earful_complaints.register import record_deadline_missed

    now = utc(now)
    with engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.execute(sa.select(complaints).where(overdue_clause(now)).order_by(complaints.c.id)).mappings()
        ]
    flagged = []
    for record in rows:
        for which in missed(record, now):
            due = record["due_ack"] if which == "acknowledge" else record["due_response"]
            round_ = f"#{record['reopen_count'] + 1}" if which == "respond" and record["reopen_count"] else ""
            severity = record["severity"] or settings.intake_severity
            alert_id = raise_alert(
                engine,
                kind="complaint_overdue",
                dedup_key=f"complaint-overdue:{record['ref']}:{which}{round_}",
                # alerts' scale; a safety issue is always critical
                severity="critical" if severity in ("critical", "high") or record["safety"] else "warning",
                title=f"Complaint {record['ref']}: {which} deadline missed",
                summary=(
                    f"{record['ref']} ({record['status']}, severity {severity}, channel {record['channel']}) "
                    f"was due to {which} by {iso(due)}."
                ),
                topic=record["topic"],
                details={
                    "ref": record["ref"],
                    "deadline": which,
                    "due": iso(due),
                    "status": record["status"],
                    "owner": record["owner"],
                },
                now=now,
            )
            if record_deadline_missed(engine, record["ref"], which, now=now, alert_id=alert_id):
                flagged.append(record["ref"])
    return sorted(set(flagged))


def next_due(record: dict[str, Any]) -> datetime | None:
    """The deadline the record owes next: acknowledgement while received, then the response; None once answered."""
    if record["status"] == "received":
        return utc(record["due_ack"])
    if record["status"] in RESPONDED_STATES:
        return None
    return utc(record["due_response"])


def due_soon(record: dict[str, Any], now: datetime, hours: float) -> bool:
    """True when the next deadline falls within `hours` from now and has not passed yet (the queue's mark)."""
    due = next_due(record)
    return due is not None and now <= due <= now + timedelta(hours=hours)


def due_soon_clause(now: datetime, hours: float) -> sa.ColumnElement[bool]:
    """SQL condition: the next deadline falls within `hours` from now (not yet missed)."""
    c = complaints.c
    soon = now + timedelta(hours=hours)
    return sa.or_(
        sa.and_(c.status == "received", c.due_ack >= now, c.due_ack <= soon),
        sa.and_(
            c.status != "received", c.status.not_in(RESPONDED_STATES), c.due_response >= now, c.due_response <= soon
        ),
    )
