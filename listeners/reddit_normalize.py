"""Turn Reddit things (praw Submission and Comment objects) into Mentions, tolerating missing fields.

Only the attributes Reddit sent are read (from the object's `__dict__`): reading a missing attribute of a praw
object would make praw fetch it, one request per item.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

from earful_listeners.html_text import strip_controls
from earful_listeners.mention import Mention, mention_id
from earful_listeners.pseudonym import author_ref

PUBLIC_URL = "https://www.reddit.com"
MAX_TEXT_CHARS = 40_000
_GONE = {"[deleted]", "[removed]"}


class SkipItem(ValueError):
    """An item that cannot become a mention (no id, deleted without content); the batch goes on."""


class RemovedItem(SkipItem):
    """An item removed by its author, the subreddit's moderators or Reddit (`removed_by_category`): not indexed,
    counted in the source's notes (this is how Reddit works, not a fault)."""


def fields_of(thing: object) -> dict[str, Any]:
    """The attributes Reddit sent for a praw object (or a plain dict)."""
    return dict(thing) if isinstance(thing, dict) else dict(vars(thing))


def clean(text: object) -> str:
    """Markdown stays as it is; control characters go; huge posts are cut."""
    if not isinstance(text, str):
        return ""
    text = strip_controls(text).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip() + " …"
    return text


def fullname(fields: dict[str, Any], prefix: str) -> str:
    """The thing's fullname (`t3_abc`), from `name` or `id`; raises SkipItem without either."""
    name = fields.get("name")
    if isinstance(name, str) and name.startswith(f"{prefix}_"):
        return name
    native = fields.get("id")
    if isinstance(native, str) and native:
        return f"{prefix}_{native}"
    raise SkipItem(f"{prefix} item without id or name")


def created(fields: dict[str, Any]) -> float:
    """Creation time as epoch seconds (0 when missing, so the item sorts as the oldest)."""
    try:
        return float(fields.get("created_utc") or 0)
    except (TypeError, ValueError):
        return 0.0


def _author(fields: dict[str, Any]) -> str | None:
    author = fields.get("author")
    name = None if author is None else str(author)
    return None if not name or name in _GONE else name


def _author_identity(fields: dict[str, Any], name: str | None) -> str | None:
    """What keys the pseudonym: the account's fullname (`t2_...`, unchanged by anything the user does), else the
    name for things that come without it."""
    if name is None:
        return None
    account = fields.get("author_fullname")
    return account if isinstance(account, str) and account.startswith("t2_") else name


def public_url(fields: dict[str, Any], name: str) -> str:
    """The thing's reddit.com URL: its permalink without query or fragment (search results append
    `?ref=search_posts`), or, without a permalink, the short form Reddit resolves for any post or comment."""
    permalink = fields.get("permalink")
    if isinstance(permalink, str) and permalink.startswith("/"):
        return f"{PUBLIC_URL}{urllib.parse.urlsplit(permalink).path}"
    native = name.split("_", 1)[1]
    thread = fields.get("link_id")
    if name.startswith("t1_") and isinstance(thread, str) and thread.startswith("t3_"):
        return f"{PUBLIC_URL}/comments/{thread[3:]}/_/{native}/"
    return f"{PUBLIC_URL}/comments/{native}/"


def removal(fields: dict[str, Any]) -> str | None:
    """Who removed the thing (`removed_by_category`: moderator, reddit, automod_filtered, deleted...), or None."""
    category = fields.get("removed_by_category")
    return str(category) if category else None


def _int(value: Any) -> int | None:  # noqa: ANN401 - whatever Reddit sent
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _common(
    fields: dict[str, Any], name: str, source_id: str, secret: str, store_raw: bool, fetched_at: datetime
) -> dict[str, Any]:
    author = _author(fields)
    ts = created(fields)
    return {
        "id": mention_id("reddit", name),
        "source_kind": "reddit",
        "source": source_id,
        "native_id": name,
        "url": public_url(fields, name),
        "author_ref": author_ref(secret, "reddit", _author_identity(fields, author)),
        "author_raw": author if store_raw else None,
        "published_at": datetime.fromtimestamp(ts, UTC) if ts > 0 else None,
        "fetched_at": fetched_at,
    }


def submission_mention(
    thing: object, *, source_id: str, secret: str, store_raw: bool, fetched_at: datetime, subscribers: int | None = None
) -> Mention:
    """A Mention from a submission (t3): title, selftext, score and comment count, subreddit subscribers."""
    fields = fields_of(thing)
    name = fullname(fields, "t3")
    removed_by = removal(fields)
    if removed_by:
        raise RemovedItem(f"{name} was removed ({removed_by})")
    body = fields.get("selftext")
    removed = isinstance(body, str) and body.strip() in _GONE
    title = clean(fields.get("title"))
    if removed and not title:
        raise SkipItem(f"{name} was deleted or removed")
    engagement = {
        k: v
        for k, v in (("score", _int(fields.get("score"))), ("comments", _int(fields.get("num_comments"))))
        if v is not None
    }
    extra: dict[str, Any] = {"subreddit": str(fields.get("subreddit") or ""), "type": "submission"}
    if removed:
        extra["removed"] = True
    if fields.get("over_18"):
        extra["nsfw"] = True
    link = fields.get("url")
    if isinstance(link, str) and link and not fields.get("is_self", True):
        extra["link"] = link[:2000]
    return Mention(
        **_common(fields, name, source_id, secret, store_raw, fetched_at),
        title=title,
        text="" if removed else clean(body),
        reach=_int(fields.get("subreddit_subscribers")) or subscribers,
        engagement=engagement,
        extra=extra,
    )


def comment_mention(
    thing: object, *, source_id: str, secret: str, store_raw: bool, fetched_at: datetime, subscribers: int | None = None
) -> Mention:
    """A Mention from a comment (t1): its body, no title of its own (the thread's title is kept apart, in
    `extra.thread_title`), score, subreddit subscribers."""
    fields = fields_of(thing)
    name = fullname(fields, "t1")
    removed_by = removal(fields)
    if removed_by:
        raise RemovedItem(f"{name} was removed ({removed_by})")
    body = fields.get("body")
    if not isinstance(body, str) or body.strip() in _GONE or not body.strip():
        raise SkipItem(f"{name} was deleted or removed")
    score = _int(fields.get("score"))
    return Mention(
        **_common(fields, name, source_id, secret, store_raw, fetched_at),
        text=clean(body),
        reach=subscribers,
        engagement={"score": score} if score is not None else {},
        extra={"subreddit": str(fields.get("subreddit") or ""), "type": "comment"}
        | ({"thread": mention_id("reddit", str(fields["link_id"]))} if fields.get("link_id") else {})
        | ({"thread_title": clean(fields["link_title"])[:500]} if clean(fields.get("link_title")) else {}),
    )
