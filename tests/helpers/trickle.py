"""A route handler for tests/helpers/http_server.py that sends a feed one byte at a time (a trickling server)."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler


def trickle(body: bytes, pause: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """A handler that announces `body` and then writes it one byte per `pause` seconds, never stalling long
    enough for a per-read timeout to fire."""

    def handle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "application/rss+xml")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        try:
            for position in range(len(body)):
                request.wfile.write(body[position : position + 1])
                request.wfile.flush()
                time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the test wants

    return handle
