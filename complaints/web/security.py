"""Web security pieces: security headers on every response, CSRF tokens, bounded form parsing, safe redirects."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "earful_session"
# Signed-out forms (sign-in) carry a token that must match this cookie (double submit); signed-in forms carry
# the token kept with the session in the database.
SIGNIN_CSRF_COOKIE = "earful_signin_csrf"
# No scripts at all; styles only from our own stylesheet; forms only back to us; never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def security_headers(path: str) -> dict[str, str]:
    """The headers every response carries (errors included)."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """ASGI middleware adding security_headers() to every response that passes through it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in security_headers(scope.get("path", "")).items()
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in extra}
                message = {
                    **message,
                    "headers": [(k, v) for k, v in message.get("headers", []) if k not in names] + extra,
                }
            await send(message)

        await self.app(scope, receive, send_with_headers)


class FormTooLarge(Exception):
    """The posted form is over the configured size."""


class FormNotSupported(Exception):
    """The request body is not an HTML form (application/x-www-form-urlencoded)."""


async def read_form(request: Request, max_bytes: int) -> dict[str, str]:
    """The posted urlencoded form, read with a size limit (the last value of a repeated field wins)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise FormNotSupported()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FormTooLarge()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise FormTooLarge()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise FormNotSupported() from None
    return dict(pairs)


def new_csrf_token() -> str:
    """A fresh random CSRF token."""
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, submitted: object) -> bool:
    """True when both are non-empty and equal (constant-time comparison)."""
    if not expected or not isinstance(submitted, str):
        return False
    return secrets.compare_digest(expected.encode(), submitted.encode())


def safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after sign-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
