"""Throw-away HTTP servers on 127.0.0.1 for tests: `serving` runs any request handler in a thread on a free port,
`scripted_server` one where each path answers with a configured behaviour."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    """How one path answers."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a slow server)
    hang: bool = False  # never answer (until the server stops): a client's timeout is what ends the request
    gzip: bool = False
    etag: str | None = None  # answer 304 when If-None-Match matches
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass
class ScriptedServer:
    """Routes by path, and a log of requests (path, headers)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    base_url: str = ""
    stopping: threading.Event = field(default_factory=threading.Event)  # releases hanging requests

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return f"{self.base_url}{path}"


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            server.requests.append((self.path, dict(self.headers)))
            route = server.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            if route.hang:
                server.stopping.wait()
                return
            if route.delay:
                time.sleep(route.delay)
            if route.handler:
                route.handler(self)
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            body = gzip.compress(route.body) if route.gzip else route.body
            self.send_response(route.status)
            for key, value in route.headers.items():
                self.send_header(key, value)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.gzip:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free port of 127.0.0.1 in a thread; yields the base URL (http://127.0.0.1:PORT).

    Request threads are daemons, so a request still in a handler (a slow or hanging answer) never delays the
    test's end."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    # serve_forever looks at shutdown() every poll_interval (0.5 s by default): that was half a second per test.
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def scripted_server() -> Iterator[ScriptedServer]:
    """Serve a ScriptedServer on a free port of 127.0.0.1 in a thread."""
    state = ScriptedServer()
    with serving(_handler(state)) as base_url:
        state.base_url = base_url
        try:
            yield state
        finally:
            state.stopping.set()  # hanging requests end before the server stops
