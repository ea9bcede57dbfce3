"""Routing: which channels hear about an alert, now or in a digest (the ISO 9001 7.4 communication matrix)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from earful_alerts.config import AlertsSettings, QuietHours, _ChannelBase, severity_rank


@dataclass(frozen=True)
class Delivery:
    """One routed delivery: to `channel`, immediately or held for a digest until `due`."""

    channel: str
    digest: bool
    due: datetime


def _matches(values: list[str], *candidates: str | None) -> bool:
    return "*" in values or any(c is not None and c in values for c in candidates)


def in_quiet_hours(quiet: QuietHours, now: datetime) -> bool:
    """True when `now` falls in the daily quiet period (which may span midnight)."""
    local = now.astimezone(ZoneInfo(quiet.timezone)).time()
    if quiet.start <= quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def _next_local(at: time, zone: str, now: datetime) -> datetime:
    """The next moment (after now) when the local clock of `zone` shows `at`."""
    tz = ZoneInfo(zone)
    local_now = now.astimezone(tz)
    candidate = datetime.combine(local_now.date(), at, tzinfo=tz)
    if candidate <= local_now:
        candidate = datetime.combine(local_now.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate.astimezone(UTC)


def digest_due(channel: _ChannelBase, now: datetime, quiet: bool) -> datetime:
    """When a held alert goes out: the channel's next digest time, and not before its quiet hours end."""
    if channel.digest == "hourly":
        due = (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
    elif channel.digest == "daily":
        zone = channel.quiet_hours.timezone if channel.quiet_hours else "UTC"
        due = _next_local(channel.digest_at, zone, now)
    else:
        due = now
    if quiet and channel.quiet_hours is not None:
        due = max(due, _next_local(channel.quiet_hours.end, channel.quiet_hours.timezone, now))
    return due


def route(
    settings: AlertsSettings, *, topic: str | None, rule: str, kind: str, severity: str, now: datetime
) -> list[Delivery]:
    """The deliveries of an alert: every matching route's channels; an immediate route wins over a digest one."""
    wanted: dict[str, bool] = {}  # channel -> digest requested by every matching route
    for r in settings.routes:
        if severity_rank(severity) < severity_rank(r.min_severity):
            continue
        if not _matches(r.topics, topic) or not _matches(r.rules, rule, kind):
            continue
        for channel in r.channels:
            wanted[channel] = wanted.get(channel, True) and r.digest
    deliveries = []
    for name, route_digest in wanted.items():
        target = settings.channels[name]
        quiet = (
            target.quiet_hours is not None
            and in_quiet_hours(target.quiet_hours, now)
            and severity_rank(severity) < severity_rank(target.quiet_hours.bypass_severity)
        )
        # critical alerts skip the channel's digest (not a route's explicit digest, nor quiet hours' own bypass rule)
        digest = route_digest or quiet or (target.digest != "none" and severity != "critical")
        deliveries.append(Delivery(name, digest, digest_due(target, now, quiet) if digest else now))
    return deliveries
