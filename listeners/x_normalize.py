"""Turn X API v2 tweets (raw JSON dicts with their `includes`) into Mentions, tolerating missing fields."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from earful_listeners.html_text import strip_controls
from earful_listeners.json_fields import dict_at, str_at
from earful_listeners.mention import Mention, mention_id, parse_api_time
from earful_listeners.pseudonym import author_ref

MAX_TEXT_CHARS = 40_000
PUBLIC_URL = "https://x.com"
_X_HOSTS = ("x.com", "twitter.com", "www.x.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com")
_LANG = re.compile(r"^[a-z]{2,3}$")  # X also answers und, qme, qht, zxx... which are no languages
_NOT_LANGUAGES = {"und", "qme", "qht", "qam", "qct", "qst", "zxx", "art"}


class SkipTweet(ValueError):
    """A tweet that cannot become a mention (no id)."""


def referenced(tweet: dict[str, Any], kind: str) -> str | None:
    """The id of the tweet this one refers to as `kind` in `referenced_tweets` (retweeted, quoted, replied_to)."""
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == kind and ref.get("id"):
            return str(ref["id"])
    return None


def retweet_of(tweet: dict[str, Any]) -> str | None:
    """The id of the tweet this one retweets, or None."""
    return referenced(tweet, "retweeted")


def post_url(tweet_id: str, username: str | None, store_raw: bool) -> str:
    """The public URL of a post: /i/web/status/<id> works for any post and names nobody; the handle's form only
    where raw authors are stored."""
    if store_raw and username:
        return f"{PUBLIC_URL}/{username}/status/{tweet_id}"
    return f"{PUBLIC_URL}/i/web/status/{tweet_id}"


def _expand_links(text: str, entities: object) -> str:
    """t.co links replaced by the address they stand for; links to X itself (they name a handle) and media stay."""
    urls = entities.get("urls") if isinstance(entities, dict) else None
    for entity in urls or []:
        if not isinstance(entity, dict) or entity.get("media_key"):
            continue
        short, expanded = entity.get("url"), entity.get("expanded_url")
        if not (isinstance(short, str) and isinstance(expanded, str) and short and expanded):
            continue
        host = expanded.split("//", 1)[-1].split("/", 1)[0].lower()
        if host not in _X_HOSTS:
            text = text.replace(short, expanded)
    return text


def tweet_text(tweet: dict[str, Any], original: dict[str, Any] | None = None) -> str:
    """The post's full text as a reader sees it: X's HTML entities (&amp; &lt; &gt;) decoded, t.co links
    expanded, a long post's `note_tweet` text instead of its cut copy, and a retweet's text rebuilt from the full
    original in `includes.tweets` (X's copy is cut at 140 characters with an ellipsis)."""
    if original is not None:
        own = str_at(tweet, "text") or ""
        prefix = own.split(":", 1)[0] + ": " if own.startswith("RT @") and ":" in own else ""
        return prefix + tweet_text(original)
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str):
        text, entities = note["text"], note.get("entities")
    else:
        text = str_at(tweet, "text") or ""
        entities = tweet.get("entities")
    return html.unescape(_expand_links(text, entities))


def tweet_mention(
    tweet: dict[str, Any],
    users: dict[str, dict[str, Any]],
    *,
    original: dict[str, Any] | None = None,
    source_id: str,
    secret: str,
    store_raw: bool,
    fetched_at: datetime,
) -> Mention:
    """A Mention from one tweet; `users` are the expanded authors by id (a missing one: suspended or deleted),
    `original` the full tweet a retweet repeats (from `includes.tweets`), when X sent it.

    The pseudonym is keyed on `author_id`, never the username: the same for a renamed account, and the same
    whether or not the user came back in `includes`."""
    native = str(tweet.get("id") or "")
    if not native.isdigit():
        raise SkipTweet("tweet without a valid id")
    author_id = str(tweet.get("author_id") or "")
    user = users.get(author_id) or {}
    username = str_at(user, "username")
    metrics = dict_at(tweet, "public_metrics")
    engagement = {
        name: int(metrics[key])
        for name, key in (
            ("likes", "like_count"),
            ("retweets", "retweet_count"),
            ("replies", "reply_count"),
            ("quotes", "quote_count"),
        )
        if isinstance(metrics.get(key), int)
    }
    followers = (
        (user.get("public_metrics") or {}).get("followers_count")
        if isinstance(user.get("public_metrics"), dict)
        else None
    )
    lang = tweet.get("lang")
    extra: dict[str, Any] = {}
    if isinstance(lang, str) and _LANG.match(lang) and lang not in _NOT_LANGUAGES:
        extra["language_hint"] = lang
    if tweet.get("conversation_id"):
        extra["conversation"] = mention_id("x", str(tweet["conversation_id"]))
    retweeted = retweet_of(tweet)
    if retweeted:
        extra["retweet_of"] = mention_id("x", retweeted)
    quoted = referenced(tweet, "quoted")
    if quoted:
        extra["quote_of"] = mention_id("x", quoted)
    if author_id and not user:
        extra["author_unavailable"] = True
    text = strip_controls(tweet_text(tweet, original)).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip() + " …"
    return Mention(
        id=mention_id("x", native),
        source_kind="x",
        source=source_id,
        native_id=native,
        url=post_url(native, username, store_raw),
        text=text,
        author_ref=author_ref(secret, "x", author_id or None),
        author_raw=username if store_raw else None,
        published_at=parse_api_time(tweet.get("created_at")),
        fetched_at=fetched_at,
        reach=followers if isinstance(followers, int) else None,
        engagement=engagement,
        extra=extra,
    )
