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
    def _sane(self) -> "BusinessHours":
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


class WebSettings(BaseModel):
    """The review web app."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=1, le=65535)
    session_secret: SecretStr | None = Field(
        default=None,
        description="Signs session cookies; set EARFUL_COMPLAINTS__WEB__SESSION_SECRET. Unset: random per process.",
    )
    session_max_age_minutes: int = Field(default=480, ge=5)
    cookie_secure: bool = Field(default=False, description="Mark cookies Secure (turn on behind HTTPS).")
    page_size: int = Field(default=50, ge=5, le=500)


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
