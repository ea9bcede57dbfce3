"""Scriptable fake platform APIs for tests: the demo's replay APIs plus recorded requests, scripted failures and
a real HTTP server on 127.0.0.1.

`api.fail(429, headers=...)`, `api.fail(500)`, `api.fail(delay=3)` (the client times out),
`api.fail(200, body="{not json")`; `api.requests` holds what the fake received; `with api.serve() as url:`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from earful_listeners.replay_api import Body, ReplayApi, Reply, Request


@dataclass
class Fault:
    """A scripted failure, used for the next `times` requests whose path starts with `path` (any when None)."""

    status: int = 500
    body: Body = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering; longer than the client's timeout means a timeout
    path: str | None = None
    times: int = 1
    after: int = 0  # let this many matching requests through first (a failure in the middle of pagination)


class ScriptedApi(ReplayApi):
    """Mixed in before a platform's replay API: `class FakeX(ScriptedApi, XReplay)`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.requests: list[Request] = []

    def fail(
        self,
        status: int = 500,
        *,
        body: Body = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        path: str | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer the next matching request(s) with this failure instead of the real route."""
        with self._lock:
            self._faults.append(Fault(status, body, dict(headers or {}), delay, path, times, after))

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path is None or path.startswith(fault.path):
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def error_body(self, status: int) -> Body:
        """The body of a scripted failure, in the API's own error shape."""
        return {"error": status, "message": "scripted failure"}

    def answer(self, request: Request) -> tuple[Reply, float]:
        """The reply to one request (a scripted fault first), and the delay before sending it."""
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.path)
        if fault is not None:
            body = fault.body if fault.body is not None else self.error_body(fault.status)
            return Reply(fault.status, body, dict(fault.headers)), fault.delay
        return super().handle(request), 0.0

    def handle(self, request: Request) -> Reply:
        """In-process (the replay adapter): faults apply, their delays do not."""
        return self.answer(request)[0]

    @contextmanager
    def serve(self, port: int = 0) -> Iterator[str]:
        """Serve on 127.0.0.1 (a free port unless given) in a thread; yields the base URL."""
        server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        server.daemon_threads = True
        thread = threading.Thread(  # a short poll: shutdown() waits up to poll_interval (0.5 s by default)
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


def _handler_for(api: ScriptedApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            request = Request(self.command, parts.path, params, {k.lower(): v for k, v in self.headers.items()}, body)
            reply, delay = api.answer(request)
            if delay:
                time.sleep(delay)
            payload = reply.encoded()
            try:
                self.send_response(reply.status)
                content_type = "application/json; charset=UTF-8"
                if isinstance(reply.body, (str, bytes)):
                    content_type = "text/plain; charset=UTF-8"
                self.send_header("Content-Type", reply.headers.pop("content-type", content_type))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        do_GET = _serve  # noqa: N815
        do_POST = _serve  # noqa: N815

    return Handler
