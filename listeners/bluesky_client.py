"""The atproto client of the Bluesky listeners: where requests go, the app-password session, how errors are read."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from earful_listeners.bluesky_config import BlueskySettings
from earful_listeners.ratelimit import Classified


class BlueskySession:
    """One atproto `Client` shared by the Bluesky listeners; it logs in with the app password on first use.

    Logging in lazily keeps listing the sources (Airflow's `list_sources`) free of network calls, and a refused
    login fails the Bluesky sources only.
    """

    def __init__(
        self, settings: BlueskySettings, password: str | None, transport: httpx.BaseTransport | None = None
    ) -> None:
        from atproto import Client
        from atproto_client.request import Request

        options: dict[str, Any] = {"timeout": httpx.Timeout(settings.timeout)}
        if transport is not None:
            options["transport"] = transport
        self._password = password
        self._identifier = settings.identifier
        self._logged_in = False
        self._lock = threading.Lock()
        base = settings.service_url if password else settings.public_url
        self.client = Client(base_url=base, request=Request(**options))

    @property
    def authenticated(self) -> bool:
        """True when an app password is configured."""
        return self._password is not None

    def ensure_login(self) -> None:
        """Create the session once (app password), before the first search."""
        if self._password is None or self._logged_in:
            return
        with self._lock:
            if not self._logged_in:
                self.client.login(self._identifier, self._password, fetch_bsky_profile=False)
                self._logged_in = True

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.client.request.close()


def classify(exc: BaseException) -> Classified:
    """429 -> rate limited until `ratelimit-reset`; 5xx, timeouts and network errors -> transient."""
    from atproto_client import exceptions as ex

    if isinstance(exc, ex.RateLimitExceededError):
        if exc.retry_after is not None:
            return Classified("rate_limited", exc.retry_after)
        reset = exc.reset_at
        return Classified("rate_limited", None if reset is None else max(0.0, reset.timestamp() - time.time()))
    if isinstance(exc, ex.NetworkError):  # also timeouts, 409/413/502
        return Classified("transient")
    if isinstance(exc, ex.RequestException) and _status(exc) is not None and _status(exc) >= 500:  # type: ignore[operator]
        return Classified("transient")
    return Classified("fatal")


def describe(exc: BaseException) -> str:
    """A one-line, secret-free description of an atproto failure for a SourceError."""
    from atproto_client import exceptions as ex

    status = _status(exc)
    detail = _detail(exc)
    if isinstance(exc, ex.UnauthorizedError):
        if detail.startswith("AuthenticationRequired"):
            return "Bluesky refused the login (401): check sources.bluesky.identifier and EARFUL_SOURCES__BLUESKY__APP_PASSWORD"
        return (
            f"Bluesky refused the search ({status}): it may need an app password "
            "(set sources.bluesky.identifier and EARFUL_SOURCES__BLUESKY__APP_PASSWORD)"
        )
    if isinstance(exc, ex.BadRequestError):
        return f"Bluesky rejected the request (400): {detail or 'invalid request'}"
    if isinstance(exc, ex.InvokeTimeoutError):
        return "Bluesky did not answer in time after retries"
    if isinstance(exc, ex.NetworkError):
        return f"Bluesky could not be reached ({status or 'network error'}) after retries"
    if isinstance(exc, ex.RequestException):
        return (
            f"Bluesky answered {status}"
            + (" after retries" if status and status >= 500 else "")
            + (f": {detail}" if detail else "")
        )
    if isinstance(exc, (ex.ModelError, ValueError, TypeError)):
        return "Bluesky answered with a malformed body"
    return f"unexpected {type(exc).__name__} from atproto"


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _detail(exc: BaseException) -> str:
    content = getattr(getattr(exc, "response", None), "content", None)
    error = getattr(content, "error", None)
    message = getattr(content, "message", None)
    return (f"{error}: {message}" if message else str(error or ""))[:200]
