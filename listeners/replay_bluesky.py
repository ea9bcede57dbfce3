"""Bluesky's XRPC API as the demo replays it (and the tests' fake builds on): login and post search.

`POST /xrpc/com.atproto.server.createSession` takes `{"identifier", "password"}` and answers
`{"accessJwt", "refreshJwt", "handle", "did", "active"}`. `GET /xrpc/app.bsky.feed.searchPosts` answers
`{"posts": [PostView...], "cursor"?, "hitsTotal"}`, latest first by `sortAt` (the earlier of the record's
`createdAt` and `indexedAt`), honouring `q` (any word or "phrase" of the post text), `lang`, `since` (inclusive),
`until` (exclusive), `limit` (1-100, default 25) and `cursor`; with `require_auth` it refuses requests without
the session's bearer token (403), as the public AppView does for search. Every answer carries the
`ratelimit-limit/remaining/reset/policy` headers. Fixture files hold PostViews as the AppView returns them.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

from earful_listeners.replay_api import ReplayApi, Reply, Request

_WORD = re.compile(r"\w+", re.UNICODE)
READER_DID = "did:plc:earfulreaderaccount0000"


def _jwt(scope: str, lifetime: int) -> str:
    """A JWT in the shape a PDS issues (atproto reads its `exp`); the signature is a placeholder."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"scope": scope, "sub": READER_DID, "aud": "did:web:bsky.social", "iat": now, "exp": now + lifetime}
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.c2lnbmF0dXJl"


RATE_LIMIT = 3000


def sort_at(post: dict[str, Any]) -> str:
    """The time search orders and bounds by: the earlier of createdAt and indexedAt (ISO 8601, UTC)."""
    created = str((post.get("record") or {}).get("createdAt") or post.get("indexedAt") or "")
    indexed = str(post.get("indexedAt") or created)
    return min(created[:23], indexed[:23])


class BlueskyReplay(ReplayApi):
    """Holds PostViews; answers login and searchPosts."""

    def __init__(
        self, identifier: str = "earful.example.com", password: str | None = None, require_auth: bool = True
    ) -> None:
        super().__init__()
        self.identifier = identifier
        self.password = password
        self.require_auth = require_auth
        self.posts: dict[str, dict[str, Any]] = {}
        self.remaining = RATE_LIMIT
        self._tokens: set[str] = set()

    def add_post(self, post: dict[str, Any]) -> None:
        """Add a PostView (as the AppView returns it)."""
        self.posts[str(post["uri"])] = post

    def load(self, folder: Path) -> BlueskyReplay:
        """Load every `*.json` fixture file of a folder: `{"posts": [...]}`."""
        for path in sorted(Path(folder).glob("*.json")):
            for post in json.loads(path.read_text(encoding="utf-8")).get("posts", []):
                self.add_post(post)
        return self

    def route(self, request: Request) -> Reply:
        if request.path == "/xrpc/com.atproto.server.createSession" and request.method == "POST":
            return self._login(request)
        if request.path != "/xrpc/app.bsky.feed.searchPosts":
            return Reply(501, {"error": "MethodNotImplemented", "message": "Method Not Implemented"})
        if self.require_auth and request.headers.get("authorization") not in self._tokens:
            return Reply(403, {"error": "Forbidden", "message": "search requires authentication"})
        params = request.params
        try:
            limit = int(params.get("limit", "25"))
            offset = int(params.get("cursor") or 0)
        except ValueError:
            return Reply(400, {"error": "InvalidRequest", "message": "Error: limit/cursor must be an integer"})
        if not 1 <= limit <= 100 or not params.get("q"):
            return Reply(400, {"error": "InvalidRequest", "message": "Error: limit must be between 1 and 100"})
        found = [p for p in self.posts.values() if self._matches(p, params)]
        found.sort(key=lambda p: (sort_at(p), p["uri"]), reverse=True)
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(found)}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        self.remaining = max(self.remaining - 1, 0)
        headers = {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": f"{RATE_LIMIT};w=300",
        }
        return Reply(200, body, headers)

    def _login(self, request: Request) -> Reply:
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return Reply(400, {"error": "InvalidRequest", "message": "Request body must be JSON"})
        if data.get("identifier") != self.identifier or self.password is None or data.get("password") != self.password:
            return Reply(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"})
        access = _jwt("com.atproto.appPass", 7200)
        self._tokens.add(f"Bearer {access}")
        return Reply(
            200,
            {
                "accessJwt": access,
                "refreshJwt": _jwt("com.atproto.refresh", 86400 * 60),
                "handle": self.identifier,
                "did": READER_DID,
                "active": True,
            },
        )

    @staticmethod
    def _matches(post: dict[str, Any], params: dict[str, str]) -> bool:
        record = post.get("record") or {}
        if params.get("lang") and params["lang"] not in (record.get("langs") or []):
            return False
        at = sort_at(post)
        if params.get("since") and at < params["since"][:23]:
            return False
        if params.get("until") and at >= params["until"][:23]:
            return False
        words = set(_WORD.findall(str(record.get("text", "")).casefold()))
        terms = set(_WORD.findall(params["q"].casefold()))
        return bool(words & terms)
