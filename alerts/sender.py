"""The outbox sender: route new alerts, collect digests, deliver due deliveries with retries, park the hopeless.

Delivery is at-least-once at the transport level and exactly-once in practice: a delivery is claimed with a lease
before sending and marked sent right after; only a crash in the instant between the receiver's answer and the
commit can re-send, and then receivers can drop the duplicate by `X-Earful-Alert-Id` / e-mail Message-ID.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_alerts.channels.base import Channel, Outcome
from earful_alerts.config import AlertsSettings, SenderSettings
from earful_alerts.message import AlertMessage
from earful_alerts.model import AlertDraft
from earful_alerts.outbox import write_alert
from earful_alerts.routing import route
from earful_alerts.tables import alert_attempts, alert_deliveries, alerts
from earful_common.processes import owner_token, token_owner_gone

LEASE = timedelta(minutes=5)  # a claimed delivery whose sender died (on another host) becomes due again after this


@dataclass
class SendReport:
    """What one sender run did."""

    routed: int = 0
    digests: int = 0
    sent: int = 0
    failed: int = 0  # failed this time, will be retried
    parked: int = 0  # gave up; needs `earful alerts retry`
    recovered: int = 0  # left "sending" by a sender that was killed; due again
    skipped_channels: list[str] = field(default_factory=list)


def route_new_alerts(engine: Engine, settings: AlertsSettings, now: datetime) -> int:
    """Create the deliveries of every alert not yet routed (new ones, and escalated ones)."""
    count = 0
    with engine.begin() as conn:
        rows = conn.execute(sa.select(alerts).where(alerts.c.routed_at.is_(None))).mappings().all()
        for row in rows:
            for d in route(
                settings, topic=row["topic"], rule=row["rule"], kind=row["kind"], severity=row["severity"], now=now
            ):
                existing = conn.execute(
                    sa.select(alert_deliveries.c.id).where(
                        alert_deliveries.c.alert_id == row["id"], alert_deliveries.c.channel == d.channel
                    )
                ).first()
                values = {
                    "mode": "digest" if d.digest else "immediate",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": d.due,
                    "last_error": None,
                    "digest_alert_id": None,
                }
                if existing is None:
                    conn.execute(
                        sa.insert(alert_deliveries).values(
                            alert_id=row["id"], channel=d.channel, created_at=now, **values
                        )
                    )
                else:  # escalation: tell this channel again
                    conn.execute(
                        sa.update(alert_deliveries).where(alert_deliveries.c.id == existing.id).values(**values)
                    )
            conn.execute(sa.update(alerts).where(alerts.c.id == row["id"]).values(routed_at=now))
            count += 1
    return count


def collect_digests(engine: Engine, now: datetime) -> int:
    """Fold the held deliveries that are due into one digest alert per channel (one transaction)."""
    made = 0
    with engine.begin() as conn:
        held = conn.execute(
            sa.select(alert_deliveries.c.id, alert_deliveries.c.channel, alert_deliveries.c.alert_id)
            .where(
                alert_deliveries.c.mode == "digest",
                alert_deliveries.c.status == "pending",
                alert_deliveries.c.next_attempt_at <= now,
            )
            .order_by(alert_deliveries.c.id)
        ).all()
        by_channel: dict[str, list] = defaultdict(list)
        for row in held:
            by_channel[row.channel].append(row)
        for channel, rows in by_channel.items():
            items = conn.execute(
                sa.select(alerts.c.id, alerts.c.severity).where(alerts.c.id.in_([r.alert_id for r in rows]))
            ).all()
            worst = max((i.severity for i in items), key=("info", "warning", "critical").index)
            draft = AlertDraft(
                kind="digest",
                rule="digest",
                dedup_key=f"digest:{channel}:{rows[0].id}",
                severity=worst,
                title=f"Digest: {len(rows)} alert{'s' if len(rows) != 1 else ''}",
                summary=f"{len(rows)} alert{'s' if len(rows) != 1 else ''} held for this channel's digest.",
                details={"alert_ids": [r.alert_id for r in rows]},
            )
            digest_id, _ = write_alert(conn, draft, now)
            conn.execute(sa.update(alerts).where(alerts.c.id == digest_id).values(routed_at=now))
            conn.execute(
                sa.insert(alert_deliveries).values(
                    alert_id=digest_id,
                    channel=channel,
                    mode="digest_message",
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            conn.execute(
                sa.update(alert_deliveries)
                .where(alert_deliveries.c.id.in_([r.id for r in rows]))
                .values(status="digested", digest_alert_id=digest_id)
            )
            made += 1
    return made


def load_message(engine: Engine, alert_id: str) -> AlertMessage:
    """The message for an alert id; a digest comes with its items."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id)).mappings().one()
        items: list[AlertMessage] = []
        if row["kind"] == "digest":
            ids = list(row["details"].get("alert_ids", []))
            rows = conn.execute(sa.select(alerts).where(alerts.c.id.in_(ids))).mappings().all()
            order = {aid: i for i, aid in enumerate(ids)}
            items = [AlertMessage.from_row(r) for r in sorted(rows, key=lambda r: order[r["id"]])]
    return AlertMessage.from_row(row, items)


def backoff_delay(policy: SenderSettings, attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff after the n-th failed attempt; a receiver's Retry-After wins when longer."""
    delay = min(policy.backoff * (2 ** max(0, attempts - 1)), policy.max_backoff)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def _claim(engine: Engine, delivery_id: int, now: datetime) -> bool:
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(alert_deliveries)
            .where(
                alert_deliveries.c.id == delivery_id,
                alert_deliveries.c.status.in_(("pending", "sending")),
                alert_deliveries.c.next_attempt_at <= now,
            )
            .values(status="sending", next_attempt_at=now + LEASE, claimed_by=owner_token(os.getpid()))
        )
    return claimed.rowcount == 1


