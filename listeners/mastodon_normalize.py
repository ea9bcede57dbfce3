"""Turn Mastodon Status entities into Mentions: HTML to text, boosts and replies linked, authors pseudonymous.

What is stored of a status, without `privacy.store_raw_author`: the mention id is a hash of the status `uri` (its
ActivityPub id, the same on every instance, so a status read through two instances is one mention); `native_id` is
`<status id>@<instance>`, the id on the instance it was read from; the URL is `https://<instance>/statuses/<id>`,
which the instance's web interface opens without naming the author (the status `url` and `uri` name the account,
`https://host/@alice/1...`, and are stored only with `store_raw_author`). The author pseudonym is keyed on the
account's ActivityPub actor id (`account.uri`, Mastodon 4.2+; the profile `url` before): the same person on every
instance, and a key that never changes with the display name.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from earful_listeners.html_text import html_to_text, strip_controls
from earful_listeners.json_fields import dict_at
from earful_listeners.mention import Mention, mention_id, parse_api_time
from earful_listeners.pseudonym import author_ref

SOURCE_KIND = "mastodon"
MAX_TEXT_CHARS = 40_000
_LANG = re.compile(r"^[a-z]{2,3}$")
_PUBLIC = {"public", "unlisted", None}


class SkipStatus(ValueError):
    """A status that cannot become a mention (no id or uri, not public)."""


class DeletedStatus(SkipStatus):
    """A status that was deleted (Mastodon answers its source `text` and no `content`)."""


def is_deleted(status: dict[str, Any]) -> bool:
    """True for a deleted status: marked so, or carrying only the plain-text source that deletion returns."""
    if status.get("deleted") or status.get("deleted_at"):
        return True
    return not status.get("content") and status.get("text") is not None and not status.get("reblog")


def author_key(account: dict[str, Any]) -> str | None:
    """The stable key of an account's pseudonym: its actor id (`uri`), else its profile `url`."""
    for field in ("uri", "url"):
        value = account.get(field)
        if isinstance(value, str) and value.startswith(("https://", "http://")):
            return value
    return None


def handle_keys(handle: str) -> list[str]:
    """The pseudonym keys an `@user@domain` handle (or an actor/profile URL) can have (erasure by author)."""
    given = handle.strip()
    if given.startswith(("https://", "http://")):
        return [given]
    user, _, domain = given.lstrip("@").partition("@")
    if not user or not domain:
        return []
    # Mastodon's actor id and profile URL; other servers: give the actor URL itself.
    return [f"https://{domain}/users/{user}", f"https://{domain}/@{user}"]


def status_mention(
    status: dict[str, Any], *, instance: str, source_id: str, secret: str, store_raw: bool, fetched_at: datetime
) -> Mention:
    """A Mention from one Status entity read on `instance` (its host name)."""
    native = str(status.get("id") or "")
    uri = status.get("uri")
    if not native or not isinstance(uri, str) or not uri:
        raise SkipStatus("status without id or uri")
    if is_deleted(status):
        raise DeletedStatus(f"status {native} was deleted")
    if status.get("visibility") not in _PUBLIC:
        raise SkipStatus(f"status {native} is not public ({status.get('visibility')})")
    account = dict_at(status, "account")
    original = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    shown = original or status  # a boost shows the boosted status's content
    text = html_to_text(str(shown.get("content") or ""), max_chars=MAX_TEXT_CHARS)
    spoiler = strip_controls(str(shown.get("spoiler_text") or "")).strip()
    extra: dict[str, Any] = {"instance": instance}
    lang = shown.get("language")
    if isinstance(lang, str) and _LANG.match(lang.lower()):
        extra["language_hint"] = lang.lower()
    if original is not None and isinstance(original.get("uri"), str):
        extra["reblog_of"] = mention_id(SOURCE_KIND, original["uri"])
    if status.get("in_reply_to_id"):
        extra["reply_to"] = f"{status['in_reply_to_id']}@{instance}"
    if shown.get("sensitive"):
        extra["sensitive"] = True
    tags = [str(t.get("name")) for t in shown.get("tags") or [] if isinstance(t, dict) and t.get("name")]
    if tags:
        extra["hashtags"] = tags[:20]
    if shown.get("media_attachments"):
        extra["media"] = len(shown["media_attachments"])
    if original is None:
        counts = (
            ("boosts", "reblogs_count"),
            ("favourites", "favourites_count"),
            ("replies", "replies_count"),
            ("quotes", "quotes_count"),
        )
        engagement = {name: int(status[key]) for name, key in counts if isinstance(status.get(key), int)}
    else:
        engagement = {}  # a boost's counts are the boosted status's
    followers = account.get("followers_count")
    raw = _acct(account, instance) if store_raw else None
    return Mention(
        id=mention_id(SOURCE_KIND, uri),
        source_kind=SOURCE_KIND,
        source=source_id,
        native_id=f"{native}@{instance}",
        url=(status.get("url") or uri) if store_raw else f"https://{instance}/statuses/{native}",
        title=spoiler,
        text=text,
        author_ref=author_ref(secret, SOURCE_KIND, author_key(account)),
        author_raw=raw,
        published_at=parse_api_time(status.get("created_at")),
        fetched_at=fetched_at,
        reach=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        engagement=engagement,
        extra=extra,
    )


def instance_host(url: str) -> str:
    """The host (and port) of an instance URL."""
    return urlsplit(url).netloc


def _acct(account: dict[str, Any], instance: str) -> str | None:
    acct = account.get("acct")
    if not isinstance(acct, str) or not acct:
        return None
    return acct if "@" in acct else f"{acct}@{instance}"
