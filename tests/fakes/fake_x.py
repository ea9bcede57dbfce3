"""The fake X API for tests: the demo's replay API made scriptable, plus builders of users and tweets."""

from __future__ import annotations

from typing import Any

from earful_listeners.replay_api import Body
from earful_listeners.replay_x import XReplay
from tests.fakes.scripted import ScriptedApi

__all__ = ["FakeX", "tweet", "user", "populate"]


class FakeX(ScriptedApi, XReplay):
    """The demo's XReplay with recorded requests, scripted failures and an HTTP server."""

    def __init__(self, bearer_token: str = "test-bearer") -> None:
        super().__init__(bearer_token)

    def error_body(self, status: int) -> Body:
        """X's problem shape (RFC 7807-like)."""
        return {"title": "Scripted failure", "detail": "scripted failure", "type": "about:blank", "status": status}


BASE_ID = 1_900_000_000_000_000_000  # snowflake-sized ids; larger is newer


def user(n: int, followers: int = 100) -> dict[str, Any]:
    """A v2 user object."""
    return {
        "id": str(1000 + n),
        "name": f"Person {n}",
        "username": f"person{n}",
        "public_metrics": {"followers_count": followers, "following_count": 5, "tweet_count": 50},
    }


def tweet(n: int, *, text: str | None = None, author: int = 1, lang: str = "en", **extra: Any) -> dict[str, Any]:
    """A v2 tweet object with every field; number `n` (newer for larger n)."""
    data = {
        "id": str(BASE_ID + n),
        "text": text if text is not None else f"My Acme kettle number {n} works fine",
        "author_id": str(1000 + author),
        "created_at": f"2026-11-20T10:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "lang": lang,
        "conversation_id": str(BASE_ID + n),
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 2,
            "like_count": n,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": 99,
        },
        "edit_history_tweet_ids": [str(BASE_ID + n)],
    }
    data.update(extra)
    return data


def populate(api: FakeX, tweets: int, start: int = 1, authors: int = 3) -> None:
    """Add `authors` users and `tweets` tweets mentioning Acme, numbered from `start`."""
    for a in range(1, authors + 1):
        api.add_user(user(a, followers=100 * a))
    for n in range(start, start + tweets):
        api.add_tweet(tweet(n, author=1 + n % authors))
