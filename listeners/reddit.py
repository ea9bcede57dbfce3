"""Reddit listeners (praw): the new posts and comments of a subreddit, or a site-wide search, since a cursor.

One listener per subreddit and one per search query, each with its own cursor. Listings are newest first, so a
fetch reads pages until it reaches what the cursor already holds: the newest creation time seen, and the
fullnames seen at that very second (ties). Reddit listings stop near 1,000 items: when a listing ends before the
cursor is reached, items may have been missed, and the result says so in its notes.

Failures: a 429 waits for the reset or defers (the stream keeps its old cursor, so nothing is lost and re-reading
doubles nothing: ids are deterministic); 5xx and timeouts are retried by praw and then with backoff; anything
else (401/403, 404, malformed bodies) fails the source with a clear SourceError.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from earful_listeners.base import FetchResult, SourceError
from earful_listeners.config import PrivacySettings
from earful_listeners.mention import Mention
from earful_listeners.ratelimit import RateLimitDeferred, call_with_policy
from earful_listeners.reddit_client import RedditClient, classify, describe
from earful_listeners.reddit_config import RedditSettings
from earful_listeners.reddit_normalize import (
    RemovedItem,
    SkipItem,
    comment_mention,
    created,
    fields_of,
    fullname,
    submission_mention,
)

log = logging.getLogger(__name__)

_REDDIT_LISTING_END = 900  # a listing that stops after this many items may have been cut by Reddit


@dataclass
class _Stream:
    """One listing of a source: its cursor key, praw listing factory, and thing kind (t3/t1)."""

    key: str
    label: str
    listing: Callable[[], Iterator[Any]]
    kind: str


class RedditListener:
    """A subreddit (new posts and comments) or a site-wide search query."""

    source_kind = "reddit"

    def __init__(
        self,
        source_id: str,
        streams: list[_Stream],
        client: RedditClient,
        settings: RedditSettings,
        privacy: PrivacySettings,
        subreddit: str | None = None,
    ) -> None:
        self.source_id = source_id
        self._streams = streams
        self._client = client
        self._settings = settings
        self._privacy = privacy
        self._subreddit = subreddit

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Fetch what is new since `cursor` in every stream of this source."""
        cursor = dict(cursor or {})
        result = FetchResult(mentions=[], cursor=cursor)
        fetched_at = datetime.now(UTC)
        for stream in self._streams:
            wait = self._client.deferred_for()
            if wait > 0:
                result.notes.append(f"{stream.label}: deferred to the next batch (rate limited, resets in {wait:.0f}s)")
                continue
            things, state, notes = self._read(stream, cursor.get(stream.key))
            result.notes.extend(notes)
            if stream.kind == "t1":
                self._look_up_subscribers(things)
            removed: Counter[str] = Counter()
            for thing in things:
                try:
                    result.mentions.append(self._mention(stream, thing, fetched_at))
                except RemovedItem as exc:
                    removed[str(exc).rsplit("(", 1)[-1].rstrip(")")] += 1
                except (SkipItem, ValueError, TypeError) as exc:
                    result.item_errors.append(f"{stream.label}: skipped {_safe_name(thing)}: {exc}")
            if removed:
                by = ", ".join(f"{n} by {who}" for who, n in sorted(removed.items()))
                result.notes.append(f"{stream.label}: {sum(removed.values())} removed item(s) not indexed ({by})")
            if state is not None:
                cursor[stream.key] = state
        return result

    # -- reading a listing ---------------------------------------------------------------------------------------

    def _read(
        self, stream: _Stream, state: dict[str, Any] | None
    ) -> tuple[list[Any], dict[str, Any] | None, list[str]]:
        """Things newer than `state`, the stream's new cursor (None: keep the old one), and notes."""
        boundary = float(state["created_utc"]) if state else None
        seen_at_boundary = set(state.get("ids", [])) if state else set()
        things: list[Any] = []
        reached = False
        listing = stream.listing()
        deadline = time.monotonic() + self._settings.deadline
        try:
            while True:
                if time.monotonic() > deadline:
                    note = (
                        f"{stream.label}: stopped after {len(things)} items at the deadline of "
                        f"{self._settings.deadline:g} s (sources.reddit.deadline); read again next batch"
                    )
                    return things, None, [note]  # the old cursor stays: the unread older items are not skipped
                thing = call_with_policy(lambda: next(listing, None), self._client.policy, classify)
                if thing is None:
                    break
                fields = fields_of(thing)
                ts = created(fields)
                if boundary is not None and ts < boundary:
                    reached = True
                    break
                try:
                    name = fullname(fields, stream.kind)
                except SkipItem:
                    things.append(thing)  # reported as an item error when normalized
                    continue
                if boundary is not None and ts == boundary and name in seen_at_boundary:
                    continue
                things.append(thing)
        except RateLimitDeferred as deferred:
            self._client.defer(deferred.reset_in)
            note = (
                f"{stream.label}: rate limited after {len(things)} items; the rest is deferred to the next batch"
                f" (resets in {'?' if deferred.reset_in is None else f'{deferred.reset_in:.0f}s'})"
            )
            return things, None, [note]
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - praw/prawcore failures and malformed listings
            raise SourceError(self.source_id, f"{stream.label}: {describe(exc)}") from None
        notes = []
        count = _listing_count(listing)
        if not reached and count >= min(self._settings.max_items, _REDDIT_LISTING_END):
            if boundary is not None:
                notes.append(
                    f"{stream.label}: possible gap: the listing ended after {count} items"
                    " (Reddit stops near 1,000) before reaching the last cursor"
                )
            else:
                notes.append(f"{stream.label}: first run read the newest {count} items; older ones are not fetched")
        return things, _advance(state, things, stream.kind), notes

    def _mention(self, stream: _Stream, thing: object, fetched_at: datetime) -> Mention:
        secret = self._privacy.author_secret.get_secret_value()
        store_raw = self._privacy.store_raw_author
        if stream.kind == "t3":
            return submission_mention(
                thing, source_id=self.source_id, secret=secret, store_raw=store_raw, fetched_at=fetched_at
            )
        return comment_mention(
            thing,
            subscribers=self._subscribers(fields_of(thing)),
            source_id=self.source_id,
            secret=secret,
            store_raw=store_raw,
            fetched_at=fetched_at,
        )

    def _look_up_subscribers(self, things: list[Any]) -> None:
        """Subscribers of every subreddit these comments come from that is not known yet, in one `/api/info`
        request per 100 subreddits (a comment listing of r/all spans dozens of them)."""
        known = self._client.subscribers
        wanted: dict[str, str] = {}
        for thing in things:
            try:
                name = str(fields_of(thing).get("subreddit") or self._subreddit or "")
            except TypeError:
                continue
            if name and name.lower() not in known:
                wanted.setdefault(name.lower(), name)
        if not wanted:
            return
        try:
            for about in self._client.reddit.info(subreddits=list(wanted.values())):
                data = vars(about)
                name = str(data.get("display_name") or "").lower()
                if name:
                    known[name] = _int_or_none(data.get("subscribers"))
        except Exception:  # reach is optional; the comments are indexed without it
            log.debug("subreddit look-up failed", exc_info=True)
        for name in wanted:
            known.setdefault(name, None)

    def _subscribers(self, fields: dict[str, Any]) -> int | None:
        """The subreddit's subscribers (reach of a comment), as looked up for its listing."""
        name = str(fields.get("subreddit") or self._subreddit or "")
        if not name:
            return None
        if name.lower() not in self._client.subscribers:
            self._look_up_subscribers([fields])
        return self._client.subscribers.get(name.lower())


