"""Configuration of the Reddit listener: per-topic subreddits and search queries, endpoints, limits."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from earful_listeners.config_types import HttpBaseUrl, RetrySettings

_SUBREDDIT = r"^[A-Za-z0-9_]{2,21}$"


class RedditTopicSources(BaseModel):
    """What to watch on Reddit for one topic: subreddit streams and site-wide searches."""

    model_config = ConfigDict(extra="forbid")

    subreddits: list[str] = Field(default_factory=list, description="Names without 'r/'; new posts and comments.")
    search: list[str] = Field(default_factory=list, description="Reddit search queries (site-wide, newest first).")

    @field_validator("subreddits", mode="before")
    @classmethod
    def _strip_prefix(cls, names: list[str]) -> list[str]:
        return [n.strip().removeprefix("/").removeprefix("r/") if isinstance(n, str) else n for n in names or []]

    @field_validator("subreddits")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        import re

        bad = [n for n in names if not re.match(_SUBREDDIT, n)]
        if bad:
            raise ValueError(f"subreddit names are 2-21 letters, digits or '_'; got {bad}")
        return names

    @field_validator("search")
    @classmethod
    def _queries(cls, queries: list[str]) -> list[str]:
        if any(not q.strip() or len(q) > 512 for q in queries):
            raise ValueError("search queries must be non-empty and at most 512 characters")
        return queries


class RedditSettings(RetrySettings):
    """The Reddit listener. Credentials come only from the environment (EARFUL_SOURCES__REDDIT__CLIENT_ID...)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    user_agent: str = Field(default="earful/0.1 (social listening; +https://github.com/earful/earful)", min_length=7)
    oauth_url: HttpBaseUrl = "https://oauth.reddit.com"
    reddit_url: HttpBaseUrl = "https://www.reddit.com"
    replay: Path | None = Field(
        default=None,
        description="Serve bundled fixture responses from this folder on 127.0.0.1 (demo, no credentials).",
    )
    topics: dict[str, RedditTopicSources] = Field(default_factory=dict, description="Sources per topic name.")
    comments: bool = Field(default=True, description="Also read the new comments of each listed subreddit.")
    max_items: int = Field(default=1000, ge=1, le=1000, description="Per listing and batch; Reddit stops near 1,000.")
    page_size: int = Field(default=100, ge=1, le=100)
    deadline: float = Field(
        default=300.0,
        gt=0,
        description="Most seconds one listing may read in a batch; it is read again from its cursor next batch.",
    )
    timeout: float = Field(default=16.0, gt=0, description="Seconds to wait for a response.")
    retries: int = Field(default=2, ge=0, le=10, description="Retries of 5xx and timeouts, on top of praw's own.")
