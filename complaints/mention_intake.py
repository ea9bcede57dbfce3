"""Intake from the listening dashboard: a person opens a record for one indexed mention, at most once.

The form is the manual intake's, prefilled from the mention (description, language, topic, link); the record is
linked to the mention like one opened by an alert, so a second request for the same mention (a double click, a
colleague, a later alert) finds the existing record instead of opening another.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from earful_complaints.clock import now_utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.errors import TransitionRefused
from earful_complaints.intake import _check_sizes, _description, listening_fields
from earful_complaints.register import create_record
from earful_complaints.tables import complaint_mentions, complaints

# What the person may edit on the prefilled form; the rest comes from the mention.
EDITABLE = ("description", "category", "product_service", "remedy_sought")


def record_of_mention(engine: Engine, mention_id: str) -> str | None:
    """The reference of the record opened for this mention, or None."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(complaints.c.ref)
            .join(complaint_mentions, complaint_mentions.c.complaint_id == complaints.c.id)
            .where(complaint_mentions.c.mention_id == mention_id)
        ).scalar()


def prefill(mention: dict[str, Any], settings: ComplaintsSettings) -> dict[str, str]:
    """The intake form's starting values for a mention."""
    return {
        "description": _description(mention, settings.limits.long_text_chars),
        "category": "",
        "product_service": "",
        "remedy_sought": "",
    }


def open_from_mention(
    engine: Engine, settings: ComplaintsSettings, mention: dict[str, Any], values: dict[str, str], *, actor: str
) -> tuple[str, bool]:
    """(reference, opened now) of the record for this mention: a new one from the form, or the existing one."""
    mention_id = str(mention["id"])
    existing = record_of_mention(engine, mention_id)
    if existing is not None:
        return existing, False
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise TransitionRefused("known-field", f"this form takes no field {', '.join(unknown)}")
    clean = {k: v.strip() for k, v in values.items() if v and v.strip()}
    if not clean.get("description"):
        raise TransitionRefused("required-field", "the complaint needs a description")
    if clean.get("category") and clean["category"] not in settings.categories:
        raise TransitionRefused("valid-value", f"category must be one of {', '.join(settings.categories)}")
    _check_sizes(clean, settings)
    now = now_utc()
    fields = {**clean, **listening_fields(mention, settings.snapshot_max_chars, now)}
    try:
        with engine.begin() as conn:
            record = create_record(
                conn, settings, fields, actor=actor, now=now, note=f"opened from mention {mention_id}"
            )
            # mention_id is complaint_mentions' primary key: a concurrent second request fails here and rolls
            # back whole, reference number included.
            conn.execute(
                sa.insert(complaint_mentions).values(mention_id=mention_id, complaint_id=record["id"], linked_at=now)
            )
    except IntegrityError:
        existing = record_of_mention(engine, mention_id)
        if existing is None:
            raise
        return existing, False
    return record["ref"], True
