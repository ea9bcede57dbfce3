"""Replay bundled fixture responses through the real praw, tweepy, Mastodon.py and atproto clients (the demo).

The replay APIs (listeners.replay_*) answer in-process: a requests transport adapter (an httpx MockTransport for atproto) hands each
request the client makes to the
replay API's router and turns its reply into a `requests.Response`. The clients, their OAuth, pagination,
rate-limit and error handling run unchanged; only the socket is left out, so nothing needs starting or stopping.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from typing_extensions import override

from earful_listeners.replay_api import ReplayApi, Request

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

REPLAY_CLIENT_ID = "replay-client"
REPLAY_CLIENT_SECRET = "replay-secret"  # noqa: S105 - not a secret: the in-process replay API's own app password
REPLAY_BEARER = "replay-bearer"


class ReplayApiAdapter(HTTPAdapter):
    """Answers every request from a ReplayApi, in-process."""

    def __init__(self, api: ReplayApi) -> None:
        super().__init__()
        self._api = api

    @override
    def send(  # stream, timeout, verify, cert and proxies do not apply in-process
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        raw = request.body or b""
        body = raw.encode() if isinstance(raw, str) else cast(bytes, raw)  # praw and tweepy send str or bytes bodies
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        reply = self._api.handle(Request(request.method or "GET", parts.path, params, headers, body))
        response = requests.Response()
        response.status_code = reply.status
        response.headers = CaseInsensitiveDict({"content-type": "application/json; charset=UTF-8", **reply.headers})
        response._content = reply.encoded()  # noqa: SLF001 - how requests builds a response from bytes
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if reply.status < 400 else "Error"
        return response


def replay_session(api: ReplayApi) -> requests.Session:
    """A requests session whose every request is answered by `api`."""
    session = requests.Session()
    adapter = ReplayApiAdapter(api)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def reddit_replay(folder: Path) -> requests.Session:
    """A session answering like Reddit from the fixture files in `folder`."""
    from earful_listeners.replay_reddit import RedditReplay

    return replay_session(RedditReplay(REPLAY_CLIENT_ID, REPLAY_CLIENT_SECRET).load(folder))


def x_replay(folder: Path) -> requests.Session:
    """A session answering like X API v2 from the fixture files in `folder`."""
    from earful_listeners.replay_x import XReplay

    return replay_session(XReplay(REPLAY_BEARER).load(folder))


def mastodon_replay(folder: Path, host: str) -> requests.Session:
    """A session answering like the Mastodon instance `host` from the fixture files in `folder/<host>/`."""
    from earful_listeners.replay_mastodon import MastodonReplay

    return replay_session(MastodonReplay(REPLAY_BEARER, host=host).load(folder / host))


REPLAY_APP_PASSWORD = "replay-app-password"  # noqa: S105 - the in-process replay API's own app password


def bluesky_replay(folder: Path) -> httpx.BaseTransport:
    """An httpx transport (atproto speaks httpx) answering like Bluesky from the fixture files in `folder`."""
    import httpx

    from earful_listeners.replay_bluesky import BlueskyReplay

    api = BlueskyReplay("earful-replay.bsky.social", REPLAY_APP_PASSWORD).load(folder)

    def answer(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        headers = {k.lower(): v for k, v in request.headers.items()}
        reply = api.handle(Request(request.method, request.url.path, params, headers, request.content))
        content_type = "application/json; charset=utf-8"
        return httpx.Response(
            reply.status, headers={"content-type": content_type, **reply.headers}, content=reply.encoded()
        )

    return httpx.MockTransport(answer)
