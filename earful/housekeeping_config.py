"""Configuration of housekeeping: index rollover conditions and the outbox retry policy.

Retention itself is `privacy.retention_days` (the listeners' privacy section): one number people look for in
one place.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_SIZE = r"^[0-9]+(b|kb|mb|gb|tb)$"
_AGE = r"^[0-9]+(s|m|h|d)$"


class RolloverSettings(BaseModel):
    """When the write alias moves to a new index (any condition met); Elasticsearch units, e.g. 30d, 50gb."""

    model_config = ConfigDict(extra="forbid")

    max_age: str | None = Field(default="30d", pattern=_AGE)
    max_primary_shard_size: str | None = Field(default="50gb", pattern=_SIZE)
    max_docs: int | None = Field(default=None, ge=1)


class HousekeepingSettings(BaseModel):
    """The `housekeeping:` section."""

    model_config = ConfigDict(extra="forbid")

    rollover: RolloverSettings = Field(default_factory=RolloverSettings)
    retry_parked: bool = Field(
        default=False,
        description="Also give parked alert deliveries fresh attempts on each run (default: a person decides).",
    )
