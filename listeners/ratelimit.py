"""Rate limits, retries and timeouts shared by the listeners of HTTP APIs (Reddit, X).

A call is classified by the listener into one of three outcomes: a rate limit (429, with the seconds until the
window resets), a transient failure (5xx, timeouts, dropped connections: retried with exponential backoff by
tenacity) or anything else (raised at once). A rate limit either waits for the reset, when that is allowed and
short enough, or is raised as `RateLimitDeferred` so the listener can stop cleanly and leave the rest of the work
to the next batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import requests
from requests.adapters import HTTPAdapter
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from typing_extensions import override

T = TypeVar("T")
Outcome = Literal["rate_limited", "transient", "fatal"]


@dataclass(frozen=True)
class RetryPolicy:
    """How a listener reacts to rate limits and transient failures."""

    on_rate_limit: Literal["wait", "defer"] = "wait"
    max_wait_seconds: float = 60.0
    retries: int = 2
    backoff_seconds: float = 2.0


class RateLimitDeferred(Exception):
    """A 429 that is not waited for; the rest of the work goes to the next batch."""

    def __init__(self, reset_in: float | None) -> None:
        when = "unknown" if reset_in is None else f"{reset_in:.0f}s"
        super().__init__(f"rate limited (resets in {when})")
        self.reset_in = reset_in


@dataclass(frozen=True)
class Classified:
    """What a failed call means: its outcome, and for rate limits the seconds until the reset (None: unknown)."""

    outcome: Outcome
    reset_in: float | None = None


def call_with_policy(
    fn: Callable[[], T],
    policy: RetryPolicy,
    classify: Callable[[BaseException], Classified],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`, retrying transient failures with backoff and waiting out (or deferring) rate limits."""
    waited = False
    while True:
        try:
            return _with_backoff(fn, policy, classify, sleep)
        except Exception as exc:  # classified below, re-raised unless it is a rate limit
            verdict = classify(exc)
            if verdict.outcome != "rate_limited":
                raise
            wait = verdict.reset_in
            can_wait = (
                policy.on_rate_limit == "wait" and not waited and wait is not None and wait <= policy.max_wait_seconds
            )
            if not can_wait:
                raise RateLimitDeferred(wait) from None
            sleep(max(wait or 0.0, 0.0) + 0.5)
            waited = True


def _with_backoff(
    fn: Callable[[], T],
    policy: RetryPolicy,
    classify: Callable[[BaseException], Classified],
    sleep: Callable[[float], None],
) -> T:
    retrying = Retrying(
        retry=retry_if_exception(lambda exc: classify(exc).outcome == "transient"),
        stop=stop_after_attempt(policy.retries + 1),
        wait=wait_exponential(multiplier=policy.backoff_seconds, min=0, max=60),
        sleep=sleep,
        reraise=True,
    )
    return retrying(fn)


class LocalRouteAdapter(HTTPAdapter):
    """A requests transport adapter that applies one timeout to every request and can re-base URLs.

    `rebase=("https://api.twitter.com", "http://127.0.0.1:8123")` sends a client's requests for the first base
    to the second (a fake API in tests, the replay server in the demo) without changing the client.
    """

    def __init__(self, timeout: float, rebase: tuple[str, str] | None = None) -> None:
        super().__init__()
        self._timeout = timeout
        self._rebase = rebase

    @override
    def send(  # the timeout given is replaced by ours
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        if self._rebase and request.url and request.url.startswith(self._rebase[0]):
            request.url = self._rebase[1] + request.url[len(self._rebase[0]) :]
        return super().send(request, stream=stream, timeout=self._timeout, verify=verify, cert=cert, proxies=proxies)


def http_session(timeout: float, rebase: tuple[str, str] | None = None) -> requests.Session:
    """A requests session whose every request has `timeout` and, optionally, a re-based URL."""
    session = requests.Session()
    adapter = LocalRouteAdapter(timeout, rebase)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
