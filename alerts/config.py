"""Configuration of alerts: channels, routing table, quiet hours, digests, rules and the sender's retry policy.

Secrets (webhook URLs, HMAC keys, SMTP passwords) are `SecretStr`, meant to come from the environment, e.g.
`EARFUL_ALERTS__CHANNELS__COMMS_SLACK__URL=https://hooks.slack.com/...`; they are never printed.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator, model_validator

from earful_listeners.config import require_unique_names

SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: object) -> object:
    """Accept '30s', '15m', '1h', '2d', '1w' or a number of seconds; leave timedeltas and ISO strings to pydantic."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ChannelName = Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]


def severity_rank(severity: str) -> int:
    """info < warning < critical."""
    return SEVERITIES.index(severity)


class QuietHours(BaseModel):
    """A daily quiet period of a channel: alerts below `bypass_severity` wait for the digest sent when it ends."""

    model_config = ConfigDict(extra="forbid")

    start: time
    end: time
    timezone: str = "UTC"
    bypass_severity: Severity = "critical"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)") from None
        return value


class _ChannelBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: Literal["none", "hourly", "daily"] = Field(
        default="none", description="Collect routed alerts into one message per hour/day instead of one each."
    )
    digest_at: time = Field(default=time(8, 0), description="Local time of the daily digest.")
    quiet_hours: QuietHours | None = None
    timeout: float = Field(default=10.0, gt=0, description="Seconds before a delivery attempt is abandoned.")


class ConsoleChannel(_ChannelBase):
    """Print alerts on the console of the batch (the demo default; needs no credentials)."""

    type: Literal["console"] = "console"


class SlackChannel(_ChannelBase):
    """Slack incoming webhook."""

    type: Literal["slack"]
    url: SecretStr | None = None
    mention_channel: bool = Field(default=False, description="Prefix critical alerts with <!channel> (our own ping).")


class TeamsChannel(_ChannelBase):
    """Microsoft Teams Workflows webhook ("When a Teams webhook request is received"), posting an Adaptive Card."""

    type: Literal["teams"]
    url: SecretStr | None = None


class WebhookChannel(_ChannelBase):
    """Generic JSON webhook; the body is signed with HMAC-SHA256 when a secret is set."""

    type: Literal["webhook"]
    url: SecretStr | None = None
    secret: SecretStr | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    max_body_bytes: int = Field(default=256_000, ge=4096, description="Larger alerts lose items, then details.")


class EmailChannel(_ChannelBase):
    """E-mail over SMTP: STARTTLS or implicit TLS, optional login; plain-text and HTML bodies."""

    type: Literal["email"]
    host: str = "localhost"
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "earful@localhost"
    to: list[str] = Field(default_factory=list)
    subject_prefix: str = "[earful]"

    @model_validator(mode="after")
    def _login_pair(self) -> EmailChannel:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password' for SMTP login, or neither")
        return self


class AppriseChannel(_ChannelBase):
    """Any other service apprise knows (Discord, Telegram, Matrix, ...), by apprise URL; success/failure only."""

    type: Literal["apprise"]
    url: SecretStr | None = None


ChannelSettings = Annotated[
    ConsoleChannel | SlackChannel | TeamsChannel | WebhookChannel | EmailChannel | AppriseChannel,
    Field(discriminator="type"),
]


class RouteSettings(BaseModel):
    """One row of the routing table (ISO 9001 7.4: who is told what, when, through which channel)."""

    model_config = ConfigDict(extra="forbid")

    topics: list[str] = Field(default_factory=lambda: ["*"], description="Topic names, or '*' for any.")
    rules: list[str] = Field(default_factory=lambda: ["*"], description="Rule names or alert kinds, or '*'.")
    min_severity: Severity = "info"
    channels: list[ChannelName] = Field(min_length=1)
    digest: bool = Field(default=False, description="Always send these through the channel's digest.")


class _RuleBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    topics: list[str] = Field(default_factory=lambda: ["*"])
    severity: Severity = "warning"
    cooldown: Duration = Field(
        default=timedelta(0),
        description="After an alert of this rule and topic, fold further hits into it for this long.",
    )
    examples: int = Field(default=3, ge=0, le=20, description="Example mentions carried by the alert.")
    open_complaint: bool = False


class ComplaintRule(_RuleBase):
    """A mention the classifier marks as a complaint with probability at or above `min_probability`."""

    type: Literal["complaint"]
    min_probability: float = Field(default=0.8, ge=0, le=1)


