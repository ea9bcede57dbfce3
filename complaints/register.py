"""The complaint register: create records, apply process actions with optimistic locking, read and list them.

Every change goes through here so that it is logged as a hash-chained event (complaints.audit) in the same
transaction as the change itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from earful_complaints.audit import append_event
from earful_complaints.clock import now_utc, utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.deadlines import add_hours, due_dates, overdue_clause
from earful_complaints.errors import RecordNotFound, StaleRecord, TransitionRefused
from earful_complaints.process import ACTIONS, plan
from earful_complaints.tables import (
    complaint_alerts,
    complaint_events,
    complaint_mentions,
    complaint_ref_counters,
    complaints,
)
from earful_complaints.users import staff_names

SYSTEM_ACTOR = "system"


def _next_ref(conn: Connection, prefix: str, year: int) -> str:
    """The next reference of the year, e.g. C-2026-000123 (the counter row serializes concurrent intakes)."""
    counters = complaint_ref_counters
    updated = conn.execute(sa.update(counters).where(counters.c.year == year).values(last=counters.c.last + 1))
    if updated.rowcount == 0:
        conn.execute(sa.insert(counters).values(year=year, last=1))
    last = conn.execute(sa.select(counters.c.last).where(counters.c.year == year)).scalar_one()
    return f"{prefix}-{year}-{last:06d}"


def create_record(
    conn: Connection,
    settings: ComplaintsSettings,
    fields: Mapping[str, Any],
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> dict[str, Any]:
    """Insert a new record in state `received` inside the caller's transaction, with its creation event."""
    received_at = utc(fields.get("received_at") or now)
    due_ack, due_response = due_dates(received_at, settings.intake_severity, settings)
    values: dict[str, Any] = {column.name: None for column in complaints.columns if column.name != "id"}
    values.update({k: v for k, v in fields.items() if k in values})
    values.update(
        ref=_next_ref(conn, settings.reference_prefix, received_at.year),
        version=1,
        status="received",
        received_at=received_at,
        due_ack=due_ack,
        due_response=due_response,
        reopen_count=0,
        created_at=utc(now),
        updated_at=utc(now),
    )
    complaint_id = conn.execute(sa.insert(complaints).values(**values).returning(complaints.c.id)).scalar_one()
    append_event(
        conn,
        complaint_id=complaint_id,
        ref=values["ref"],
        at=now,
        actor=actor,
        action="receive",
        from_state=None,
        to_state="received",
        before={},
        after=values,
        note=note,
    )
    return {"id": complaint_id, **values}


def _load(conn: Connection, ref: str) -> dict[str, Any]:
    row = conn.execute(sa.select(complaints).where(complaints.c.ref == ref)).mappings().first()
    if row is None:
        raise RecordNotFound(f"no complaint record {ref!r}")
    return dict(row)


def _write(
    conn: Connection,
    record: dict[str, Any],
    changes: dict[str, Any],
    *,
    actor: str,
    action: str,
    now: datetime,
    note: str | None,
) -> dict[str, Any]:
    """Update the record if its version is still the one read, and log the event; StaleRecord otherwise."""
    if changes:
        changes = {**changes, "version": record["version"] + 1, "updated_at": utc(now)}
        result = conn.execute(
            sa.update(complaints)
            .where(complaints.c.id == record["id"], complaints.c.version == record["version"])
            .values(**changes)
        )
        if result.rowcount != 1:
            current = conn.execute(sa.select(complaints.c.version).where(complaints.c.id == record["id"])).scalar()
            raise StaleRecord(
                f"{record['ref']} was changed by someone else meanwhile (now version {current}, you edited version "
                f"{record['version']}); nothing was saved: reload the record and try again"
            )
    before = {k: record.get(k) for k in changes}
    append_event(
        conn,
        complaint_id=record["id"],
        ref=record["ref"],
        at=now,
        actor=actor,
        action=action,
        from_state=record["status"],
        to_state=changes.get("status", record["status"]),
        before=before,
        after=changes,
        note=note,
    )
    return {**record, **changes}


