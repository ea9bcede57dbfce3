"""Replay bundled fixture responses through the real praw and tweepy clients (the demo, without credentials).

The fake Reddit and X APIs answer in-process: a requests transport adapter hands each request the client makes
to the fake API's router and turns its reply into a `requests.Response`. The clients, their OAuth, pagination,
rate-limit and error handling run unchanged; only the socket is left out, so nothing needs starting or stopping.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from listeners.replay_server import FakeApi, Request

REPLAY_CLIENT_ID = "replay-client"
REPLAY_CLIENT_SECRET = "replay-secret"  # noqa: S105 - not a secret: the in-process fake API's own app password
REPLAY_BEARER = "replay-bearer"  # noqa: S105


class FakeApiAdapter(HTTPAdapter):
    """Answers every request from a FakeApi, in-process."""

    def __init__(self, api: FakeApi) -> None:
        super().__init__()
        self._api = api

    def send(self, request: requests.PreparedRequest, **kwargs):  # noqa: ANN003, ANN201
        parts = urlsplit(request.url or "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in request.headers.items()}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        reply, _delay = self._api.handle(Request(request.method or "GET", parts.path, params, headers, body))
        response = requests.Response()
        response.status_code = reply.status
        response.headers = CaseInsensitiveDict({"content-type": "application/json; charset=UTF-8", **reply.headers})
        response._content = reply.encoded()  # noqa: SLF001 - how requests builds a response from bytes
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if reply.status < 400 else "Error"
        return response


def replay_session(api: FakeApi) -> requests.Session:
    """A requests session whose every request is answered by `api`."""
    session = requests.Session()
    adapter = FakeApiAdapter(api)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def reddit_replay(folder: Path) -> requests.Session:
    """A session answering like Reddit from the fixture files in `folder`."""
    from listeners.reddit_fake_api import FakeReddit

    return replay_session(FakeReddit(REPLAY_CLIENT_ID, REPLAY_CLIENT_SECRET).load(folder))


def x_replay(folder: Path) -> requests.Session:
    """A session answering like X API v2 from the fixture files in `folder`."""
    from listeners.x_fake_api import FakeX

    return replay_session(FakeX(REPLAY_BEARER).load(folder))
