"""The fake Bluesky API for tests: the demo's replay API made scriptable, plus builders of PostViews with facets."""

from __future__ import annotations

from typing import Any

from earful_listeners.replay_api import Body
from earful_listeners.replay_bluesky import BlueskyReplay
from tests.fakes.scripted import ScriptedApi

__all__ = ["FakeBluesky", "post", "populate", "did", "link_facet", "IDENTIFIER", "PASSWORD"]


class FakeBluesky(ScriptedApi, BlueskyReplay):
    """The demo's BlueskyReplay with recorded requests, scripted failures and an HTTP server."""

    def error_body(self, status: int) -> Body:
        """XRPC's error shape."""
        return {"error": "RateLimitExceeded" if status == 429 else "InternalServerError", "message": "scripted failure"}


IDENTIFIER = "earful-reader.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"  # an app password of the fake only


def did(n: int) -> str:
    """A did:plc of 24 base32 characters."""
    return f"did:plc:{'a' * (24 - len(str(n)))}{n}"


def rkey(n: int) -> str:
    """A TID-like record key (13 characters)."""
    return f"3lb{n:010d}"


def link_facet(text: str, anchor: str, uri: str) -> dict[str, Any]:
    """A link facet over the first `anchor` in `text`, with UTF-8 byte offsets as Bluesky uses."""
    start = text.encode("utf-8").index(anchor.encode("utf-8"))
    return {
        "index": {"byteStart": start, "byteEnd": start + len(anchor.encode("utf-8"))},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
    }


def post(
    n: int,
    *,
    text: str | None = None,
    author: int = 1,
    langs: tuple[str, ...] = ("en",),
    facets: list[dict[str, Any]] | None = None,
    minute: int | None = None,
    **record_extra: Any,
) -> dict[str, Any]:
    """A PostView numbered `n` (newer for larger n): author, record, counts, indexedAt."""
    m = n if minute is None else minute
    created = f"2026-11-20T10:{m // 60 % 60:02d}:{m % 60:02d}.000Z"
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text if text is not None else f"My Acme boots number {n} are fine",
        "createdAt": created,
        "langs": list(langs),
    }
    if facets:
        record["facets"] = facets
    record.update(record_extra)
    return {
        "uri": f"at://{did(author)}/app.bsky.feed.post/{rkey(n)}",
        "cid": f"bafyreib{n:052d}"[:59],
        "author": {
            "did": did(author),
            "handle": f"person{author}.bsky.social",
            "displayName": f"Person {author}",
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did(author)}/bafkrei@jpeg",
            "labels": [],
            "createdAt": "2024-05-01T00:00:00.000Z",
        },
        "record": record,
        "replyCount": 1,
        "repostCount": 2,
        "likeCount": n,
        "quoteCount": 0,
        "bookmarkCount": 0,
        "indexedAt": created.replace(".000Z", ".400Z"),
        "labels": [],
    }


def populate(api: FakeBluesky, posts: int, start: int = 1, authors: int = 3) -> None:
    """Add `posts` posts mentioning Acme, numbered from `start`."""
    for n in range(start, start + posts):
        api.add_post(post(n, author=1 + n % authors))