def apply_action(
    engine: Engine,
    settings: ComplaintsSettings,
    ref: str,
    action: str,
    values: Mapping[str, Any],
    *,
    actor: str,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Apply one process action to the record `ref` as `actor`; returns the updated record.

    `expected_version` is the version the person saw; if the record changed since, nothing is saved (StaleRecord).
    Illegal transitions, missing fields and failed guards raise TransitionRefused naming the rule.
    """
    now = utc(now) or now_utc()
    with engine.begin() as conn:
        record = _load(conn, ref)
        if expected_version is not None and record["version"] != expected_version:
            raise StaleRecord(
                f"{ref} was changed by someone else meanwhile (now version {record['version']}, you edited version "
                f"{expected_version}); nothing was saved: reload the record and try again"
            )
        step = ACTIONS.get(action)
        if step is not None and record["status"] in step.from_states:
            # Who may do it comes before what the form lacks: independence is the rule people must hear first.
            _four_eyes(conn, record, action, actor)
        changes, note = plan(action, record, values, actor=actor, now=now, settings=settings, staff=staff_names(conn))
        _within_record_size(conn, record, changes, note, settings)
        if action == "merge":
            target = conn.execute(
                sa.select(complaints.c.status).where(complaints.c.ref == changes["merged_into"])
            ).scalar()
            if target is None:
                raise TransitionRefused("merge-target", f"no record {changes['merged_into']!r} to merge into")
            if target in ("merged", "not_a_complaint"):
                raise TransitionRefused("merge-target", f"cannot merge into a record in state '{target}'")
        if action == "assess":
            _, changes["due_response"] = due_dates(
                record["received_at"],
                deadline_severity(changes["severity"], bool(changes.get("safety")), settings),
                settings,
            )
        if action == "reopen":
            target = settings.targets[record["severity"] or settings.intake_severity]
            changes.update(
                due_response=add_hours(now, target.respond_hours, settings.business_hours), response_overdue_at=None
            )
        updated = _write(conn, record, changes, actor=actor, action=action, now=now, note=note)
    if action == "assess" and changes.get("safety"):
        _raise_safety_alert(engine, updated, now)
    return updated


def deadline_severity(severity: str, safety: bool, settings: ComplaintsSettings) -> str:
    """The severity whose deadlines apply: a safety issue gets settings.safety_severity's when they are shorter."""
    if not safety:
        return severity
    own, safe = settings.targets[severity], settings.targets[settings.safety_severity]
    return settings.safety_severity if safe.respond_hours < own.respond_hours else severity


def _raise_safety_alert(engine: Engine, record: dict[str, Any], now: datetime) -> None:
    """A safety issue is announced at once through the alert channels (idempotent by the record's reference)."""
    from earful_alerts.api import raise_alert

    alert_id = raise_alert(
        engine,
        kind="complaint_safety",
        dedup_key=f"complaint-safety:{record['ref']}",
        severity="critical",
        title=f"Complaint {record['ref']}: safety issue",
        summary=(
            f"{record['ref']} was assessed as a safety issue (severity {record['severity']}, category "
            f"{record['category']}); respond by {utc(record['due_response']).isoformat()}."
        ),
        topic=record["topic"],
        details={"ref": record["ref"], "severity": record["severity"], "owner": record["owner"]},
        now=now,
    )
    link_alert(engine, record["ref"], alert_id, "complaint_safety", now=now)


def _four_eyes(conn: Connection, record: dict[str, Any], action: str, actor: str) -> None:
    """ISO 10002 independence, checked on what people did (the events), not on a typed name: only the assigned
    investigator records findings, and no one who recorded findings on the record may decide it."""
    if action == "investigate" and actor != record.get("investigator"):
        raise TransitionRefused(
            "findings-by-investigator",
            f"only the assigned investigator ({record.get('investigator') or 'none'}) may record findings; "
            "assign the investigation first",
        )
    if action == "decide":
        investigated = conn.execute(
            sa.select(complaint_events.c.seq)
            .where(
                complaint_events.c.complaint_id == record["id"],
                complaint_events.c.action == "investigate",
                complaint_events.c.actor == actor,
            )
            .limit(1)
        ).first()
        if investigated is not None:
            raise TransitionRefused(
                "decider-not-investigator",
                f"{actor} recorded investigation findings on {record['ref']} (event {investigated.seq}) and so may "
                "not decide it; ask another person to decide",
            )


def _text_size(value: object) -> int:
    if value is None:
        return 0
    return len(value) if isinstance(value, str) else len(json.dumps(value, default=str, ensure_ascii=False))


def _within_record_size(
    conn: Connection, record: dict[str, Any], changes: dict[str, Any], note: str | None, settings: ComplaintsSettings
) -> None:
    """Refuse a change that would take the text written to one record (events and notes) over the limit."""
    limit = settings.limits.record_chars
    rows = conn.execute(
        sa.select(complaint_events.c.note, complaint_events.c.after).where(
            complaint_events.c.complaint_id == record["id"]
        )
    ).all()
    used = sum(_text_size(r.note) + _text_size(r.after) for r in rows)
    adding = _text_size(note) + sum(_text_size(v) for v in changes.values())
    if used + adding > limit:
        raise TransitionRefused(
            "record-size",
            f"{record['ref']} already holds {used} characters of text; adding {adding} would pass the "
            f"limit of {limit} (limits.record_chars): attach long material elsewhere and note where it is",
        )


def record_deadline_missed(engine: Engine, ref: str, which: str, *, now: datetime, alert_id: str | None) -> bool:
    """Mark one missed deadline on the record with a `deadline_missed` event; False if it was already marked."""
    column = "ack_overdue_at" if which == "acknowledge" else "response_overdue_at"
    with engine.begin() as conn:
        record = _load(conn, ref)
        if record[column] is not None:
            return False
        due = record["due_ack"] if which == "acknowledge" else record["due_response"]
        try:
            _write(
                conn,
                record,
                {column: utc(now)},
                actor=SYSTEM_ACTOR,
                action="deadline_missed",
                now=now,
                note=f"{which} deadline {utc(due).isoformat()} missed" + (f"; alert {alert_id}" if alert_id else ""),
            )
        except StaleRecord:
            return False  # someone acted on it meanwhile; the next check looks again
        if alert_id:
            _link_alert(conn, record["id"], alert_id, "complaint_overdue", now)
    return True


def _link_alert(conn: Connection, complaint_id: int, alert_id: str, rule: str | None, now: datetime) -> bool:
    exists = conn.execute(
        sa.select(complaint_alerts.c.alert_id).where(
            complaint_alerts.c.complaint_id == complaint_id, complaint_alerts.c.alert_id == alert_id
        )
    ).first()
    if exists:
        return False
    conn.execute(
        sa.insert(complaint_alerts).values(complaint_id=complaint_id, alert_id=alert_id, rule=rule, linked_at=utc(now))
    )
    return True


def link_alert(engine: Engine, ref: str, alert_id: str, rule: str | None, *, now: datetime | None = None) -> bool:
    """Link an alert to a record (logged as an event); False when it was linked already."""
    now = utc(now) or now_utc()
    try:
        # No savepoint: on SQLite a read inside an open transaction cannot wait for the write lock later.
        with engine.begin() as conn:
            record = _load(conn, ref)
            if not _link_alert(conn, record["id"], alert_id, rule, now):
                return False
            append_event(
                conn,
                complaint_id=record["id"],
                ref=ref,
                at=now,
                actor=SYSTEM_ACTOR,
                action="link_alert",
                from_state=record["status"],
                to_state=record["status"],
                before={},
                after={},
                note=f"alert {alert_id}" + (f" (rule {rule})" if rule else ""),
            )
    except IntegrityError:
        return False  # the same alert was linked concurrently
    return True


# ---- reading -------------------------------------------------------------------------------------------------


def get_record(engine: Engine, ref: str) -> dict[str, Any]:
    """One record by reference (RecordNotFound otherwise)."""
    with engine.connect() as conn:
        return _load(conn, ref)


def get_events(engine: Engine, ref: str) -> list[dict[str, Any]]:
    """The event history of one record, oldest first."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(complaint_events).where(complaint_events.c.ref == ref).order_by(complaint_events.c.seq)
            ).mappings()
        ]


def get_links(engine: Engine, complaint_id: int) -> tuple[list[str], list[dict[str, Any]]]:
    """(mention ids, alerts) linked to a record."""
    with engine.connect() as conn:
        mentions = list(
            conn.execute(
                sa.select(complaint_mentions.c.mention_id).where(complaint_mentions.c.complaint_id == complaint_id)
            ).scalars()
        )
        alerts = [
            dict(r)
            for r in conn.execute(
                sa.select(complaint_alerts)
                .where(complaint_alerts.c.complaint_id == complaint_id)
                .order_by(complaint_alerts.c.linked_at)
            ).mappings()
        ]
    return mentions, alerts


SORTABLE = ("ref", "status", "severity", "channel", "language", "topic", "owner", "received_at", "due_response")
# Free-text search looks in these columns (case-insensitive substring).
SEARCHED = ("ref", "description", "complainant_ref", "complainant_name", "product_service", "root_cause", "topic")


@dataclass
class QueueFilter:
    """Filters and order of the work queue; None means any."""

    status: str | None = None
    overdue: bool = False
    severity: str | None = None
    language: str | None = None
    topic: str | None = None
    channel: str | None = None
    open_only: bool = False
    text: str | None = None
    owner: str | None = None
    due_soon_hours: float | None = None  # only records whose next deadline falls within this many hours
    sort: str = "due_response"
    descending: bool = False


def list_records(
    engine: Engine,
    filters: QueueFilter,
    *,
    now: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
    due_soon_hours: float = 24,
) -> tuple[list[dict[str, Any]], int]:
    """Records matching the filters in the asked order (default: earliest response deadline first), and the
    total count; each row says whether it is overdue or due within `due_soon_hours`."""
    from earful_complaints.deadlines import due_soon, due_soon_clause
    from earful_complaints.process import FINISHED_STATES

    now = utc(now) or now_utc()
    c = complaints.c
    where = []
    if filters.status:
        where.append(c.status == filters.status)
    if filters.open_only:
        where.append(c.status.not_in(FINISHED_STATES))
    if filters.overdue:
        where.append(overdue_clause(now))
    if filters.due_soon_hours:
        where.append(due_soon_clause(now, filters.due_soon_hours))
    if filters.severity:
        where.append(c.severity == filters.severity)
    if filters.owner:
        where.append(c.owner == filters.owner)
    if filters.text:
        # autoescape: a typed % or _ is searched for literally
        where.append(sa.or_(*(c[name].icontains(filters.text, autoescape=True) for name in SEARCHED)))
    for name in ("language", "topic", "channel"):
        value = getattr(filters, name)
        if value:
            where.append(getattr(c, name) == value)
    column = c[filters.sort if filters.sort in SORTABLE else "due_response"]
    order = column.desc() if filters.descending else column.asc()
    query = sa.select(complaints).where(*where)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = conn.execute(query.order_by(order.nulls_last(), c.id).limit(limit).offset(offset)).mappings().all()
        overdue_ids = set(
            conn.execute(sa.select(c.id).where(overdue_clause(now), c.id.in_([r["id"] for r in rows]))).scalars()
        )
    return [
        {
            **dict(r),
            "overdue": r["id"] in overdue_ids,
            "due_soon": r["id"] not in overdue_ids and due_soon(dict(r), now, due_soon_hours),
        }
        for r in rows
    ], total


def distinct_values(engine: Engine, column: str) -> list[str]:
    """The distinct non-empty values of a column (for filter menus)."""
    col = complaints.c[column]
    with engine.connect() as conn:
        return sorted(v for v in conn.execute(sa.select(col).distinct()).scalars() if v)