def recover_abandoned(engine: Engine, policy: SenderSettings, now: datetime) -> int:
    """Deliveries whose sender process ended while sending (killed, crashed) are due again at once: on this host
    that is known from the claimant's pid and start time, so they do not wait out the lease. The lost attempt
    counts (and is logged), so a delivery that keeps killing its sender is parked in the end. Returns how many.

    The attempt may or may not have reached the receiver; receivers drop a repeat by alert id / Message-ID."""
    with engine.begin() as conn:
        sending = conn.execute(sa.select(alert_deliveries).where(alert_deliveries.c.status == "sending")).all()
        gone = [row for row in sending if token_owner_gone(row.claimed_by)]
        for row in gone:
            error = f"the sending process (pid {row.claimed_by.split(':')[-2]}) ended before recording the outcome"
            attempts = row.attempts + 1
            status = "parked" if attempts >= policy.max_attempts else "pending"
            changed = conn.execute(
                sa.update(alert_deliveries)
                .where(
                    alert_deliveries.c.id == row.id,
                    alert_deliveries.c.status == "sending",
                    alert_deliveries.c.claimed_by == row.claimed_by,
                )
                .values(status=status, attempts=attempts, next_attempt_at=now, claimed_by=None, last_error=error)
            )
            if changed.rowcount:
                conn.execute(
                    sa.insert(alert_attempts).values(
                        delivery_id=row.id, at=now, ok=False, status_code=None, error=error, duration_ms=0
                    )
                )
    return len(gone)


def _record(
    engine: Engine, delivery: sa.Row, outcome: Outcome, policy: SenderSettings, now: datetime, duration_ms: int
) -> str:
    attempts = delivery.attempts + 1
    if outcome.ok:
        values = {"status": "sent", "sent_at": now, "attempts": attempts, "last_error": None, "claimed_by": None}
    elif outcome.permanent or attempts >= policy.max_attempts:
        values = {"status": "parked", "attempts": attempts, "last_error": outcome.error, "claimed_by": None}
    else:
        values = {
            "status": "pending",
            "attempts": attempts,
            "last_error": outcome.error,
            "claimed_by": None,
            "next_attempt_at": now + backoff_delay(policy, attempts, outcome.retry_after),
        }
    with engine.begin() as conn:
        conn.execute(
            sa.insert(alert_attempts).values(
                delivery_id=delivery.id,
                at=now,
                ok=outcome.ok,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=duration_ms,
            )
        )
        conn.execute(sa.update(alert_deliveries).where(alert_deliveries.c.id == delivery.id).values(**values))
    return values["status"]


def send_due(
    engine: Engine, channels: dict[str, Channel], policy: SenderSettings, now: datetime, report: SendReport
) -> None:
    """Attempt every due delivery once. A channel that fails temporarily is skipped for the rest of this run
    (a hanging receiver costs one timeout, not one per alert)."""
    with engine.connect() as conn:
        due = conn.execute(
            sa.select(alert_deliveries)
            .where(
                alert_deliveries.c.status.in_(("pending", "sending")),
                alert_deliveries.c.mode.in_(("immediate", "digest_message")),
                alert_deliveries.c.next_attempt_at <= now,
            )
            .order_by(alert_deliveries.c.next_attempt_at, alert_deliveries.c.id)
            .limit(policy.max_per_run)
        ).all()
    broken: set[str] = set()
    for delivery in due:
        if delivery.channel in broken:
            continue
        channel = channels.get(delivery.channel)
        if not _claim(engine, delivery.id, now):
            continue  # another sender took it
        started = time.monotonic()
        if channel is None:
            outcome = Outcome(ok=False, error=f"channel {delivery.channel} is not configured", permanent=True)
        else:
            try:
                outcome = channel.send(load_message(engine, delivery.alert_id))
            except Exception as exc:  # noqa: BLE001 - a channel bug must not lose the alert: record it and retry later
                outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {str(exc)[:200]}")
        status = _record(engine, delivery, outcome, policy, now, int((time.monotonic() - started) * 1000))
        if status == "sent":
            report.sent += 1
        elif status == "parked":
            report.parked += 1
        else:
            report.failed += 1
            broken.add(delivery.channel)
    report.skipped_channels = sorted(broken)


def deliver_pending(
    engine: Engine, settings: AlertsSettings, channels: dict[str, Channel], now: datetime | None = None
) -> SendReport:
    """One sender run: recover deliveries a killed sender left, route new alerts, collect due digests, send what
    is due."""
    now = now or datetime.now(UTC)
    report = SendReport()
    report.recovered = recover_abandoned(engine, settings.sender, now)
    report.routed = route_new_alerts(engine, settings, now)
    report.digests = collect_digests(engine, now)
    send_due(engine, channels, settings.sender, now, report)
    return report


def retry_parked(engine: Engine, alert_id: str | None = None, now: datetime | None = None) -> int:
    """Make parked deliveries (of one alert, or all) due again with a fresh attempt budget; returns how many."""
    now = now or datetime.now(UTC)
    stmt = sa.update(alert_deliveries).where(alert_deliveries.c.status == "parked")
    if alert_id is not None:
        stmt = stmt.where(alert_deliveries.c.alert_id == alert_id)
    with engine.begin() as conn:
        return conn.execute(stmt.values(status="pending", attempts=0, next_attempt_at=now)).rowcount
