"""Turn X API v2 tweets (raw JSON dicts with their `includes`) into Mentions, tolerating missing fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from listeners.html_text import strip_controls
from listeners.mention import Mention, mention_id
from listeners.pseudonym import author_ref

MAX_TEXT_CHARS = 40_000
_LANG = re.compile(r"^[a-z]{2,3}$")  # X also answers und, qme, qht, zxx... which are no languages
_NOT_LANGUAGES = {"und", "qme", "qht", "qam", "qct", "qst", "zxx", "art"}


class SkipTweet(ValueError):
    """A tweet that cannot become a mention (no id)."""


def retweet_of(tweet: dict[str, Any]) -> str | None:
    """The id of the tweet this one retweets, or None."""
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "retweeted" and ref.get("id"):
            return str(ref["id"])
    return None


def tweet_mention(
    tweet: dict[str, Any],
    users: dict[str, dict[str, Any]],
    *,
    source_id: str,
    secret: str,
    store_raw: bool,
    fetched_at: datetime,
) -> Mention:
    """A Mention from one tweet; `users` are the expanded authors by id (a missing one: suspended or deleted)."""
    native = str(tweet.get("id") or "")
    if not native.isdigit():
        raise SkipTweet("tweet without a valid id")
    author_id = str(tweet.get("author_id") or "")
    user = users.get(author_id) or {}
    username = user.get("username") if isinstance(user.get("username"), str) else None
    handle = username or (f"id:{author_id}" if author_id else None)
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    engagement = {
        name: int(metrics[key])
        for name, key in (("likes", "like_count"), ("retweets", "retweet_count"), ("replies", "reply_count"), ("quotes", "quote_count"))
        if isinstance(metrics.get(key), int)
    }
    followers = (user.get("public_metrics") or {}).get("followers_count") if isinstance(user.get("public_metrics"), dict) else None
    lang = tweet.get("lang")
    extra: dict[str, Any] = {}
    if isinstance(lang, str) and _LANG.match(lang) and lang not in _NOT_LANGUAGES:
        extra["language_hint"] = lang
    if tweet.get("conversation_id"):
        extra["conversation"] = mention_id("x", str(tweet["conversation_id"]))
    original = retweet_of(tweet)
    if original:
        extra["retweet_of"] = mention_id("x", original)
    if author_id and not user:
        extra["author_unavailable"] = True
    text = tweet.get("text") if isinstance(tweet.get("text"), str) else ""
    text = strip_controls(text).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip() + " …"
    return Mention(
        id=mention_id("x", native),
        source_kind="x",
        source=source_id,
        native_id=native,
        url=f"https://x.com/{username or 'i/web'}/status/{native}",
        text=text,
        author_ref=author_ref(secret, "x", handle),
        author_raw=username if store_raw else None,
        published_at=_parse_time(tweet.get("created_at")),
        fetched_at=fetched_at,
        reach=followers if isinstance(followers, int) else None,
        engagement=engagement,
        extra=extra,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
