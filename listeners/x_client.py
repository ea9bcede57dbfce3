"""The tweepy v2 client of the X listeners: bearer token, where requests go, timeouts, how errors are read."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import requests

from earful_listeners.ratelimit import Classified, http_session
from earful_listeners.x_config import XSettings

if TYPE_CHECKING:
    import tweepy

TWEEPY_HOST = "https://api.twitter.com"  # where tweepy sends every request; re-based when api_base differs


class _RedactBearer(logging.Filter):
    """tweepy logs request headers at DEBUG level; the bearer token must never reach a log."""

    def __init__(self, token: str) -> None:
        super().__init__("tweepy-redact")
        self._token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._token and self._token in message:
            record.msg, record.args = message.replace(self._token, "***"), None
        return True


def make_x_client(settings: XSettings, bearer_token: str, session: requests.Session | None = None) -> tweepy.Client:
    """A tweepy `Client` (app-only bearer auth, raw JSON dicts) whose session applies our timeout and base URL."""
    import tweepy

    client = tweepy.Client(bearer_token=bearer_token, return_type=dict, wait_on_rate_limit=False)
    base = settings.api_base.rstrip("/")
    client.session = session or http_session(
        settings.timeout, rebase=None if base == TWEEPY_HOST else (TWEEPY_HOST, base)
    )
    tweepy_log = logging.getLogger("tweepy.client")
    if not any(isinstance(f, _RedactBearer) and f._token == bearer_token for f in tweepy_log.filters):  # noqa: SLF001
        tweepy_log.addFilter(_RedactBearer(bearer_token))
    return client


def classify(exc: BaseException) -> Classified:
    """429 -> rate limited (seconds to `x-rate-limit-reset`); 5xx, timeouts, dropped connections -> transient."""
    import tweepy

    if isinstance(exc, tweepy.TooManyRequests):
        reset = exc.reset_time
        return Classified("rate_limited", None if reset is None else max(0.0, reset - time.time()))
    if isinstance(exc, tweepy.TwitterServerError):
        return Classified("transient")
    if isinstance(exc, (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return Classified("transient")
    return Classified("fatal")


def describe(exc: BaseException) -> str:
    """A one-line, secret-free description of a tweepy failure for a SourceError."""
    import tweepy

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, tweepy.Unauthorized):
        return "X refused the bearer token (401); check EARFUL_SOURCES__X__BEARER_TOKEN"
    if isinstance(exc, tweepy.Forbidden):
        return "X refused access (403): the app's plan may not include recent search"
    if isinstance(exc, tweepy.BadRequest):
        messages = "; ".join(m for m in getattr(exc, "api_messages", []) if m)[:300]
        return f"X rejected the request (400): {messages or 'invalid request'}"
    if isinstance(exc, tweepy.TwitterServerError):
        return f"X server error ({status}) after retries"
    if isinstance(exc, ValueError):  # requests' JSONDecodeError is a ValueError too
        return "X answered with a malformed body (not JSON)"
    if isinstance(exc, requests.RequestException):
        return f"X could not be reached ({type(exc).__name__}) after retries"
    if isinstance(exc, tweepy.HTTPException):
        return f"X answered {status}"
    return f"unexpected {type(exc).__name__} from tweepy"
