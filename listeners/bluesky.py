"""Bluesky listeners (atproto): `app.bsky.feed.searchPosts` per configured query, latest first, since a cursor.

One listener per distinct query. A fetch asks for posts since the cursor's time (`since`, inclusive, compared with
the post's `sortAt`) and pages with the API's `cursor` until the answer has none. Each batch searches again from
`overlap_seconds` before the newest post it saw, because a post can be indexed after newer ones; the URIs already
read in that overlap are kept in the cursor and skipped. The cursor is `{"since", "seen"}` once a query is read
to the end; a fetch that stops early (rate limit deferred, page limit) keeps its old `since` and adds
`"pending": {"cursor", "newest", "seen"}`, so the next batch resumes the same pagination: nothing is lost, and
what is read twice is one mention (ids are deterministic).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from earful_listeners.base import FetchResult, SourceError
from earful_listeners.bluesky_client import BlueskySession, classify, describe
from earful_listeners.bluesky_config import BlueskySettings
from earful_listeners.bluesky_normalize import SOURCE_KIND, SkipPost, post_mention, sort_time
from earful_listeners.config import PrivacySettings
from earful_listeners.mention import Mention
from earful_listeners.ratelimit import RateLimitDeferred, call_with_policy

MAX_SEEN = 2000  # URIs kept in a cursor for the overlap; a busier overlap re-reads (and drops by id) the rest


class BlueskyListener:
    """One searchPosts query."""

    source_kind = SOURCE_KIND

    def __init__(
        self,
        query: str,
        lang: str | None,
        session: BlueskySession,
        settings: BlueskySettings,
        privacy: PrivacySettings,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source_id = f"bluesky:search:{query}" + (f" lang:{lang}" if lang else "")
        self.query = query
        self.lang = lang
        self._session = session
        self._settings = settings
        self._privacy = privacy
        self._policy = settings.retry_policy()
        self._sleep = sleep  # waits for a rate-limit reset and retry backoff (tests record them instead)
        self._until: str | None = None

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Read what is new since `cursor` (or resume its pending pagination)."""
        cursor = dict(cursor or {})
        since, seen = cursor.get("since"), set(cursor.get("seen") or [])
        pending = cursor.get("pending") or {}
        token, newest = pending.get("cursor"), pending.get("newest")
        recent = set(pending.get("seen") or [])  # URIs read in the overlap before the newest post of this read
        result = FetchResult(mentions=[], cursor=cursor)
        fetched_at = datetime.now(UTC)
        stopped: str | None = None
        for _ in range(self._settings.max_pages):
            try:
                page = self._page(since, token)
            except RateLimitDeferred as deferred:
                wait = "?" if deferred.reset_in is None else f"{deferred.reset_in:.0f}s"
                stopped = f"rate limited; the rest is deferred to the next batch (resets in {wait})"
                break
            except Exception as exc:  # noqa: BLE001 - atproto/httpx failures and malformed bodies
                raise SourceError(self.source_id, describe(exc)) from None
            posts = page.get("posts") if isinstance(page.get("posts"), list) else None
            if posts is None:
                raise SourceError(self.source_id, "Bluesky answered with a malformed body (no 'posts')")
            for post in posts:
                at = sort_time(post) if isinstance(post, dict) else None
                newest = max(newest or "", at or "") or None
                mention = self._mention(post, seen, result, fetched_at)
                if mention is not None:
                    result.mentions.append(mention)
                if at and newest and at >= self._boundary(newest) and isinstance(post.get("uri"), str):
                    recent.add(post["uri"])  # read now or before: the next search from the overlap skips it
            token = page.get("cursor") if isinstance(page.get("cursor"), str) and posts else None
            if not token:
                break
        else:
            stopped = (
                f"stopped after {self._settings.max_pages} pages (sources.bluesky.max_pages); the rest comes next batch"
            )
        if stopped:
            result.notes.append(stopped)
            if token:
                result.cursor = {**cursor, "pending": {"cursor": token, "newest": newest, "seen": _cap(recent)}}
        else:
            result.cursor = self._settled(since, seen, newest, recent)
        return result

    def fetch_window(self, start: datetime, end: datetime) -> FetchResult:
        """Read the posts of [start, end) with searchPosts' `since` / `until`, without a cursor (backfills)."""
        bounded = copy.copy(self)
        bounded._until = _iso(end)  # noqa: SLF001 - a copy of self
        result = bounded.fetch({"since": _iso(start)})
        result.cursor = None
        return result

    def _boundary(self, newest: str) -> str:
        moment = datetime.fromisoformat(newest.replace("Z", "+00:00")) - timedelta(
            seconds=self._settings.overlap_seconds
        )
        return _iso(moment)

    def _settled(self, since: str | None, seen: set[str], newest: str | None, recent: set[str]) -> dict[str, Any]:
        """The cursor after a complete read: search again from the overlap before the newest post."""
        if not newest:
            return {"since": since, "seen": _cap(seen)}
        boundary = self._boundary(newest)
        if since and boundary < since:  # nothing newer than the overlap: keep the old bound and what it saw
            return {"since": since, "seen": _cap(seen | recent)}
        return {"since": boundary, "seen": _cap(recent)}

    def _page(self, since: str | None, token: str | None) -> dict[str, Any]:
        from atproto_client.models.utils import get_model_as_dict

        params: dict[str, Any] = {"q": self.query, "sort": "latest", "limit": self._settings.page_size}
        for key, value in (("since", since), ("until", self._until), ("cursor", token), ("lang", self.lang)):
            if value:
                params[key] = value

        def call() -> object:
            self._session.ensure_login()
            return self._session.client.app.bsky.feed.search_posts(params)

        response = call_with_policy(call, self._policy, classify, sleep=self._sleep)
        page = get_model_as_dict(response)
        if not isinstance(page, dict):
            raise ValueError("not a JSON object")
        return page

    def _mention(self, post: object, seen: set[str], result: FetchResult, fetched_at: datetime) -> Mention | None:
        if not isinstance(post, dict):
            result.item_errors.append(f"{self.source_id}: skipped an item that is not a post view")
            return None
        if post.get("uri") in seen:
            return None
        try:
            return post_mention(
                post,
                source_id=self.source_id,
                secret=self._privacy.author_secret.get_secret_value(),
                store_raw=self._privacy.store_raw_author,
                fetched_at=fetched_at,
            )
        except (SkipPost, ValueError, TypeError) as exc:
            result.item_errors.append(f"{self.source_id}: skipped post {str(post.get('uri'))[:80]}: {exc}")
            return None


