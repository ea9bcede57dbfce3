"""The fake Mastodon API for tests: the demo's replay API made scriptable, plus builders of accounts and statuses."""

from __future__ import annotations

from typing import Any

from earful_listeners.replay_api import Body
from earful_listeners.replay_mastodon import MastodonReplay
from tests.fakes.scripted import ScriptedApi

__all__ = ["FakeMastodon", "account", "status", "status_id", "populate", "HOST"]


class FakeMastodon(ScriptedApi, MastodonReplay):
    """The demo's MastodonReplay with recorded requests, scripted failures and an HTTP server."""

    def error_body(self, status: int) -> Body:
        """Mastodon's error entity."""
        return {"error": "Scripted failure" if status != 429 else "Too many requests"}


BASE_MS = 1_795_168_800_000  # 2026-11-20T10:00:00Z in milliseconds
HOST = "mastodon.example"


def status_id(n: int) -> str:
    """The snowflake id of status `n`, created n seconds after BASE_MS: Mastodon ids are (ms << 16) + sequence."""
    return str((BASE_MS + n * 1000) << 16)


def account(n: int, followers: int = 100, domain: str | None = None) -> dict[str, Any]:
    """An Account entity; remote (acct with a domain) when `domain` is given."""
    server = domain or HOST
    username = f"person{n}"
    return {
        "id": str(100_000 + n),
        "username": username,
        "acct": f"{username}@{domain}" if domain else username,
        "display_name": f"Person {n}",
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2024-03-01T00:00:00.000Z",
        "note": "<p>Hiker.</p>",
        "url": f"https://{server}/@{username}",
        "uri": f"https://{server}/users/{username}",
        "avatar": f"https://{HOST}/avatars/original/missing.png",
        "avatar_static": f"https://{HOST}/avatars/original/missing.png",
        "header": f"https://{HOST}/headers/original/missing.png",
        "header_static": f"https://{HOST}/headers/original/missing.png",
        "followers_count": followers,
        "following_count": 12,
        "statuses_count": 340,
        "last_status_at": "2026-11-20",
        "emojis": [],
        "fields": [],
    }


def status(
    n: int,
    *,
    content: str | None = None,
    author: int = 1,
    lang: str | None = "en",
    tags: tuple[str, ...] = ("acme",),
    domain: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Status entity numbered `n` (newer for larger n) with every field Mastodon returns."""
    acc = account(author, followers=100 * author, domain=domain)
    server = domain or HOST
    native = status_id(n)
    data = {
        "id": native,
        "created_at": f"2026-11-20T10:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": lang,
        "uri": f"https://{server}/users/{acc['username']}/statuses/{native}",
        "url": f"https://{server}/@{acc['username']}/{native}",
        "replies_count": 1,
        "reblogs_count": 2,
        "favourites_count": n,
        "edited_at": None,
        "content": content
        if content is not None
        else f'<p>My <a href="https://{HOST}/tags/acme" class="mention hashtag" rel="tag">#<span>Acme</span></a> boots number {n} are fine</p>',
        "reblog": None,
        "application": {"name": "Web", "website": None},
        "account": acc,
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t, "url": f"https://{HOST}/tags/{t}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    data.update(extra)
    return data


def populate(api: FakeMastodon, statuses: int, start: int = 1, authors: int = 3) -> None:
    """Add `statuses` statuses tagged #acme, numbered from `start`."""
    for n in range(start, start + statuses):
        api.add_status(status(n, author=1 + n % authors))