class HighReachNegativeRule(_RuleBase):
    """A negative mention whose author's reach is at or above `min_reach`."""

    type: Literal["high_reach_negative"]
    min_reach: int = Field(default=10_000, ge=0)


class CrisisQueryRule(_RuleBase):
    """A mention matching a crisis query in the topic query syntax (e.g. '"data breach" OR recall')."""

    type: Literal["crisis_query"]
    query: str = Field(min_length=1)
    severity: Severity = "critical"


class _SpikeBase(_RuleBase):
    window: Duration = timedelta(hours=1)
    baseline_windows: int = Field(default=48, ge=2, le=500, description="Windows before the current one compared.")
    alpha: float = Field(default=0.001, gt=0, lt=0.5, description="Significance level of the one-sided test.")
    min_count: int = Field(default=10, ge=1, description="No spike below this many mentions in the window.")
    time_field: Literal["published_at", "fetched_at"] = Field(
        default="published_at",
        description="Count mentions by publication time (mentions without one: by when they were first seen), "
        "or all by when they were first seen.",
    )


class VolumeSpikeRule(_SpikeBase):
    """Mention volume in the last window against the usual volume at that time of day (negative-binomial test
    with the overdispersion measured on the baseline windows)."""

    type: Literal["volume_spike"]
    baseline_windows: int = Field(default=336, ge=2, le=1000, description="Windows before the current one compared.")
    min_ratio: float = Field(default=1.5, ge=1, description="Also require count >= ratio x the usual count.")
    seasonality: Literal["daily", "weekly", "none"] = Field(
        default="daily",
        description="Compare with the same time of day on previous days (daily), of the week on previous weeks "
        "(weekly, needs 3 weeks of baseline), or with every baseline window alike (none).",
    )

    @model_validator(mode="after")
    def _baseline_spans_a_day(self) -> VolumeSpikeRule:
        # Below a day, a baseline shorter than a day cannot tell a burst from the daily rhythm (and the rule waits
        # for a whole known day before it judges): say so instead of never firing.
        if (
            self.seasonality != "none"
            and self.window < timedelta(days=1)
            and self.window * self.baseline_windows < timedelta(days=1)
        ):
            raise ValueError(
                f"rule {self.name}: {self.baseline_windows} baseline windows of {self.window} cover "
                "less than a day; use at least a day of windows (336 hourly ones compare each hour "
                "with the same hour on 14 days), or seasonality: none"
            )
        return self


class NegativeShareSpikeRule(_SpikeBase):
    """Share of negative mentions in the last window against the baseline (beta-binomial test with the
    window-to-window spread of the share measured on the baseline)."""

    type: Literal["negative_share_spike"]
    min_negative: int = Field(default=5, ge=1, description="No spike below this many negative mentions.")
    min_share_increase: float = Field(default=0.1, ge=0, le=1)


RuleSettings = Annotated[
    ComplaintRule | HighReachNegativeRule | CrisisQueryRule | VolumeSpikeRule | NegativeShareSpikeRule,
    Field(discriminator="type"),
]


class SenderSettings(BaseModel):
    """Retries of the outbox sender: exponential backoff, then the delivery is parked for a person to retry."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=5, ge=1)
    backoff: Duration = timedelta(seconds=30)
    max_backoff: Duration = timedelta(hours=1)
    max_per_run: int = Field(default=200, ge=1, description="Deliveries attempted per batch at most.")


def _default_channels() -> dict[str, ChannelSettings]:
    return {"console": ConsoleChannel()}


def _default_routes() -> list[RouteSettings]:
    return [RouteSettings(channels=["console"])]


class AlertsSettings(BaseModel):
    """The `alerts:` section. Absent, alerts go to the console and only the default rules run."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    channels: dict[ChannelName, ChannelSettings] = Field(default_factory=_default_channels)
    routes: list[RouteSettings] = Field(default_factory=_default_routes)
    rules: list[RuleSettings] = Field(default_factory=list)
    sender: SenderSettings = Field(default_factory=SenderSettings)
    base_url: str | None = Field(default=None, description="Link target for alerts, e.g. the review web app.")

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, rules: list[RuleSettings]) -> list[RuleSettings]:
        return require_unique_names(rules, "rule")

    @model_validator(mode="after")
    def _routes_name_channels(self) -> AlertsSettings:
        for i, route in enumerate(self.routes):
            unknown = sorted(set(route.channels) - set(self.channels))
            if unknown:
                raise ValueError(f"routes[{i}] names unknown channel(s): {', '.join(unknown)}")
        return self