def _cap(uris: set[str]) -> list[str]:
    return sorted(uris)[:MAX_SEEN]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def bluesky_queries(
    settings: BlueskySettings, topics: dict[str, tuple[str, list[str]]]
) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Distinct (query, language) pairs across the topics (`topics`: name -> (query, languages)), and lines for
    topics whose search cannot be derived. A topic with exactly one language asks the server for it (`lang`)."""
    from earful_listeners.topics import derived_searches

    pairs: list[tuple[str, str | None]] = []
    notes: list[str] = []
    for topic, queries in settings.topics.items():
        query, languages = topics.get(topic, ("", []))
        if queries == "auto":
            queries = derived_searches(query) if query else []
            if not queries:
                notes.append(
                    f"bluesky: topic '{topic}': no search can be derived from its query; list its queries under sources.bluesky.topics"
                )
        lang = languages[0] if len(languages) == 1 else None
        pairs += [(q, lang) for q in queries if (q, lang) not in pairs]
    return pairs, notes


def plan_bluesky(
    settings: BlueskySettings, privacy: PrivacySettings, topics: dict[str, tuple[str, list[str]]]
) -> tuple[list[BlueskyListener], list[str], BlueskySession | None]:
    """The Bluesky listeners, lines for what is skipped, and the shared session (to close after the batch)."""
    if not any(settings.topics.values()):
        return [], [], None
    if not settings.enabled:
        return [], ["bluesky: disabled (sources.bluesky.enabled is false)"], None
    pairs, notes = bluesky_queries(settings, topics)
    if settings.replay is not None:
        from earful_listeners.replay import REPLAY_APP_PASSWORD, bluesky_replay

        replay = settings.model_copy(update={"identifier": "earful-replay.bsky.social"})
        session = BlueskySession(replay, REPLAY_APP_PASSWORD, transport=bluesky_replay(settings.replay))
    else:
        password = settings.app_password.get_secret_value() if settings.app_password else None
        if password and not settings.identifier:
            return (
                [],
                ["bluesky: skipped, an app password needs sources.bluesky.identifier (the account's handle)"],
                None,
            )
        session = BlueskySession(settings, password)
        if password is None:
            notes.append(
                "bluesky: no app password: searching the public AppView, which may refuse search "
                "(set sources.bluesky.identifier and EARFUL_SOURCES__BLUESKY__APP_PASSWORD)"
            )
    return [BlueskyListener(q, lang, session, settings, privacy) for q, lang in pairs], notes, session
