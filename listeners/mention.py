"""The Mention record: one post, article or comment that a source returned, normalized."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def parse_api_time(value: object) -> datetime | None:
    """An API's ISO 8601 timestamp ('Z' or an offset), or a datetime a client already parsed; None for anything
    else (missing, not a string, not a time)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def mention_id(source_kind: str, key: str) -> str:
    """Deterministic mention id from the source kind and a stable key (native id or canonical URL)."""
    return hashlib.sha256(f"{source_kind}\x1f{key}".encode()).hexdigest()[:32]


class Mention(BaseModel):
    """A normalized mention; `labels` is filled by enrichment (NLP) before indexing."""

    model_config = ConfigDict(extra="forbid")

    id: str
    source_kind: str  # rss | reddit | x
    source: str  # the configured source id, e.g. "rss:acme-news"
    native_id: str
    url: str | None = None
    title: str = ""
    text: str = ""
    author_ref: str | None = None  # pseudonymous: keyed hash of the handle
    author_raw: str | None = None  # only when privacy.store_raw_author is on
    published_at: datetime | None = None
    fetched_at: datetime
    reach: int | None = None  # audience size: followers, subscribers
    engagement: dict[str, int] = Field(default_factory=dict)  # score, comments, likes, retweets...
    language: str = "und"
    language_score: float | None = None
    topics: list[str] = Field(default_factory=list)
    duplicate_of: str | None = None  # id of an earlier near-duplicate mention
    dup_bands: list[int] = Field(default_factory=list)  # MinHash LSH band keys; kept in the records database
    labels: dict[str, Any] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)  # source-specific, small (e.g. subreddit, lang hint)

    def to_document(self) -> dict[str, Any]:
        """The Elasticsearch document (the id goes to `_id`)."""
        return self.model_dump(mode="json", exclude={"id", "dup_bands"}, exclude_none=True)
