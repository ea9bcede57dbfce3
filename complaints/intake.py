"""Intake: records opened from alerts (social listening) and by hand (complaints from other channels)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from earful_complaints.clock import now_utc, utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.errors import TransitionRefused
from earful_complaints.languages import LANGUAGES
from earful_complaints.process import EMAIL
from earful_complaints.register import SYSTEM_ACTOR, create_record, link_alert
from earful_complaints.tables import complaint_alerts, complaint_mentions, complaints

_SNAPSHOT_KEYS = (
    "id",
    "source_kind",
    "source",
    "native_id",
    "url",
    "title",
    "text",
    "author_ref",
    "published_at",
    "fetched_at",
    "language",
    "topics",
    "labels",
    "reach",
    "engagement",
)


def mention_snapshot(mention: dict[str, Any], max_chars: int) -> dict[str, Any]:
    """The mention as it was when the record was opened (posts get edited or deleted), JSON-safe and bounded."""
    snap = {k: mention.get(k) for k in _SNAPSHOT_KEYS if mention.get(k) is not None}
    for key in ("title", "text"):
        value = snap.get(key)
        if isinstance(value, str) and len(value) > max_chars:
            snap[key] = value[:max_chars]
            snap[f"{key}_truncated_from"] = len(value)
    return json.loads(json.dumps(snap, default=str, ensure_ascii=False))


def _description(mention: dict[str, Any], max_chars: int) -> str:
    parts = [p.strip() for p in (mention.get("title") or "", mention.get("text") or "") if p and p.strip()]
    text = "\n\n".join(dict.fromkeys(parts)) or "(empty post)"
    return text[:max_chars]


def listening_fields(mention: dict[str, Any], snapshot_max_chars: int, now: datetime) -> dict[str, Any]:
    """The fields of a record opened from an indexed mention (by an alert or by a person from the dashboard):
    where and when it was posted, a snapshot of it, its pseudonymous author, language and complaint probability."""
    labels = mention.get("labels") or {}
    topics = mention.get("topics") or []
    return {
        "origin": "social_listening",
        "received_at": now,
        "channel": mention.get("source_kind") or "unknown",
        "source": mention.get("source"),
        "source_url": mention.get("url"),
        "post_id": mention.get("native_id"),
        "mention_snapshot": mention_snapshot(mention, snapshot_max_chars),
        "complainant_ref": mention.get("author_ref"),
        "language": mention.get("language") or "und",
        "topic": topics[0] if topics else None,
        "complaint_probability": labels.get("complaint_probability"),
    }


class RegisterComplaintOpener:
    """Opens a record in state `received` for a complaint alert; implements alerts' ComplaintOpener protocol."""

    def __init__(self, engine: Engine, settings: ComplaintsSettings) -> None:
        self.engine = engine
        self.settings = settings

    def open_from_alert(self, *, mention: dict, alert_id: str, topic: str, rule: str) -> str:
        """The reference of the record for this mention: opened now, or the existing one (alert linked to it)."""
        mention_id = str(mention["id"])
        existing = self._existing(mention_id)
        if existing is None:
            try:
                return self._open(mention, mention_id, alert_id, topic, rule)
            except IntegrityError:
                existing = self._existing(mention_id)  # another worker opened it at the same moment
                if existing is None:
                    raise
        link_alert(self.engine, existing, alert_id, rule)
        return existing

    def _existing(self, mention_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(complaints.c.ref)
                .join(complaint_mentions, complaint_mentions.c.complaint_id == complaints.c.id)
                .where(complaint_mentions.c.mention_id == mention_id)
            ).scalar()

    def _open(self, mention: dict[str, Any], mention_id: str, alert_id: str, topic: str, rule: str) -> str:
        now = now_utc()
        fields = {
            **listening_fields(mention, self.settings.snapshot_max_chars, now),
            "description": _description(mention, self.settings.snapshot_max_chars),
            "topic": topic,
        }
        with self.engine.begin() as conn:
            # mention_id is the primary key of complaint_mentions: a concurrent second intake of the same mention
            # fails on that insert and rolls back whole (reference number included).
            record = create_record(
                conn,
                self.settings,
                fields,
                actor=SYSTEM_ACTOR,
                now=now,
                note=f"opened by alert {alert_id} (rule {rule}, topic {topic})",
            )
            conn.execute(
                sa.insert(complaint_mentions).values(mention_id=mention_id, complaint_id=record["id"], linked_at=now)
            )
            conn.execute(
                sa.insert(complaint_alerts).values(
                    complaint_id=record["id"], alert_id=alert_id, rule=rule, linked_at=now
                )
            )
        return record["ref"]