def _int_or_none(value: Any) -> int | None:  # noqa: ANN401 - whatever Reddit sent
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


def _listing_count(listing: object) -> int:
    return int(getattr(listing, "yielded", 0))


def _safe_name(thing: object) -> str:
    try:
        fields = fields_of(thing)
    except TypeError:
        return "an item"
    return str(fields.get("name") or fields.get("id") or "an item without id")[:40]


def _advance(state: dict[str, Any] | None, things: list[Any], kind: str) -> dict[str, Any] | None:
    """The newest creation time and the fullnames seen at it, merged with the old cursor on a tie."""
    newest = float(state["created_utc"]) if state else None
    ids = set(state.get("ids", [])) if state else set()
    for thing in things:
        fields = fields_of(thing)
        ts = created(fields)
        try:
            name = fullname(fields, kind)
        except SkipItem:
            continue
        if newest is None or ts > newest:
            newest, ids = ts, {name}
        elif ts == newest:
            ids.add(name)
    if newest is None:
        return state
    return {"created_utc": newest, "ids": sorted(ids)}


def build_reddit_listeners(
    settings: RedditSettings, privacy: PrivacySettings, client: RedditClient
) -> list[RedditListener]:
    """One listener per distinct subreddit and per distinct search query across the configured topics."""
    reddit = client.reddit
    limits = {"limit": settings.max_items, "request_limit": settings.page_size}
    listeners: list[RedditListener] = []
    subreddits: dict[str, str] = {}
    queries: list[str] = []
    for sources in settings.topics.values():
        for name in sources.subreddits:
            subreddits.setdefault(name.lower(), name)
        queries += [q for q in sources.search if q not in queries]
    for name in subreddits.values():
        sub = reddit.subreddit(name)
        streams = [_Stream("new", f"r/{name} new posts", functools.partial(sub.new, **limits), "t3")]
        if settings.comments:
            streams.append(_Stream("comments", f"r/{name} comments", functools.partial(sub.comments, **limits), "t1"))
        listeners.append(RedditListener(f"reddit:r/{name.lower()}", streams, client, settings, privacy, subreddit=name))
    for query in queries:
        everywhere = reddit.subreddit("all")
        stream = _Stream(
            "search",
            f"search {query!r}",
            functools.partial(everywhere.search, query, sort="new", time_filter="all", syntax="lucene", **limits),
            "t3",
        )
        listeners.append(RedditListener(f"reddit:search:{query}", [stream], client, settings, privacy))
    return listeners


def plan_reddit(settings: RedditSettings, privacy: PrivacySettings) -> tuple[list[RedditListener], list[str]]:
    """The Reddit listeners the configuration asks for, or one line saying why Reddit is skipped."""
    from earful_listeners.reddit_client import make_reddit_client

    if not any(t.subreddits or t.search for t in settings.topics.values()):
        return [], []
    if not settings.enabled:
        return [], ["reddit: disabled (sources.reddit.enabled is false)"]
    if settings.replay is not None:
        from earful_listeners.replay import REPLAY_CLIENT_ID, REPLAY_CLIENT_SECRET, reddit_replay

        client = make_reddit_client(
            settings, REPLAY_CLIENT_ID, REPLAY_CLIENT_SECRET, session=reddit_replay(settings.replay)
        )
        return build_reddit_listeners(settings, privacy, client), []
    if settings.client_id is None or settings.client_secret is None:
        return [], [
            "reddit: skipped, no credentials (set EARFUL_SOURCES__REDDIT__CLIENT_ID and EARFUL_SOURCES__REDDIT__CLIENT_SECRET)"
        ]
    client = make_reddit_client(
        settings, settings.client_id.get_secret_value(), settings.client_secret.get_secret_value()
    )
    return build_reddit_listeners(settings, privacy, client), []
