"""Mastodon's REST API as the demo replays it (and the tests' fake builds on): tag timelines and search.

`GET /api/v1/timelines/tag/:hashtag` answers a JSON array of Status entities, newest first, honouring `limit`
(at most 40), `max_id`, `since_id` and `min_id` (the page just above `min_id`), with a `Link` header
(`rel="next"` with `max_id`, `rel="prev"` with `min_id`) and the `X-RateLimit-Limit/Remaining/Reset` headers.
`GET /api/v2/search?type=statuses` (ids bounded by `min_id`/`max_id`, newest first) answers `{"accounts": [], "statuses": [...], "hashtags": []}` for a valid
access token only (search needs a user token on Mastodon); words of `q` match the status text (any word).
`GET /api/v1/instance` answers a small Instance entity. Fixture files hold Status entities as Mastodon returns
them (account embedded, `content` as HTML, `reblog` holding the boosted status).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from earful_listeners.replay_api import ReplayApi, Reply, Request

_TAG_ROUTE = re.compile(r"^/api/v1/timelines/tag/([^/]+)$")
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKUP = re.compile(r"<[^>]+>")
MAX_LIMIT = 40
RATE_LIMIT = 300


def _order(status_id: str) -> tuple[int, str]:
    """Mastodon ids are numeric strings (snowflakes): compare by length, then text."""
    return (len(status_id), status_id)


class MastodonReplay(ReplayApi):
    """Holds statuses of one instance; answers the public hashtag timeline and, with the token, search."""

    def __init__(self, access_token: str | None = None, host: str = "mastodon.example") -> None:
        super().__init__()
        self.access_token = access_token
        self.host = host
        self.statuses: dict[str, dict[str, Any]] = {}
        self.remaining = RATE_LIMIT

    def add_status(self, status: dict[str, Any]) -> None:
        """Add a Status entity (as the API returns it)."""
        self.statuses[str(status["id"])] = status

    def load(self, folder: Path) -> MastodonReplay:
        """Load every `*.json` fixture file of a folder: `{"statuses": [...]}`."""
        for path in sorted(Path(folder).glob("*.json")):
            for status in json.loads(path.read_text(encoding="utf-8")).get("statuses", []):
                self.add_status(status)
        return self

    def route(self, request: Request) -> Reply:
        authorization = request.headers.get("authorization")
        authorized = bool(self.access_token) and authorization == f"Bearer {self.access_token}"
        if authorization and not authorized:
            return Reply(401, {"error": "The access token is invalid"})
        path = request.path.rstrip("/")
        if path in ("/api/v1/instance", "/api/v2/instance"):
            return Reply(
                200,
                {
                    "uri": self.host,
                    "domain": self.host,
                    "title": "Fake",
                    "version": "4.3.2",
                    "api_versions": {"mastodon": 2},
                },
            )
        if (match := _TAG_ROUTE.match(path)) is not None:
            tag = match.group(1).casefold()
            found = [
                s
                for s in self.statuses.values()
                if tag in {str(t.get("name", "")).casefold() for t in s.get("tags", [])}
            ]
            return self._page(found, request, path)
        if path == "/api/v2/search":
            if not authorized:
                return Reply(401, {"error": "This action requires an access token"})
            words = set(_WORD.findall(request.params.get("q", "").casefold()))
            found = [
                s
                for s in self.statuses.values()
                if s.get("reblog") is None
                and words & set(_WORD.findall(_MARKUP.sub(" ", str(s.get("content", ""))).casefold()))
            ]
            if request.params.get("type") not in (None, "statuses"):
                found = []
            reply = self._page(found, request, path, link=False, adjacent_min_id=False)
            reply.body = {"accounts": [], "statuses": reply.body, "hashtags": []}
            return reply
        return Reply(404, {"error": "Record not found"})

    def _page(
        self, found: list[dict[str, Any]], request: Request, path: str, link: bool = True, adjacent_min_id: bool = True
    ) -> Reply:
        params = request.params
        try:
            limit = min(int(params.get("limit", "20")), MAX_LIMIT)
        except ValueError:
            return Reply(422, {"error": "Validation failed: limit is not a number"})
        ordered = sorted(found, key=lambda s: _order(str(s["id"])), reverse=True)
        for bound, keep in (
            ("max_id", lambda i, b: i < b),
            ("since_id", lambda i, b: i > b),
            ("min_id", lambda i, b: i > b),
        ):
            if params.get(bound):
                ordered = [s for s in ordered if keep(_order(str(s["id"])), _order(params[bound]))]
        # Timelines page forward from min_id: the `limit` statuses just above it (still answered newest first).
        # Search filters by id range and answers the newest first.
        page = ordered[-limit:] if params.get("min_id") and adjacent_min_id else ordered[:limit]
        self.remaining = max(self.remaining - 1, 0)
        reset = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        headers = {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset,
        }
        if link and page:
            base = (
                f"http://{request.headers['host']}{path}" if "host" in request.headers else f"https://{self.host}{path}"
            )
            older = urlencode({"limit": limit, "max_id": page[-1]["id"]})
            newer = urlencode({"limit": limit, "min_id": page[0]["id"]})
            headers["Link"] = f'<{base}?{older}>; rel="next", <{base}?{newer}>; rel="prev"'
        return Reply(200, page, headers)
