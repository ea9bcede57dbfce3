"""Configuration of the complaint register: deadlines per severity, business hours, intake and the web app."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

SEVERITIES = ("low", "medium", "high", "critical")


class DeadlineTarget(BaseModel):
    """How long staff have to acknowledge and to respond (communicate a decision), in hours."""

    model_config = ConfigDict(extra="forbid")

    acknowledge_hours: float = Field(gt=0)
    respond_hours: float = Field(gt=0)


def _default_targets() -> dict[str, DeadlineTarget]:
    return {
        "critical": DeadlineTarget(acknowledge_hours=4, respond_hours=48),
        "high": DeadlineTarget(acknowledge_hours=24, respond_hours=120),
        "medium": DeadlineTarget(acknowledge_hours=48, respond_hours=240),
        "low": DeadlineTarget(acknowledge_hours=72, respond_hours=480),
    }


class BusinessHours(BaseModel):
    """When enabled, deadlines count only working hours (e.g. 48 h = six 8-hour days)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    timezone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(17, 0)
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday")
    holidays: list[str] = Field(default_factory=list, description="ISO dates without work, e.g. 2026-12-25")

    @model_validator(mode="after")
    def _sane(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business_hours.end must be after start")
        if not self.weekdays or any(d < 0 or d > 6 for d in self.weekdays):
            raise ValueError("business_hours.weekdays must list days 0 (Monday) to 6 (Sunday)")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone!r}") from None
        return self


class SignInThrottleSettings(BaseModel):
    """Exponential delay after failed sign-ins, per client address and per account (never a lock-out)."""

    model_config = ConfigDict(extra="forbid")

    free_failures: int = Field(default=3, ge=1, description="Failures before any delay.")
    base_delay_seconds: float = Field(
        default=1.0, gt=0, description="Delay after the first failure past the free ones; doubles with each."
    )
    max_delay_seconds: float = Field(default=900.0, gt=0)
    forget_after_minutes: int = Field(default=1440, ge=1, description="Failures older than this no longer count.")


class WebSettings(BaseModel):
    """The review web app."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    session_secret: SecretStr | None = Field(
        default=None,
        description="No longer used: sessions live in the records database and the cookie holds a random id.",
    )
    session_max_age_minutes: int = Field(default=480, ge=5, description="Absolute session lifetime.")
    session_idle_minutes: int = Field(default=30, ge=1, description="A session unused this long ends.")
    cookie_secure: bool = Field(default=False, description="Mark cookies Secure (turn on behind HTTPS).")
    page_size: int = Field(default=50, ge=5, le=500)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For names the client (for sign-in throttling).",
    )
    max_form_bytes: int = Field(default=256_000, ge=10_000, description="Largest form a browser may post.")
    signin: SignInThrottleSettings = Field(default_factory=SignInThrottleSettings)


class LimitSettings(BaseModel):
    """Sizes and ranges every input is checked against (web app and command line alike)."""

    model_config = ConfigDict(extra="forbid")

    short_text_chars: int = Field(default=300, ge=20, le=300, description="One-line fields (the columns hold 300).")
    long_text_chars: int = Field(default=10_000, ge=100, description="Text areas: notes, findings, decisions.")
    record_chars: int = Field(default=200_000, ge=1000, description="All text written to one record, notes included.")
    intake_max_age_days: int = Field(default=30, ge=1, description="Manual intake: received_at at most this old.")
    password_min_length: int = Field(default=15, ge=8, description="NIST SP 800-63B: 15 for a single factor.")
    password_max_length: int = Field(default=256, ge=64)


class ComplaintsSettings(BaseModel):
    """The ISO 10002 complaint register."""

    model_config = ConfigDict(extra="forbid")

    reference_prefix: str = Field(default="C", pattern=r"^[A-Z]{1,5}$")
    intake_severity: str = Field(default="medium", description="Severity assumed for deadlines until assessed.")
    targets: dict[str, DeadlineTarget] = Field(default_factory=_default_targets)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    categories: list[str] = Field(
        default_factory=lambda: ["product", "service", "delivery", "billing", "staff", "privacy", "safety", "other"]
    )
    manual_channels: list[str] = Field(
        default_factory=lambda: ["email", "phone", "web_form", "letter", "in_person", "other"]
    )
    snapshot_max_chars: int = Field(default=20_000, ge=1000)
    web: WebSettings = Field(default_factory=WebSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)

    @field_validator("intake_severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        if value not in SEVERITIES:
            raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
        return value

    @field_validator("targets")
    @classmethod
    def _every_severity(cls, targets: dict[str, DeadlineTarget]) -> dict[str, DeadlineTarget]:
        unknown = sorted(set(targets) - set(SEVERITIES))
        missing = [s for s in SEVERITIES if s not in targets]
        if unknown:
            raise ValueError(f"unknown severities: {', '.join(unknown)} (use {', '.join(SEVERITIES)})")
        if missing:
            raise ValueError(f"a target is needed for every severity; missing: {', '.join(missing)}")
        return targets
