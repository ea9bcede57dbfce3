"""Configuration of the X listener: recent-search queries per topic, the read budget, rate limits."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator

from earful_listeners.config_types import HttpBaseUrl, RetrySettings


class XSettings(RetrySettings):
    """The X listener (optional). The bearer token comes only from EARFUL_SOURCES__X__BEARER_TOKEN."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    bearer_token: SecretStr | None = None
    api_base: HttpBaseUrl = Field(default="https://api.twitter.com", description="Where tweepy's requests are sent.")
    replay: Path | None = Field(
        default=None, description="Serve bundled fixture responses from this folder on 127.0.0.1 (demo, no token)."
    )
    topics: dict[str, list[str]] = Field(default_factory=dict, description="Recent-search queries per topic name.")
    retweets: Literal["skip", "link"] = Field(
        default="skip", description="skip: leave retweets out (and unpaid); link: keep them, linked to the original."
    )
    monthly_read_budget: int = Field(default=10_000, ge=0, description="Posts read per calendar month (UTC).")
    budget_key: str = Field(default="x", min_length=1, max_length=100, description="Budget shared by this key.")
    page_size: int = Field(default=100, ge=10, le=100)
    max_pages: int = Field(default=10, ge=1, description="Per query and batch.")
    deadline: float = Field(
        default=300.0,
        gt=0,
        description="Most seconds one query may read in a batch; the rest of its pages comes next batch.",
    )
    timeout: float = Field(default=15.0, gt=0)

    @field_validator("topics")
    @classmethod
    def _queries(cls, topics: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, queries in topics.items():
            if any(not q.strip() or len(q) > 512 for q in queries):
                raise ValueError(f"topic '{name}': queries must be non-empty and at most 512 characters")
        return topics
