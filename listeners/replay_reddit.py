"""Reddit as the demo replays it (and the tests' fake builds on): answers the way Reddit does, from fixtures.

It serves the OAuth token endpoint (`POST /api/v1/access_token`, HTTP basic auth with the app's id and secret),
subreddit listings (`/r/{name}/new`, `/r/{name}/comments`, `/r/{name}/about`, `/api/info?sr_name=`) and search (`/r/all/search`,
`/search`), as `Listing` objects paginated with `after` fullnames, newest first. Things are stored in Reddit's
own shape (`{"kind": "t3", "data": {...}}`), so fixture files hold what the real API returns.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from pathlib import Path
from typing import Any

from earful_listeners.replay_api import ReplayApi, Reply, Request

_LISTING_PATH = re.compile(r"^/r/(?P<sub>[A-Za-z0-9_]+)/(?P<what>new|comments|about|search)(?:\.json)?/?$")
_SEARCH_PATH = re.compile(r"^/search(?:\.json)?/?$")
_TERM = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"and", "or", "not"}


class RedditReplay(ReplayApi):
    """Holds subreddits and things; answers listings, search and the token endpoint."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.subreddits: dict[str, dict[str, Any]] = {}
        self.things: list[dict[str, Any]] = []
        self.tokens: set[str] = set()

    # -- content -----------------------------------------------------------------------------------------------

    def add_subreddit(self, name: str, subscribers: int = 1000, **data: object) -> None:
        """Add (or replace) a subreddit's `about` data."""
        self.subreddits[name.lower()] = {
            "display_name": name,
            "subscribers": subscribers,
            "name": f"t5_{name.lower()}",
            **data,
        }

    def add_thing(self, kind: str, data: dict[str, Any]) -> None:
        """Add a submission (t3) or comment (t1) in Reddit's own JSON shape."""
        self.things.append({"kind": kind, "data": data})

    def load(self, folder: Path) -> RedditReplay:
        """Load every `*.json` fixture file of a folder: `{"subreddits": [...], "things": [...]}`."""
        for path in sorted(Path(folder).glob("*.json")):
            content = json.loads(path.read_text(encoding="utf-8"))
            for about in content.get("subreddits", []):
                self.add_subreddit(**about)
            for thing in content.get("things", []):
                self.add_thing(thing["kind"], thing["data"])
        return self

    # -- routes ------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        if request.path.rstrip("/") == "/api/v1/access_token":
            return self._token(request)
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or auth.split(" ", 1)[1] not in self.tokens:
            return Reply(401, {"message": "Unauthorized", "error": 401})
        if request.path.rstrip("/") in ("/api/info", "/api/info.json"):
            return self._info(request)
        match = _LISTING_PATH.match(request.path)
        if match:
            sub, what = match["sub"], match["what"]
            if what == "search" or sub.lower() == "all":
                if what != "search":
                    return self._listing(
                        request, [t for t in self.things if t["kind"] == ("t3" if what == "new" else "t1")]
                    )
                return self._search(request, None if sub.lower() == "all" else sub)
            about = self.subreddits.get(sub.lower())
            if about is None:
                return Reply(404, {"message": "Not Found", "error": 404})
            if what == "about":
                return Reply(200, {"kind": "t5", "data": about})
            kind = "t3" if what == "new" else "t1"
            return self._listing(request, [t for t in self.things if t["kind"] == kind and _in_sub(t, sub)])
        if _SEARCH_PATH.match(request.path):
            return self._search(request, None)
        return Reply(404, {"message": "Not Found", "error": 404})

    def _token(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        try:
            user, _, password = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")
        except (IndexError, ValueError):
            return Reply(401, {"message": "Unauthorized", "error": 401})
        if (user, password) != (self.client_id, self.client_secret):
            return Reply(401, {"message": "Unauthorized", "error": 401})
        if request.params.get("grant_type") != "client_credentials":
            return Reply(200, {"error": "unsupported_grant_type"})
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    def _info(self, request: Request) -> Reply:
        """`/api/info?sr_name=a,b`: the subreddits' about data as a Listing of t5 things (unknown names left out)."""
        names = [n for n in request.params.get("sr_name", "").split(",") if n]
        found = [{"kind": "t5", "data": self.subreddits[n.lower()]} for n in names if n.lower() in self.subreddits]
        return Reply(
            200,
            {
                "kind": "Listing",
                "data": {
                    "after": None,
                    "before": None,
                    "dist": len(found),
                    "modhash": None,
                    "geo_filter": "",
                    "children": found,
                },
            },
        )

    def _search(self, request: Request, sub: str | None) -> Reply:
        terms = {t for t in _TERM.findall(request.params.get("q", "").casefold()) if t not in _OPERATORS}
        found = [
            t
            for t in self.things
            if t["kind"] == "t3"
            and (sub is None or _in_sub(t, sub))
            and terms & set(_TERM.findall(f"{t['data'].get('title', '')} {t['data'].get('selftext', '')}".casefold()))
        ]
        return self._listing(request, found)

    def _listing(self, request: Request, things: list[dict[str, Any]]) -> Reply:
        ordered = sorted(
            things, key=lambda t: (t["data"].get("created_utc", 0), t["data"].get("name", "")), reverse=True
        )
        after = request.params.get("after")
        if after:
            names = [t["data"].get("name") for t in ordered]
            ordered = ordered[names.index(after) + 1 :] if after in names else []
        limit = max(1, min(100, int(request.params.get("limit") or 25)))
        page, rest = ordered[:limit], ordered[limit:]
        return Reply(
            200,
            {
                "kind": "Listing",
                "data": {
                    "after": page[-1]["data"].get("name") if rest and page else None,
                    "before": None,
                    "dist": len(page),
                    "modhash": None,
                    "geo_filter": "",
                    "children": page,
                },
            },
        )


def _in_sub(thing: dict[str, Any], sub: str) -> bool:
    return str(thing["data"].get("subreddit", "")).lower() == sub.lower()
