"""The praw client of the Reddit listeners: credentials, endpoints, timeouts, and how its errors are read."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from earful_listeners.ratelimit import Classified, RetryPolicy, http_session
from earful_listeners.reddit_config import RedditSettings

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass
class RedditClient:
    """One praw `Reddit` shared by every Reddit listener (Reddit's rate limit is per client)."""

    reddit: Any  # praw.Reddit
    policy: RetryPolicy
    deferred_until: float = 0.0  # monotonic time before which every Reddit source defers (after a 429)
    subscribers: dict[str, int | None] = field(default_factory=dict)  # per subreddit, for this process

    def defer(self, reset_in: float | None) -> None:
        """Stop every Reddit source of this client until the rate-limit window resets."""
        self.deferred_until = time.monotonic() + (reset_in if reset_in is not None else 60.0)

    def deferred_for(self) -> float:
        """Seconds left before Reddit may be asked again (0 when it may)."""
        return max(0.0, self.deferred_until - time.monotonic())


def make_reddit_client(
    settings: RedditSettings, client_id: str, client_secret: str, *, session: requests.Session | None = None
) -> RedditClient:
    """A read-only (application-only OAuth) praw client, with one timeout on every request (or `session`)."""
    import praw

    reddit = praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=settings.user_agent,
        oauth_url=settings.oauth_url,
        reddit_url=settings.reddit_url,
        check_for_updates=False,
        check_for_async=False,
        requestor_kwargs={"session": session or http_session(settings.timeout)},
    )
    reddit.read_only = True
    policy = settings.retry_policy()
    return RedditClient(reddit=reddit, policy=policy)


def classify(exc: BaseException) -> Classified:
    """429 -> rate limited (reset from the headers); 5xx, timeouts, dropped connections -> transient."""
    import prawcore

    if isinstance(exc, prawcore.TooManyRequests):
        return Classified("rate_limited", reset_seconds(exc.response.headers))
    if isinstance(exc, prawcore.ServerError):
        return Classified("transient")
    if isinstance(exc, prawcore.RequestException) and isinstance(
        exc.original_exception, (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
    ):
        return Classified("transient")
    return Classified("fatal")


def reset_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds until Reddit's rate-limit window resets (`retry-after` or `x-ratelimit-reset`)."""
    for name in ("retry-after", "x-ratelimit-reset"):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


def describe(exc: BaseException) -> str:
    """A one-line, secret-free description of a praw/prawcore failure for a SourceError."""
    import prawcore

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(exc, prawcore.ResponseException) and status == 401 or isinstance(exc, prawcore.OAuthException):
        return "Reddit refused the credentials (401); check EARFUL_SOURCES__REDDIT__CLIENT_ID and ..._CLIENT_SECRET"
    if status in (401, 403):
        return f"Reddit refused access ({status}): the subreddit may be private, banned or quarantined"
    if isinstance(exc, (prawcore.NotFound, prawcore.Redirect)):
        return "not found on Reddit (404/redirect): check the subreddit name"
    if isinstance(exc, prawcore.BadJSON):
        return "Reddit answered with a malformed body (not JSON)"
    if isinstance(exc, prawcore.ServerError):
        return f"Reddit server error ({status}) after retries"
    if isinstance(exc, prawcore.RequestException):
        return f"Reddit could not be reached ({type(exc.original_exception).__name__}) after retries"
    if isinstance(exc, prawcore.ResponseException):
        return f"Reddit answered {status}"
    return f"unexpected {type(exc).__name__} from praw"
