"""Management review (ISO 10002 8.7) and the register of improvement actions (8.6) with their effectiveness check.

A review records what was looked at (inputs: the clause 8 report, audit results, feedback), what was decided and
which actions follow; each action can be entered as an improvement with an owner and a due date, and is closed by
an effectiveness check saying whether it worked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.clock import now_utc, utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.errors import RecordNotFound, TransitionRefused
from earful_complaints.tables import complaint_improvements, complaint_reviews

IMPROVEMENT_STATUSES = ("open", "implemented", "effective", "not_effective")


def _text(values: dict[str, Any], name: str, limit: int, *, required: bool = False) -> str | None:
    text = str(values.get(name) or "").strip()
    if required and not text:
        raise TransitionRefused("required-field", f"{name} is needed")
    if len(text) > limit:
        raise TransitionRefused("field-size", f"{name} is longer than {limit} characters ({len(text)})")
    return text or None


def _day(value: object, name: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(str(value or "").strip()), time.min, UTC)
    except ValueError:
        raise TransitionRefused("valid-value", f"{name} must be a date as YYYY-MM-DD") from None


def add_review(
    engine: Engine, settings: ComplaintsSettings, values: dict[str, Any], *, actor: str, now: datetime | None = None
) -> int:
    """Record a management review (held_on, attendees, inputs, decisions, actions); returns its id."""
    lim = settings.limits
    row = {
        "held_on": _day(values.get("held_on"), "held_on"),
        "attendees": _text(values, "attendees", lim.short_text_chars),
        "inputs": _text(values, "inputs", lim.long_text_chars, required=True),
        "decisions": _text(values, "decisions", lim.long_text_chars, required=True),
        "actions": _text(values, "actions", lim.long_text_chars),
        "created_by": actor,
        "created_at": utc(now) or now_utc(),
    }
    with engine.begin() as conn:
        return conn.execute(sa.insert(complaint_reviews).values(**row).returning(complaint_reviews.c.id)).scalar_one()


def list_reviews(engine: Engine) -> list[dict[str, Any]]:
    """All reviews, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(complaint_reviews).order_by(complaint_reviews.c.held_on.desc()))
        return [dict(r) for r in rows.mappings()]


def add_improvement(
    engine: Engine,
    settings: ComplaintsSettings,
    values: dict[str, Any],
    *,
    actor: str,
    staff: tuple[str, ...],
    now: datetime | None = None,
) -> int:
    """Enter an improvement action (title, owner, due, origin, review_id); returns its id."""
    now = utc(now) or now_utc()
    owner = str(values.get("owner") or "").strip()
    if owner not in staff:
        raise TransitionRefused(
            "registered-user", f"owner must be a registered user who may change records, not {owner!r}"
        )
    review_id = str(values.get("review_id") or "").strip()
    due = _day(values.get("due"), "due")
    if due.date() < now.date():
        raise TransitionRefused("valid-value", "due lies in the past")
    row = {
        "title": _text(values, "title", settings.limits.short_text_chars, required=True),
        "origin": _text(values, "origin", settings.limits.short_text_chars),
        "review_id": int(review_id) if review_id.isdigit() and len(review_id) < 10 else None,
        "owner": owner,
        "due": due,
        "status": "open",
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
    }
    with engine.begin() as conn:
        if (
            row["review_id"] is not None
            and not conn.execute(
                sa.select(complaint_reviews.c.id).where(complaint_reviews.c.id == row["review_id"])
            ).first()
        ):
            raise TransitionRefused("valid-value", f"no management review #{row['review_id']}")
        table = complaint_improvements
        return conn.execute(sa.insert(table).values(**row).returning(table.c.id)).scalar_one()


def check_improvement(
    engine: Engine,
    settings: ComplaintsSettings,
    improvement_id: int,
    values: dict[str, Any],
    *,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Set an improvement's status; 'effective' and 'not_effective' need the effectiveness check written down."""
    status = str(values.get("status") or "").strip()
    if status not in IMPROVEMENT_STATUSES:
        raise TransitionRefused("valid-value", f"status must be one of {', '.join(IMPROVEMENT_STATUSES)}")
    check = _text(values, "effectiveness_check", settings.limits.long_text_chars)
    if status in ("effective", "not_effective") and not check:
        raise TransitionRefused(
            "effectiveness-checked", "say how the effectiveness was checked before calling it effective or not"
        )
    now = utc(now) or now_utc()
    changes: dict[str, Any] = {"status": status, "updated_at": now}
    if check:
        changes.update(effectiveness_check=check, checked_by=actor, checked_at=now)
    with engine.begin() as conn:
        t = complaint_improvements
        if conn.execute(sa.update(t).where(t.c.id == improvement_id).values(**changes)).rowcount != 1:
            raise RecordNotFound(f"no improvement action #{improvement_id}")


def list_improvements(engine: Engine) -> list[dict[str, Any]]:
    """All improvement actions: open ones first, by due date."""
    t = complaint_improvements.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(complaint_improvements).order_by((t.status == "open").desc(), t.due, t.id)
        ).mappings()
        return [dict(r) for r in rows]
