"""Configuration of the Mastodon listener: instances, per-topic hashtags and searches, limits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from earful_listeners.config_types import HttpBaseUrl, RetrySettings

_HASHTAG = re.compile(r"^\w{1,100}$", re.UNICODE)


class MastodonInstance(BaseModel):
    """One Mastodon server. The access token comes from the environment
    (EARFUL_SOURCES__MASTODON__INSTANCES__<NAME>__ACCESS_TOKEN) or the Airflow connection `earful_mastodon_<name>`."""

    model_config = ConfigDict(extra="forbid")

    url: HttpBaseUrl = Field(description="Base URL of the instance, e.g. https://mastodon.social")
    access_token: SecretStr | None = Field(default=None, description="Optional; needed for status search.")


class MastodonTopicSources(BaseModel):
    """What to read on Mastodon for one topic: hashtag timelines and status searches."""

    model_config = ConfigDict(extra="forbid")

    hashtags: list[str] = Field(default_factory=list, description="Without '#'; public hashtag timelines.")
    search: list[str] | Literal["auto"] = Field(
        default_factory=list,
        description="Status search queries (need an access token), or 'auto': derived from the topic's query.",
    )

    @field_validator("hashtags", mode="before")
    @classmethod
    def _strip_hash(cls, tags: list[str]) -> list[str]:
        return [t.strip().lstrip("#") if isinstance(t, str) else t for t in tags or []]

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        bad = [t for t in tags if not _HASHTAG.match(t)]
        if bad:
            raise ValueError(f"hashtags are letters, digits or '_' (1-100); got {bad}")
        return tags

    @field_validator("search")
    @classmethod
    def _queries(cls, queries: list[str] | str) -> list[str] | str:
        if isinstance(queries, list) and any(not q.strip() or len(q) > 500 for q in queries):
            raise ValueError("search queries must be non-empty and at most 500 characters")
        return queries


class MastodonSettings(RetrySettings):
    """The Mastodon listener: every configured instance reads every topic's hashtags and searches."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    instances: dict[str, MastodonInstance] = Field(default_factory=dict, description="By name (lower case).")
    replay: Path | None = Field(
        default=None, description="Answer from bundled fixture responses in this folder (demo, no network)."
    )
    topics: dict[str, MastodonTopicSources] = Field(default_factory=dict, description="Sources per topic name.")
    reblogs: Literal["skip", "link"] = Field(
        default="link", description="link: keep boosts, linked to the boosted status; skip: leave them out."
    )
    user_agent: str = Field(default="earful/0.1 (social listening; +https://github.com/earful/earful)", min_length=7)
    page_size: int = Field(default=40, ge=1, le=40, description="Statuses per request (Mastodon allows 40).")
    max_pages: int = Field(default=10, ge=1, description="Per timeline or search and batch.")
    timeout: float = Field(default=15.0, gt=0)

    @field_validator("instances")
    @classmethod
    def _names(cls, instances: dict[str, MastodonInstance]) -> dict[str, MastodonInstance]:
        bad = [n for n in instances if not re.match(r"^[a-z0-9_]{1,40}$", n)]
        if bad:
            raise ValueError(
                f"instance names are lower-case letters, digits or '_' (they name env variables); got {bad}"
            )
        return instances
