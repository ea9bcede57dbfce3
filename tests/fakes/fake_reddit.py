"""The fake Reddit API for tests: the replay API made scriptable, plus builders of submissions and comments."""

from __future__ import annotations

from typing import Any

from earful_listeners.replay_reddit import RedditReplay
from tests.fakes.scripted import ScriptedApi

__all__ = ["FakeReddit", "submission", "comment", "populate"]


class FakeReddit(ScriptedApi, RedditReplay):
    """The demo's RedditReplay with recorded requests, scripted failures and an HTTP server."""

    def __init__(self, client_id: str = "test-client", client_secret: str = "test-secret") -> None:
        super().__init__(client_id, client_secret)


BASE_TS = 1_790_000_000  # a fixed epoch second; items are spaced by minutes from here


def submission(
    n: int, sub: str = "AcmeGadgets", *, title: str | None = None, ts: float | None = None, **extra: Any
) -> dict[str, Any]:
    """A t3 data dict in Reddit's shape, numbered `n` (newer for larger n)."""
    data = {
        "id": f"s{n}",
        "name": f"t3_s{n}",
        "title": title if title is not None else f"Acme post {n}",
        "selftext": f"My **Acme** gadget, story number {n}.",
        "author": f"user{n % 7}",
        "subreddit": sub,
        "subreddit_subscribers": 12345,
        "created_utc": ts if ts is not None else BASE_TS + 60 * n,
        "score": n,
        "num_comments": n % 5,
        "permalink": f"/r/{sub}/comments/s{n}/acme_post_{n}/",
        "url": f"https://www.reddit.com/r/{sub}/comments/s{n}/acme_post_{n}/",
        "is_self": True,
        "over_18": False,
    }
    data.update(extra)
    return data


def comment(
    n: int, sub: str = "AcmeGadgets", *, body: str | None = None, ts: float | None = None, **extra: Any
) -> dict[str, Any]:
    """A t1 data dict in the shape of `/r/{sub}/comments` items."""
    data = {
        "id": f"c{n}",
        "name": f"t1_c{n}",
        "body": body if body is not None else f"Replying about Acme, comment {n}.",
        "author": f"commenter{n % 5}",
        "subreddit": sub,
        "created_utc": ts if ts is not None else BASE_TS + 60 * n + 30,
        "score": 2,
        "link_id": "t3_s1",
        "link_title": "Acme post 1",
        "permalink": f"/r/{sub}/comments/s1/acme_post_1/c{n}/",
    }
    data.update(extra)
    return data


def populate(api: FakeReddit, posts: int, comments: int = 0, sub: str = "AcmeGadgets", start: int = 1) -> None:
    """Add a subreddit with `posts` submissions and `comments` comments numbered from `start`."""
    if sub.lower() not in api.subreddits:
        api.add_subreddit(sub, subscribers=12345)
    for n in range(start, start + posts):
        api.add_thing("t3", submission(n, sub))
    for n in range(start, start + comments):
        api.add_thing("t1", comment(n, sub))
