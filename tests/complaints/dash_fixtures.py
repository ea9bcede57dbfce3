"""The web app with its listening dashboard: the session's real noida-db index with mentions of two topics
(hostile HTML, Persian, a near-duplicate pair), the real records database with a spike alert, a complaint alert
whose delivery is parked, and users of every role (comms included)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_alerts.model import AlertDraft
from earful_alerts.outbox import write_alert
from earful_alerts.tables import alert_attempts, alert_deliveries, alert_mention_hits
from earful_complaints.config import ComplaintsSettings
from tests.complaints.web_fixtures import HOSTILE, PASSWORDS, PERSIAN, ROLES, FakeClock, seed, serve, web_settings

COMMS = {"cora": "cora-password-1"}


@dataclass
class DashApp:
    url: str
    engine: Engine
    settings: ComplaintsSettings
    es: Any
    alias: str
    labels_dir: Path
    now: datetime
    spike_id: str
    parked_id: str


def _doc(n: int, at: datetime, topic: str, text: str, **extra: Any) -> dict[str, Any]:
    sentiment = extra.pop("sentiment", ("negative", "neutral", "positive")[n % 3])
    return {
        "_id": f"dm{n:04d}",
        "source_kind": "reddit" if n % 2 else "rss",
        "source": "reddit:acme" if n % 2 else "rss:news",
        "native_id": f"n{n}",
        "url": f"https://example.org/post/{n}",
        "title": "",
        "text": text,
        "author_ref": f"{n:016x}",
        "published_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fetched_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reach": 100 + n * 10,
        "language": extra.pop("language", "en"),
        "topics": [topic],
        "labels": {
            "sentiment": sentiment,
            "sentiment_scores": {"negative": 0.7 if sentiment == "negative" else 0.1, "neutral": 0.2, "positive": 0.1},
            "complaint": sentiment == "negative",
            "complaint_probability": 0.9 if sentiment == "negative" else 0.1,
            "model": "earful-heads",
            "model_version": "3",
        },
        **extra,
    }


def mention_docs(now: datetime) -> list[dict[str, Any]]:
    """60 ordinary mentions over 6 days, a burst of 20 in the hour before `now`, and the special ones."""
    docs = [
        _doc(i, now - timedelta(hours=2 + i * 2.4), "acme" if i % 3 else "rival", f"acme kettle review {i}")
        for i in range(60)
    ]
    docs += [
        _doc(100 + i, now - timedelta(minutes=5 + i * 2), "acme", f"acme kettle broke again {i}", sentiment="negative")
        for i in range(20)
    ]
    docs.append(_doc(200, now - timedelta(hours=3), "acme", HOSTILE, sentiment="negative"))
    docs.append(_doc(201, now - timedelta(hours=4), "acme", PERSIAN, language="fa", sentiment="negative"))
    docs.append(_doc(202, now - timedelta(hours=5), "acme", "acme support never answers my refund request"))
    docs.append(
        _doc(
            203,
            now - timedelta(hours=5, minutes=1),
            "acme",
            "acme support never answers my refund request!",
            duplicate_of="dm0202",
        )
    )
    return docs


def index_docs(es: Any, alias: str, docs: list[dict[str, Any]]) -> None:
    from elasticsearch import helpers

    from earful_indexer.config import IndexSettings
    from earful_indexer.template import ensure_index

    ensure_index(es, IndexSettings(alias=alias))
    actions = ({"_index": alias, "_id": d["_id"], "_source": {k: v for k, v in d.items() if k != "_id"}} for d in docs)
    helpers.bulk(es, actions)
    es.indices.refresh(index=alias)


def seed_alerts(engine: Engine, now: datetime) -> tuple[str, str]:
    """A volume spike on acme in the last hour (sent), and a complaint alert on dm0201 whose e-mail is parked."""
    window = now.replace(minute=0, second=0, microsecond=0)
    spike = AlertDraft(
        kind="volume_spike",
        rule="volume",
        dedup_key=f"volume:acme:{window:%Y%m%dT%H}",
        severity="warning",
        title="Mention volume spike · acme",
        summary="21 mentions in the hour (usual 0.4)",
        topic="acme",
        details={
            "reason": "21 mentions in the hour, usual 0.4 (p < 0.001)",
            "numbers": {"count": 21, "baseline_mean": 0.4},
            "examples": [{"id": "dm0100", "title": "", "text": "acme kettle broke again 0"}],
            "window": [window.isoformat(), (window + timedelta(hours=1)).isoformat()],
            "incident_started_at": window.isoformat(),
        },
    )
    complaint = AlertDraft(
        kind="complaint",
        rule="complaints",
        dedup_key="complaints:dm0201",
        severity="warning",
        title="Complaint detected · acme: سفارش من خراب رسید",
        summary="complaint probability 0.90 ≥ 0.80",
        topic="acme",
        details={"reason": "complaint probability 0.90 ≥ 0.80", "mention_ids": ["dm0201"], "examples": []},
    )
    with engine.begin() as conn:
        spike_id, _ = write_alert(conn, spike, now)
        parked_id, _ = write_alert(conn, complaint, now)
        for alert_id, status, attempts in ((spike_id, "sent", 1), (parked_id, "parked", 5)):
            conn.execute(
                sa.insert(alert_deliveries).values(
                    alert_id=alert_id,
                    channel="comms-email",
                    mode="immediate",
                    status=status,
                    attempts=attempts,
                    next_attempt_at=now,
                    last_error=None if status == "sent" else "SMTP 451 try again later",
                    created_at=now,
                    sent_at=now if status == "sent" else None,
                )
            )
        delivery = conn.execute(
            sa.select(alert_deliveries.c.id).where(alert_deliveries.c.alert_id == parked_id)
        ).scalar()
        conn.execute(
            sa.insert(alert_attempts).values(
                delivery_id=delivery,
                at=now,
                ok=False,
                status_code=451,
                error="SMTP 451 try again later",
                duration_ms=40,
            )
        )
        conn.execute(
            sa.insert(alert_mention_hits).values(
                rule="complaints",
                mention_id="dm0201",
                alert_id=parked_id,
                at=now,
                topic="acme",
                complaint_pending=False,
            )
        )
    return spike_id, parked_id


def add_comms(engine: Engine) -> None:
    from argon2 import PasswordHasher

    from earful_complaints.tables import complaint_users

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(complaint_users).values(
                username="cora",
                password_hash=PasswordHasher().hash(COMMS["cora"]),
                role="comms",
                active=True,
                created_at=now,
                updated_at=now,
            )
        )


PASSWORDS_ALL = {**PASSWORDS, **COMMS}
ROLES_ALL = {**ROLES, "cora": "comms"}


@contextmanager
def running_dashboard(engine: Engine, settings: ComplaintsSettings, es_url: str, tmp_path: Path) -> Iterator[DashApp]:
    """The whole web app (register and dashboard) on 127.0.0.1 with the seeded index, alerts and users."""
    from earful_complaints.web.app import create_app
    from earful_complaints.web.dash_deps import DashboardIndex
    from earful_indexer.client import make_client
    from earful_indexer.config import IndexSettings

    alias = f"dash-{uuid.uuid4().hex[:8]}"
    es = make_client(IndexSettings(alias=alias), es_url)
    now = datetime.now(UTC).replace(microsecond=0)
    index_docs(es, alias, mention_docs(now))
    spike_id, parked_id = seed_alerts(engine, now)
    labels_dir = tmp_path / "labels"
    settings = web_settings(settings)
    seed(engine, settings)  # users of every role and a few records
    add_comms(engine)
    dashboard = DashboardIndex(es=es, alias=alias, labels_dir=labels_dir, topics=["acme", "rival", "quiet"])
    try:
        with serve(create_app(engine, settings, clock=FakeClock(), dashboard=dashboard)) as url:
            yield DashApp(url, engine, settings, es, alias, labels_dir, now, spike_id, parked_id)
    finally:
        es.close()
