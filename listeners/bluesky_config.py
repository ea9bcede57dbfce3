"""Configuration of the Bluesky listener: searchPosts queries per topic, the service, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from earful_listeners.config_types import HttpBaseUrl, RetrySettings


class BlueskySettings(RetrySettings):
    """The Bluesky listener. The app password comes from EARFUL_SOURCES__BLUESKY__APP_PASSWORD or the Airflow
    connection `earful_bluesky` (login = identifier, password = app password)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    service_url: HttpBaseUrl = Field(
        default="https://bsky.social",
        description="Where the app password logs in (its PDS); searches go there too, proxied to the AppView.",
    )
    public_url: HttpBaseUrl = Field(
        default="https://public.api.bsky.app", description="The AppView read without an app password."
    )
    identifier: str | None = Field(default=None, description="Handle or e-mail of the account the app password is for.")
    app_password: SecretStr | None = None
    replay: Path | None = Field(
        default=None, description="Answer from bundled fixture responses in this folder (demo, no network)."
    )
    topics: dict[str, list[str] | Literal["auto"]] = Field(
        default_factory=dict, description="searchPosts queries per topic name, or 'auto': derived from the topic query."
    )
    page_size: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=10, ge=1, description="Per query and batch.")
    overlap_seconds: float = Field(
        default=300.0,
        ge=0,
        description="Each batch searches again from this long before the newest post seen (late-indexed posts).",
    )
    timeout: float = Field(default=15.0, gt=0)

    @field_validator("topics")
    @classmethod
    def _queries(cls, topics: dict[str, list[str] | str]) -> dict[str, list[str] | str]:
        for name, queries in topics.items():
            if isinstance(queries, list) and any(not q.strip() or len(q) > 512 for q in queries):
                raise ValueError(f"topic '{name}': queries must be non-empty and at most 512 characters")
        return topics
