"""Deadlines: business hours, and missed deadlines as events plus one alert each, through the real alerts outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from earful_alerts.tables import alerts
from earful_complaints.audit import verify
from earful_complaints.config import BusinessHours, ComplaintsSettings
from earful_complaints.deadlines import add_hours, check_overdue
from earful_complaints.register import QueueFilter, apply_action, get_events, get_record, list_records
from tests.complaints.conftest import open_one


def test_plain_hours() -> None:
    start = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)
    assert add_hours(start, 48, BusinessHours()) == start + timedelta(hours=48)


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    hours = BusinessHours(enabled=True, timezone="Europe/Stockholm", holidays=["2026-03-09"])
    friday_4pm_local = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # 16:00 in Stockholm (UTC+1)
    # 1 h left on Friday, Monday is a holiday, so 4 h end at Tuesday 12:00 local = 11:00 UTC.
    assert add_hours(friday_4pm_local, 4, hours) == datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    assert add_hours(saturday, 8, hours) == datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def _alerts(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(alerts).order_by(alerts.c.dedup_key)).mappings()]


def test_missed_deadlines_become_events_and_alerts_once(engine, settings) -> None:
    waiting = open_one(engine, settings, 1)
    handled = open_one(engine, settings, 2)
    apply_action(engine, settings, handled, "acknowledge", {"ack_channel": "email", "ack_text": "ok"}, actor="dana")
    record = get_record(engine, waiting)
    after_ack_due = record["due_ack"] + timedelta(minutes=5)

    assert check_overdue(engine, settings, after_ack_due) == [waiting]
    assert check_overdue(engine, settings, after_ack_due + timedelta(hours=1)) == []  # once per deadline
    raised = _alerts(engine)
    assert [a["dedup_key"] for a in raised] == [f"complaint_overdue:complaint-overdue:{waiting}:acknowledge"]
    assert raised[0]["severity"] == "warning" and waiting in raised[0]["title"]
    missed = [e for e in get_events(engine, waiting) if e["action"] == "deadline_missed"]
    assert len(missed) == 1 and missed[0]["actor"] == "system"
    assert get_record(engine, waiting)["ack_overdue_at"] is not None
    assert [r["ref"] for r in list_records(engine, QueueFilter(overdue=True), now=after_ack_due)[0]] == [waiting]

    after_response_due = record["due_response"] + timedelta(minutes=5)
    assert check_overdue(engine, settings, after_response_due) == sorted([waiting, handled])
    keys = [a["dedup_key"].rsplit(":", 2)[-2:] for a in _alerts(engine)]
    assert sorted(keys) == sorted([[waiting, "acknowledge"], [waiting, "respond"], [handled, "respond"]])
    assert verify(engine).ok


def test_assessed_severity_sets_the_response_deadline(sqlite_engine) -> None:
    settings = ComplaintsSettings()
    ref = open_one(sqlite_engine, settings)
    apply_action(sqlite_engine, settings, ref, "acknowledge", {"ack_channel": "email", "ack_text": "ok"}, actor="dana")
    apply_action(
        sqlite_engine,
        settings,
        ref,
        "assess",
        {"severity": "critical", "impact": "high", "complexity": "low", "urgency": "high", "category": "safety"},
        actor="dana",
    )
    record = get_record(sqlite_engine, ref)
    assert record["due_response"] - record["received_at"] == timedelta(hours=48)
