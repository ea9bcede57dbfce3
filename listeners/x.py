"""X listeners (tweepy v2 `Client`): recent search per configured query, since a cursor, within a read budget.

One listener per distinct query. A fetch reads pages newest first with `since_id` and `next_token`. The cursor
is `{"since_id": ...}` once a query is read to the end; when a fetch stops early (rate limit deferred, read
budget spent, page limit reached) it is `{"since_id": <old>, "pending": {"newest_id", "next_token"}}`, so the
next batch resumes the same pagination where it stopped: nothing is lost, and no post is paid for twice.

Every page is paid from the monthly read budget in the records database before it is asked for (and what it
did not return is given back), so concurrent batches never overspend; a spent budget stops X cleanly.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from earful_listeners.base import FetchResult, SourceError
from earful_listeners.config import PrivacySettings
from earful_listeners.json_fields import dict_at, list_at
from earful_listeners.mention import Mention
from earful_listeners.ratelimit import RateLimitDeferred, call_with_policy
from earful_listeners.x_client import classify, describe
from earful_listeners.x_config import XSettings
from earful_listeners.x_normalize import SkipTweet, retweet_of, tweet_mention

if TYPE_CHECKING:
    import tweepy

TWEET_FIELDS = [
    "created_at",
    "lang",
    "public_metrics",
    "conversation_id",
    "referenced_tweets",
    "author_id",
    "entities",
    "note_tweet",
]
USER_FIELDS = ["username", "public_metrics"]
MIN_PAGE = 10  # X refuses max_results below 10


class ReadBudget(Protocol):
    """The monthly read budget of X, shared by every X listener: reserve reads before a page, give back what the
    page did not return. The wiring passes one kept in the records database (earful_records.budget.MonthlyBudget)."""

    limit: int

    def reserve(self, wanted: int) -> tuple[str, int]:
        """Reserve up to `wanted` reads; returns the budget month and how many were granted."""
        ...

    def release(self, month: str, n: int) -> None:
        """Give back `n` reserved reads of `month` that were not used."""
        ...

    def used(self) -> int:
        """Reads counted so far this month."""
        ...


class XListener:
    """One recent-search query."""

    source_kind = "x"

    def __init__(
        self, query: str, client: tweepy.Client, budget: ReadBudget, settings: XSettings, privacy: PrivacySettings
    ) -> None:
        self.source_id = f"x:search:{query}"
        self.query = query
        self._client = client
        self._budget = budget
        self._settings = settings
        self._privacy = privacy
        self._policy = settings.retry_policy()
        self._bounds: dict[str, str] = {}  # start_time / end_time of a windowed read (backfills)

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Read what is new since `cursor` (or resume its pending pagination)."""
        cursor = dict(cursor or {})
        since_id = cursor.get("since_id")
        pending = cursor.get("pending") or {}
        newest, token = pending.get("newest_id"), pending.get("next_token")
        result = FetchResult(mentions=[], cursor=cursor)
        seen: set[str] = set()
        stopped: str | None = None
        deadline = time.monotonic() + self._settings.deadline
        for page_number in range(self._settings.max_pages):
            if page_number and time.monotonic() > deadline:
                stopped = (
                    f"stopped after {page_number} pages at the deadline of {self._settings.deadline:g} s "
                    "(sources.x.deadline); the rest comes next batch"
                )
                break
            month, granted = self._budget.reserve(self._settings.page_size)
            if granted < MIN_PAGE:
                self._budget.release(month, granted)
                stopped = (
                    f"X read budget for {month} is spent ({self._budget.used()} of {self._budget.limit} reads);"
                    " X resumes next month or with a larger sources.x.monthly_read_budget"
                )
                break
            try:
                page = self._page(since_id, token, granted)
            except RateLimitDeferred as deferred:
                self._budget.release(month, granted)
                stopped = f"rate limited; the rest is deferred to the next batch (resets in {_secs(deferred.reset_in)})"
                break
            except _StaleToken:
                self._budget.release(month, granted)
                result.notes.append("the stored pagination token was refused; reading again from the last cursor")
                newest = token = None
                continue
            except Exception as exc:  # noqa: BLE001 - tweepy/requests failures and malformed bodies
                self._budget.release(month, granted)
                raise SourceError(self.source_id, describe(exc)) from None
            data = list_at(page, "data")
            self._budget.release(month, granted - len(data))
            meta = dict_at(page, "meta")
            newest = newest or meta.get("newest_id")
            self._collect(page, data, result, seen)
            token = meta.get("next_token")
            if not token:
                break
        else:
            stopped = f"stopped after {self._settings.max_pages} pages (sources.x.max_pages); the rest comes next batch"
        if stopped:
            result.notes.append(f"{self.source_id}: {stopped}")
            if token or newest:
                result.cursor = {"since_id": since_id, "pending": {"newest_id": newest, "next_token": token}}
            if not token:  # stopped before the first page: keep whatever pending state there was
                result.cursor = cursor
        else:
            result.cursor = {"since_id": newest or since_id}
        return result

    def fetch_window(self, start: datetime, end: datetime) -> FetchResult:
        """Read the posts created in [start, end) with X's `start_time`/`end_time`, without a cursor (backfills)."""
        import copy

        end = min(end, datetime.now(UTC) - timedelta(seconds=10))  # X refuses an end_time less than 10 s ago
        if end <= start:
            return FetchResult(mentions=[], cursor=None, notes=[f"{self.source_id}: window is not over yet"])
        bounded = copy.copy(self)
        bounded._bounds = {"start_time": _rfc3339(start), "end_time": _rfc3339(end)}  # noqa: SLF001 - a copy of self
        result = bounded.fetch(None)
        result.cursor = None
        return result

    def _page(self, since_id: str | None, token: str | None, max_results: int) -> dict[str, Any]:
        query = self.query if self._settings.retweets == "link" else f"({self.query}) -is:retweet"
        expansions = ["author_id"]
        if self._settings.retweets == "link":
            expansions += ["referenced_tweets.id", "referenced_tweets.id.author_id"]
        params: dict[str, Any] = {
            "max_results": max_results,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "expansions": expansions,
        }
        if since_id:
            params["since_id"] = since_id
        if token:
            params["next_token"] = token
        params.update(self._bounds)

        def call() -> dict[str, Any]:
            return self._client.search_recent_tweets(query, **params)

        try:
            page = call_with_policy(call, self._policy, classify)
        except Exception as exc:
            if token and "next_token" in describe(exc):
                raise _StaleToken from None
            raise
        if not isinstance(page, dict):
            raise ValueError("not a JSON object")
        return page

    def _collect(self, page: dict[str, Any], data: list[Any], result: FetchResult, seen: set[str]) -> None:
        includes = dict_at(page, "includes")
        users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
        originals = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, dict)}
        for tweet in data:
            if not isinstance(tweet, dict):
                result.item_errors.append(f"{self.source_id}: skipped an item that is not a tweet object")
                continue
            original = retweet_of(tweet)
            if original and self._settings.retweets == "skip":
                continue
            full = originals.get(original) if original else None
            batch = [(tweet, full)] + ([(full, None)] if full is not None else [])
            for item, repeated in batch:
                mention = self._mention(item, users, result, repeated)
                if mention is not None and mention.native_id not in seen:
                    seen.add(mention.native_id)
                    result.mentions.append(mention)

    def _mention(
        self,
        tweet: dict[str, Any],
        users: dict[str, dict[str, Any]],
        result: FetchResult,
        original: dict[str, Any] | None = None,
    ) -> Mention | None:
        try:
            return tweet_mention(
                tweet,
                users,
                original=original,
                source_id=self.source_id,
                secret=self._privacy.author_secret.get_secret_value(),
                store_raw=self._privacy.store_raw_author,
                fetched_at=datetime.now(UTC),
            )
        except (SkipTweet, ValueError, TypeError) as exc:
            result.item_errors.append(f"{self.source_id}: skipped tweet {str(tweet.get('id'))[:30]}: {exc}")
            return None


