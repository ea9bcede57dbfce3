"""Fixtures of the complaint register tests; the records databases (`engine` on SQLite and, when available,
PostgreSQL; `sqlite_engine`) are the shared ones of tests/conftest.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.config import ComplaintsSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def settings() -> ComplaintsSettings:
    return ComplaintsSettings()


def make_mention(n: int, text: str = "My order arrived broken and nobody answers.", **extra) -> dict:
    """A mention document as the alerts package hands it over (written for tests, no real post)."""
    return {
        "id": f"m{n:04d}",
        "source_kind": "reddit",
        "source": "reddit:acme",
        "native_id": f"t3_{n}",
        "url": f"https://reddit.example/r/acme/{n}",
        "title": "",
        "text": text,
        "author_ref": f"a{n:03d}",
        "published_at": "2026-03-02T08:00:00Z",
        "fetched_at": "2026-03-02T08:05:00Z",
        "language": "en",
        "topics": ["acme"],
        "reach": 120,
        "engagement": {"score": 3},
        "labels": {
            "sentiment": "negative",
            "sentiment_scores": {"negative": 0.9},
            "complaint": "yes",
            "complaint_probability": 0.93,
            "model": "earful-heads",
            "model_version": "1",
        },
        **extra,
    }


# The happy path, step by step: (action, actor, values).
HAPPY_PATH = [
    ("acknowledge", "dana", {"ack_channel": "public_reply", "ack_text": "Sorry to hear that, we are on it."}),
    (
        "assess",
        "dana",
        {
            "severity": "high",
            "impact": "medium",
            "complexity": "low",
            "urgency": "high",
            "category": "product",
            "product_service": "kettle K2",
        },
    ),
    ("assign", "dana", {"investigator": "ivan"}),
    (
        "investigate",
        "ivan",
        {"root_cause": "packaging", "evidence": "photos from the courier", "investigation_depth": "full"},
    ),
    ("decide", "dana", {"decision": "Replace the kettle.", "resolution": "Free replacement"}),
    (
        "communicate",
        "dana",
        {"communicated_channel": "direct_message", "communication_text": "A new one is on its way."},
    ),
    ("close", "dana", {"closure_reason": "Replacement delivered", "complainant_accepted": "yes"}),
]


def open_one(engine: Engine, settings: ComplaintsSettings, n: int = 1, **mention_extra) -> str:
    """Open a record from a (test) complaint alert; returns its reference."""
    from earful_complaints.intake import RegisterComplaintOpener

    return RegisterComplaintOpener(engine, settings).open_from_alert(
        mention=make_mention(n, **mention_extra), alert_id=f"alert-{n}", topic="acme", rule="complaint_detected"
    )


STAFF = {"dana": "quality", "ivan": "quality", "erik": "quality"}


def ensure_staff(engine: Engine, names: dict[str, str] = STAFF) -> None:
    """Register the people of the happy path (owners and investigators must be registered users)."""
    from earful_complaints.tables import complaint_users

    now = datetime.now(UTC)
    with engine.begin() as conn:
        known = set(conn.execute(sa.select(complaint_users.c.username)).scalars())
        rows = [
            {
                "username": n,
                "password_hash": "not-a-hash",
                "role": r,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for n, r in names.items()
            if n not in known
        ]
        if rows:
            conn.execute(sa.insert(complaint_users), rows)


def work_to(engine: Engine, settings: ComplaintsSettings, ref: str, steps: int) -> None:
    """Apply the first `steps` steps of the happy path."""
    from earful_complaints.register import apply_action

    ensure_staff(engine)
    for action, actor, values in HAPPY_PATH[:steps]:
        apply_action(engine, settings, ref, action, values, actor=actor)
