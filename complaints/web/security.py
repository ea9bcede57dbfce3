"""Web security pieces: signed session cookies, CSRF tokens, security headers, sign-in throttling."""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response

CSRF_FIELD = "csrf_token"
# No scripts at all; styles only from our own stylesheet; forms only back to us; never framed.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def csrf_ok(request: Request, submitted: object) -> bool:
    """True when the submitted token matches the session's (constant-time comparison)."""
    expected = request.session.get("csrf")
    return bool(expected) and isinstance(submitted, str) and secrets.compare_digest(expected, submitted)


class SecurityHeaders(BaseHTTPMiddleware):
    """Headers that keep browsers from running, sniffing, framing or caching what they should not."""

    async def dispatch(self, request: Request, call_next) -> Response:  # noqa: ANN001
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response


class SignInThrottle:
    """Refuse sign-in for a user name after too many failures in a window (slows password guessing)."""

    def __init__(self, max_failures: int = 5, window_seconds: float = 900) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, username: str, now: float) -> deque[float]:
        failures = self._failures[username.lower()]
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def blocked(self, username: str) -> bool:
        return len(self._recent(username, time.monotonic())) >= self.max_failures

    def failed(self, username: str) -> None:
        self._recent(username, time.monotonic()).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        self._failures.pop(username.lower(), None)


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