class _StaleToken(Exception):
    """The stored next_token was refused (expired); read again from since_id."""


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _secs(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}s"


def build_x_listeners(
    settings: XSettings, privacy: PrivacySettings, client: tweepy.Client | None, budget: ReadBudget
) -> list[XListener]:
    """One listener per distinct query across the configured topics, sharing one client and one budget."""
    queries: list[str] = []
    for topic_queries in settings.topics.values():
        queries += [q for q in topic_queries if q not in queries]
    return [XListener(q, client, budget, settings, privacy) for q in queries]


def plan_x(settings: XSettings, privacy: PrivacySettings, budget: ReadBudget) -> tuple[list[XListener], list[str]]:
    """The X listeners the configuration asks for, or one line saying why X is skipped (X is optional)."""
    from earful_listeners.x_client import make_x_client

    if not any(settings.topics.values()):
        return [], []
    if not settings.enabled:
        return [], ["x: disabled (sources.x.enabled is false)"]
    if settings.replay is not None:
        from earful_listeners.replay import REPLAY_BEARER, x_replay

        client = make_x_client(settings, REPLAY_BEARER, session=x_replay(settings.replay))
        return build_x_listeners(settings, privacy, client, budget), []
    if settings.bearer_token is None:
        return [], ["x: skipped, no bearer token (set EARFUL_SOURCES__X__BEARER_TOKEN to listen on X)"]
    client = make_x_client(settings, settings.bearer_token.get_secret_value())
    return build_x_listeners(settings, privacy, client, budget), []
