"""The base of the demo's replay APIs: a request, a reply, and a router that answers from fixture files.

The platform emulations (replay_reddit, replay_x, replay_mastodon, replay_bluesky) answer the requests the real
clients make, in the platforms' own shapes, in-process (listeners.replay hands them each request). Scripted
failures (429s, timeouts, broken bodies) and serving on a socket are test code: tests/fakes/scripted.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# A JSON document as the platforms send it (dict/list), or a raw body (str/bytes as they are), or none.
Body = dict[str, Any] | list[Any] | str | bytes | None


@dataclass
class Reply:
    """One HTTP answer."""

    status: int = 200
    body: Body = None  # dict/list -> JSON; str/bytes as they are
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        """The body as bytes on the wire."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Request:
    """A request as the replay API sees it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ReplayApi:
    """Base class: subclasses implement `route(request) -> Reply`."""

    def route(self, request: Request) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def handle(self, request: Request) -> Reply:
        """The reply to one request; a broken fixture answers 500, like a broken server."""
        try:
            return self.route(request)
        except Exception as exc:  # noqa: BLE001 - whatever the fixture breaks, the client sees a server error
            return Reply(500, {"error": 500, "message": f"replay server error: {type(exc).__name__}"})
