"""The outbox sender: exactly one delivery per alert and channel, retries with backoff, parking, digests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from earful_alerts.api import raise_alert
from earful_alerts.channels.http import WebhookChannel
from earful_alerts.config import AlertsSettings
from earful_alerts.routing import in_quiet_hours, route
from earful_alerts.sender import deliver_pending, retry_parked
from earful_alerts.tables import alert_attempts, alert_deliveries

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def settings_for(url: str, **extra) -> AlertsSettings:
    data = {
        "channels": {"hook": {"type": "webhook", "url": url}},
        "routes": [{"channels": ["hook"]}],
        "sender": {"max_attempts": 3, "backoff": "30s", "max_backoff": "10m"},
    }
    data.update(extra)
    return AlertsSettings.model_validate(data)


def channels_for(settings: AlertsSettings, url: str, timeout: float = 1.0):
    return {"hook": WebhookChannel("hook", SecretStr(url), None, timeout)}


def raise_one(engine, key="k1", severity="warning", now=T0, topic="acme"):
    return raise_alert(
        engine, kind="test", dedup_key=key, severity=severity, title=f"t {key}", summary="s", topic=topic, now=now
    )


def deliveries(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(alert_deliveries).order_by(alert_deliveries.c.id)).mappings().all()


def test_decided_alert_is_sent_once_even_after_a_crash_before_sending(engine, receiver):
    settings = settings_for(receiver.url)
    alert_id = raise_one(engine)  # the batch decided, then "crashed" before the sender ran
    raise_one(engine)  # re-running the batch decides the same incident again: no second alert
    report = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=T0)
    assert (report.routed, report.sent) == (1, 1)
    again = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=T0 + timedelta(hours=1))
    assert (again.routed, again.sent) == (0, 0)
    assert len(receiver.requests) == 1 and receiver.requests[0].headers["x-earful-alert-id"] == alert_id


def test_429_retry_after_then_success(engine, receiver):
    settings = settings_for(receiver.url)
    receiver.answer((429, {"Retry-After": "300"}, 0), (200, {}, 0))
    raise_one(engine)
    first = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=T0)
    assert first.failed == 1
    row = deliveries(engine)[0]
    assert row["status"] == "pending" and row["next_attempt_at"] == T0 + timedelta(seconds=300)
    early = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=T0 + timedelta(seconds=60))
    assert early.sent == 0 and len(receiver.requests) == 1  # Retry-After respected (longer than our backoff)
    later = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=T0 + timedelta(seconds=301))
    assert later.sent == 1
    with engine.connect() as conn:
        attempts = conn.execute(
            sa.select(alert_attempts.c.ok, alert_attempts.c.status_code).order_by(alert_attempts.c.id)
        ).all()
    assert [tuple(a) for a in attempts] == [(False, 429), (True, 200)]


def test_keeps_failing_then_parked_then_retried_by_hand(engine, receiver):
    settings = settings_for(receiver.url)
    receiver.answer((500, {}, 0))
    alert_id = raise_one(engine)
    now = T0
    statuses = []
    for _ in range(3):
        deliver_pending(engine, settings, channels_for(settings, receiver.url), now=now)
        row = deliveries(engine)[0]
        statuses.append(row["status"])
        if row["status"] == "pending":
            assert row["next_attempt_at"] - now in (timedelta(seconds=30), timedelta(seconds=60))
        now = row["next_attempt_at"]
    assert statuses == ["pending", "pending", "parked"]
    assert (
        deliver_pending(engine, settings, channels_for(settings, receiver.url), now=now + timedelta(days=1)).sent == 0
    )
    assert retry_parked(engine, alert_id, now=now) == 1
    receiver.answer((200, {}, 0))
    assert deliver_pending(engine, settings, channels_for(settings, receiver.url), now=now).sent == 1
    assert deliveries(engine)[0]["status"] == "sent"


def test_permanent_error_parks_at_once(engine, receiver):
    settings = settings_for(receiver.url)
    receiver.answer((404, {}, 0))
    raise_one(engine)
    report = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=T0)
    assert report.parked == 1 and deliveries(engine)[0]["last_error"].startswith("HTTP 404")


def test_hanging_channel_costs_one_timeout_per_run(sqlite_engine, receiver):
    settings = settings_for(receiver.url)
    receiver.answer((200, {}, 3.0))  # answers long after the tiny timeout below: the sender does not wait for it
    for i in range(4):
        raise_one(sqlite_engine, key=f"k{i}")
    report = deliver_pending(sqlite_engine, settings, channels_for(settings, receiver.url, timeout=0.05), now=T0)
    assert report.failed == 1 and report.sent == 0 and report.skipped_channels == ["hook"]
    assert len(receiver.requests) == 1
    assert [d["attempts"] for d in deliveries(sqlite_engine)] == [1, 0, 0, 0]


def test_a_channel_that_raises_does_not_lose_the_alert(sqlite_engine):
    class Broken:
        name = "hook"

        def send(self, message):
            raise RuntimeError("bug in channel")

    settings = settings_for("http://127.0.0.1:9/x")
    raise_one(sqlite_engine)
    report = deliver_pending(sqlite_engine, settings, {"hook": Broken()}, now=T0)
    assert report.failed == 1 and deliveries(sqlite_engine)[0]["last_error"] == "RuntimeError: bug in channel"


def test_escalation_is_routed_again(sqlite_engine, receiver):
    settings = settings_for(receiver.url)
    raise_one(sqlite_engine, severity="warning")
    deliver_pending(sqlite_engine, settings, channels_for(settings, receiver.url), now=T0)
    raise_one(sqlite_engine, severity="warning")  # same incident, same severity: silent update
    deliver_pending(sqlite_engine, settings, channels_for(settings, receiver.url), now=T0)
    raise_one(sqlite_engine, severity="critical")
    deliver_pending(sqlite_engine, settings, channels_for(settings, receiver.url), now=T0)
    assert [r.json()["severity"] for r in receiver.requests] == ["warning", "critical"]


def test_quiet_hours_hold_alerts_for_a_digest_but_not_critical_ones(engine, receiver):
    settings = settings_for(
        receiver.url,
        channels={
            "hook": {
                "type": "webhook",
                "url": receiver.url,
                "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"},
            }
        },
    )
    night = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    raise_one(engine, key="a", now=night)
    raise_one(engine, key="b", now=night)
    raise_one(engine, key="c", severity="critical", now=night)
    report = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=night)
    assert report.sent == 1 and receiver.requests[0].json()["severity"] == "critical"
    morning = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    report = deliver_pending(engine, settings, channels_for(settings, receiver.url), now=morning)
    assert report.digests == 1 and report.sent == 1
    digest = receiver.requests[1].json()
    assert digest["kind"] == "digest" and sorted(i["title"] for i in digest["items"]) == ["t a", "t b"]
    assert deliver_pending(engine, settings, channels_for(settings, receiver.url), now=morning).sent == 0


def test_hourly_digest_channel(sqlite_engine, receiver):
    settings = settings_for(
        receiver.url, channels={"hook": {"type": "webhook", "url": receiver.url, "digest": "hourly"}}
    )
    for i in range(5):
        raise_one(sqlite_engine, key=f"k{i}", now=T0 + timedelta(minutes=10 * i))
    chans = channels_for(settings, receiver.url)
    assert deliver_pending(sqlite_engine, settings, chans, now=T0 + timedelta(minutes=45)).sent == 0
    report = deliver_pending(sqlite_engine, settings, chans, now=T0 + timedelta(hours=1))
    assert (report.digests, report.sent) == (1, 1)
    assert len(receiver.requests[0].json()["items"]) == 5


def test_routing_table_by_topic_rule_and_severity():
    settings = AlertsSettings.model_validate(
        {
            "channels": {"console": {"type": "console"}, "pr": {"type": "slack"}, "quality": {"type": "email"}},
            "routes": [
                {"channels": ["console"]},
                {"topics": ["acme"], "min_severity": "warning", "channels": ["pr"]},
                {"rules": ["complaints", "complaint_overdue"], "channels": ["quality"], "digest": True},
            ],
        }
    )

    def names(**kw):
        return {(d.channel, d.digest) for d in route(settings, now=T0, **kw)}

    assert names(topic="acme", rule="spike", kind="volume_spike", severity="info") == {("console", False)}
    assert names(topic="acme", rule="spike", kind="volume_spike", severity="warning") == {
        ("console", False),
        ("pr", False),
    }
    assert names(topic="other", rule="x", kind="complaint_overdue", severity="critical") == {
        ("console", False),
        ("quality", True),
    }


def test_quiet_hours_across_midnight():
    from earful_alerts.config import QuietHours

    quiet = QuietHours(start="22:00", end="07:00", timezone="UTC")
    assert in_quiet_hours(quiet, datetime(2026, 1, 1, 23, 0, tzinfo=UTC))
    assert in_quiet_hours(quiet, datetime(2026, 1, 1, 6, 59, tzinfo=UTC))
    assert not in_quiet_hours(quiet, datetime(2026, 1, 1, 7, 0, tzinfo=UTC))


def test_config_rejects_unknown_channel_and_keys():
    with pytest.raises(ValueError, match="unknown channel"):
        AlertsSettings.model_validate({"routes": [{"channels": ["nope"]}]})
    with pytest.raises(ValueError):
        AlertsSettings.model_validate({"channels": {"x": {"type": "slack", "colour": "red"}}})


def test_raise_alert_validates(sqlite_engine):
    with pytest.raises(ValueError, match="severity"):
        raise_alert(sqlite_engine, kind="x", dedup_key="k", severity="urgent", title="t", summary="s")
