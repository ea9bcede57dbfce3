"""Configuration owned by the listeners: sources, topics and privacy of authors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator, model_validator

from earful_listeners.bluesky_config import BlueskySettings
from earful_listeners.mastodon_config import MastodonSettings
from earful_listeners.reddit_config import RedditSettings
from earful_listeners.x_config import XSettings

_LANG_CODE = r"^[a-z]{2,3}$"


def require_unique_names(items: list[Any], what: str) -> list[Any]:
    """Validator body for lists of named items: names must be unique (a repeated name would shadow another)."""
    names = [item.name for item in items]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")
    return items


DEMO_AUTHOR_SECRET = "earful-demo-only-secret"  # noqa: S105 - public (it is in the source): fine for bundled samples only


class PrivacySettings(BaseModel):
    """How authors (people) are stored: a keyed-hash pseudonym by default."""

    model_config = ConfigDict(extra="forbid")

    author_secret: SecretStr = Field(
        default=SecretStr(DEMO_AUTHOR_SECRET),
        description="Key of the author pseudonym hash; set EARFUL_PRIVACY__AUTHOR_SECRET in production.",
    )
    store_raw_author: bool = False
    retention_days: int | None = Field(default=None, ge=1)


class RssFeedSettings(BaseModel):
    """One RSS/Atom feed: fetched from `url`, or read from a local `path` (bundled samples, mirrors)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    url: HttpUrl | None = None
    path: Path | None = None
    language: str | None = Field(default=None, pattern=_LANG_CODE, description="Hint when detection is unsure.")

    @model_validator(mode="after")
    def _one_location(self) -> RssFeedSettings:
        if (self.url is None) == (self.path is None):
            raise ValueError("give exactly one of 'url' or 'path'")
        return self


class RssSettings(BaseModel):
    """Fetch limits shared by every feed."""

    model_config = ConfigDict(extra="forbid")

    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    deadline: float = Field(
        default=60.0,
        gt=0,
        description="Most seconds one feed's download may take in all (a trickling server fails alone).",
    )
    max_redirects: int = Field(default=5, ge=0)
    max_bytes: int = Field(default=10_000_000, gt=0)
    user_agent: str = "earful/0.1 (+https://github.com/earful/earful)"
    feeds: list[RssFeedSettings] = Field(default_factory=list)

    @field_validator("feeds")
    @classmethod
    def _unique_names(cls, feeds: list[RssFeedSettings]) -> list[RssFeedSettings]:
        return require_unique_names(feeds, "feed")


class SourcesSettings(BaseModel):
    """Every source kind; each kind is optional."""

    model_config = ConfigDict(extra="forbid")

    rss: RssSettings = Field(default_factory=RssSettings)
    reddit: RedditSettings = Field(default_factory=RedditSettings)
    x: XSettings = Field(default_factory=XSettings)
    mastodon: MastodonSettings = Field(default_factory=MastodonSettings)
    bluesky: BlueskySettings = Field(default_factory=BlueskySettings)


class TopicSettings(BaseModel):
    """A topic: a boolean query in Lucene syntax, with optional language filter and exclusions."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    query: str = Field(min_length=1)
    exclude: str | None = None
    languages: list[str] = Field(default_factory=list)

    @field_validator("languages")
    @classmethod
    def _lang_codes(cls, langs: list[str]) -> list[str]:
        import re

        bad = [lang for lang in langs if not re.match(_LANG_CODE, lang)]
        if bad:
            raise ValueError(f"languages must be ISO 639 codes like 'en' or 'fa'; got {bad}")
        return langs

    @model_validator(mode="after")
    def _queries_parse(self) -> TopicSettings:
        from earful_listeners.topics import parse_query

        parse_query(self.query, what=f"topic '{self.name}' query")
        if self.exclude:
            parse_query(self.exclude, what=f"topic '{self.name}' exclude")
        return self


class ListeningSettings(BaseModel):
    """What happens to fetched items before indexing."""

    model_config = ConfigDict(extra="forbid")

    keep_unmatched: bool = Field(default=False, description="Index items that match no topic too.")
    near_duplicate_threshold: float = Field(default=0.6, gt=0, le=1)
    min_chars_for_language: int = Field(default=12, ge=1)
    fetch_processes: int | None = Field(
        default=None,
        ge=0,
        description="Processes that fetch and parse feeds beside the batch; None = with 8 or more feeds, 1 on "
        "2-3 cores and 2 on 4 or more (one core: none), 0 = parse in the batch's own process.",
    )
