"""The Mastodon.py client of the Mastodon listeners: one per instance, timeouts, how errors are read."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from earful_listeners.mastodon_config import MastodonSettings
from earful_listeners.ratelimit import Classified

if TYPE_CHECKING:
    from mastodon import Mastodon

ASSUMED_VERSION = "3.0.0"  # hashtag timelines with since_id/max_id and search with min_id/max_id (2.8+)


def make_mastodon_client(
    url: str, access_token: str | None, settings: MastodonSettings, session: requests.Session | None = None
) -> Mastodon:
    """A `Mastodon` client for one instance that raises on 429 (the listener waits or defers, as the others do).

    The server's version is given, not looked up: Mastodon.py 2.3 would ask /api/v1/instance before a search with
    id bounds, and loops without end when the instance refuses that request (a revoked token answers 401 there
    too). Every endpoint the listener uses exists since Mastodon 3.0; "created" checks only that.
    """
    from mastodon import Mastodon

    return Mastodon(
        access_token=access_token,
        api_base_url=url,
        ratelimit_method="throw",
        request_timeout=settings.timeout,
        mastodon_version=ASSUMED_VERSION,
        version_check_mode="created",
        session=session,
        user_agent=settings.user_agent,
    )


def classifier(client: Mastodon) -> Callable[[BaseException], Classified]:
    """429 -> rate limited until `X-RateLimit-Reset` (Mastodon.py keeps it on the client); 5xx, network -> transient."""

    def classify(exc: BaseException) -> Classified:
        from mastodon.errors import MastodonNetworkError, MastodonRatelimitError, MastodonServerError

        if isinstance(exc, MastodonRatelimitError):
            reset = getattr(client, "ratelimit_reset", None)
            return Classified("rate_limited", None if not reset else max(0.0, float(reset) - time.time()))
        if isinstance(exc, (MastodonServerError, MastodonNetworkError)):
            return Classified("transient")
        return Classified("fatal")

    return classify


def describe(exc: BaseException, instance: str) -> str:
    """A one-line, secret-free description of a Mastodon.py failure for a SourceError."""
    from mastodon.errors import (
        MastodonAPIError,
        MastodonNetworkError,
        MastodonNotFoundError,
        MastodonServerError,
        MastodonUnauthorizedError,
    )

    status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
    if isinstance(exc, MastodonUnauthorizedError):
        return f"{instance} refused the request (401): the access token is missing, wrong or lacks read:search"
    if isinstance(exc, MastodonNotFoundError):
        return f"{instance} does not serve this endpoint (404)"
    if isinstance(exc, MastodonServerError):
        return f"{instance} server error ({status}) after retries"
    if isinstance(exc, MastodonNetworkError):
        return f"{instance} could not be reached ({'timeout' if 'timed out' in str(exc).lower() else 'network error'}) after retries"
    if isinstance(exc, MastodonAPIError) and "parse response as JSON" in str(exc.args[0] if exc.args else ""):
        return f"{instance} answered with a malformed body (not JSON)"
    if isinstance(exc, MastodonAPIError):
        return f"{instance} answered {status or 'an error'}" + (
            f": {str(exc.args[3])[:200]}" if len(exc.args) > 3 and exc.args[3] else ""
        )
    if isinstance(exc, (ValueError, TypeError, KeyError)):
        return f"{instance} answered with a malformed body ({exc})"[:300]
    return f"unexpected {type(exc).__name__} from Mastodon.py"