MANUAL_REQUIRED = ("channel", "description")
MANUAL_FIELDS = (
    "channel",
    "description",
    "complainant_ref",
    "complainant_name",
    "complainant_email",
    "complainant_phone",
    "immediate_action",
    "product_service",
    "category",
    "remedy_sought",
    "language",
    "topic",
    "source_url",
    "received_at",
)


# Longest value per manual field (the columns' sizes; the free texts follow limits.long_text_chars).
_SHORT_FIELDS = {
    "channel": 64,
    "complainant_ref": 300,
    "complainant_name": 300,
    "complainant_email": 300,
    "complainant_phone": 64,
    "product_service": 300,
    "category": 64,
    "topic": 200,
    "source_url": 2000,
    "received_at": 64,
    "language": 16,
}


def _check_sizes(clean: dict[str, Any], settings: ComplaintsSettings) -> None:
    for name, value in clean.items():
        limit = _SHORT_FIELDS.get(name, settings.limits.long_text_chars)
        if isinstance(value, str) and len(value) > limit:
            raise TransitionRefused("field-size", f"{name} is longer than {limit} characters ({len(value)})")


def _received_at(value: object, now: datetime, settings: ComplaintsSettings) -> datetime:
    """When the complaint arrived: not in the future, and not before limits.intake_max_age_days ago."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise TransitionRefused(
                "valid-value", "received_at must be an ISO date-time, e.g. 2026-03-02T09:30"
            ) from None
    if value and not isinstance(value, datetime):
        raise TransitionRefused("valid-value", "received_at must be an ISO date-time, e.g. 2026-03-02T09:30")
    received = utc(value) if isinstance(value, datetime) else now
    if received > now:
        raise TransitionRefused("valid-value", "received_at cannot be in the future")
    oldest = now - timedelta(days=settings.limits.intake_max_age_days)
    if received < oldest:
        raise TransitionRefused(
            "valid-value",
            f"received_at is more than {settings.limits.intake_max_age_days} days ago (the oldest "
            f"accepted is {oldest:%Y-%m-%d %H:%M} UTC; see limits.intake_max_age_days)",
        )
    return received


def open_manual(
    engine: Engine, settings: ComplaintsSettings, values: dict[str, Any], *, actor: str, now: datetime | None = None
) -> str:
    """Open a record for a complaint that arrived by another channel (e-mail, phone, letter...); returns its ref."""
    now = utc(now) or now_utc()
    clean = {k: (v.strip() if isinstance(v, str) else v) for k, v in values.items() if k in MANUAL_FIELDS}
    clean = {k: v for k, v in clean.items() if v not in (None, "")}
    unknown = sorted(set(values) - set(MANUAL_FIELDS))
    if unknown:
        raise TransitionRefused("known-field", f"manual intake takes no field {', '.join(unknown)}")
    for name in MANUAL_REQUIRED:
        if not clean.get(name):
            raise TransitionRefused("required-field", f"manual intake needs {name}")
    if clean["channel"] not in settings.manual_channels:
        raise TransitionRefused(
            "valid-value", f"channel must be one of {', '.join(settings.manual_channels)}, not {clean['channel']!r}"
        )
    if clean.get("category") and clean["category"] not in settings.categories:
        raise TransitionRefused("valid-value", f"category must be one of {', '.join(settings.categories)}")
    _check_sizes(clean, settings)
    if clean.get("complainant_email") and not EMAIL.match(clean["complainant_email"]):
        raise TransitionRefused(
            "valid-value", f"complainant_email is not an e-mail address: {clean['complainant_email']!r}"
        )
    clean["received_at"] = _received_at(clean.get("received_at"), now, settings)
    clean["language"] = str(clean.get("language") or "und").lower()
    if clean["language"] not in LANGUAGES:
        raise TransitionRefused(
            "valid-value",
            f"language must be an ISO 639-1 code such as en, fa or de (or und), not {clean['language'][:20]!r}",
        )
    clean["origin"] = "manual"
    with engine.begin() as conn:
        record = create_record(conn, settings, clean, actor=actor, now=now, note="manual intake")
    return record["ref"]
