"""Mastodon listeners (Mastodon.py): hashtag timelines and status searches per configured instance, since a cursor.

One listener per instance and hashtag, and per instance and search query, each with its own cursor. A fetch reads
pages newest first, bounded below by the cursor (`since_id` on timelines, `min_id` on search, which filters
search results by id) and above by `max_id`, until a page comes back empty. The cursor is `{"since_id": ...}`
once everything new is read; when a fetch stops early (rate limit deferred, page limit) it is
`{"since_id": <old>, "pending": {"newest_id", "max_id"}}`, so the next batch resumes the same pagination where it
stopped: nothing is lost and nothing read twice becomes two mentions (ids are deterministic). The first run of a
source reads the newest `max_pages` pages only, as Reddit does.

Status search needs an access token and an instance with full-text search; without a token the search listeners
are left out with one line, and a refusal fails that one source only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from earful_listeners.base import FetchResult, SourceError
from earful_listeners.config import PrivacySettings
from earful_listeners.mastodon_client import classifier, describe
from earful_listeners.mastodon_config import MastodonSettings
from earful_listeners.mastodon_normalize import SOURCE_KIND, DeletedStatus, SkipStatus, instance_host, status_mention
from earful_listeners.mention import Mention
from earful_listeners.ratelimit import RateLimitDeferred, call_with_policy

if TYPE_CHECKING:
    from mastodon import Mastodon

# read(lower bound, max_id, limit) -> statuses, newest first; bounds are ids or datetimes (Mastodon.py turns a
# datetime into the matching snowflake id).
# (since id, max id, page size) -> the page of Status entities.
# Mastodon.py takes an id or a datetime as a bound (it turns a datetime into a snowflake id).
IdBound = str | datetime | None
Reader = Callable[[IdBound, IdBound, int], list[Any]]


class MastodonListener:
    """One hashtag timeline or one status search on one instance."""

    source_kind = SOURCE_KIND

    def __init__(
        self,
        source_id: str,
        instance: str,
        read: Reader,
        client: Mastodon,
        settings: MastodonSettings,
        privacy: PrivacySettings,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source_id = source_id
        self.instance = instance
        self._read = read
        self._classify = classifier(client)
        self._settings = settings
        self._privacy = privacy
        self._policy = settings.retry_policy()
        self._sleep = sleep  # waits for a rate-limit reset and retry backoff (tests record them instead)

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Read what is new since `cursor` (or resume its pending pagination)."""
        cursor = dict(cursor or {})
        since = cursor.get("since_id")
        pending = cursor.get("pending") or {}
        result = FetchResult(mentions=[], cursor=cursor)
        newest, max_id, stopped = self._pages(since, pending.get("max_id"), pending.get("newest_id"), result)
        if stopped == "pages" and since is None:  # a first run (or its resumption) reads no further back
            result.notes.append(
                f"first run read the newest {self._settings.max_pages} pages; older statuses are not fetched"
            )
            result.cursor = {"since_id": newest}
        elif stopped:
            if newest:
                result.cursor = {"since_id": since, "pending": {"newest_id": newest, "max_id": max_id}}
        else:
            result.cursor = {"since_id": newest or since}
        return result

    def fetch_window(self, start: datetime, end: datetime) -> FetchResult:
        """Read the statuses of [start, end), bounded server-side by ids made from the two times (backfills)."""
        result = FetchResult(mentions=[], cursor=None)
        # since_id is exclusive: start a millisecond early (the window keeps what was published in it)
        self._pages(start - timedelta(milliseconds=1), end, None, result)
        return result

    def _pages(
        self, since: IdBound, max_id: IdBound, newest: str | None, result: FetchResult
    ) -> tuple[str | None, IdBound, str | None]:
        """Read pages into `result`; the newest id, where it stopped, and why it stopped early (None: it did not)."""
        seen: set[str] = set()
        deleted = 0
        stopped: str | None = None
        fetched_at = datetime.now(UTC)
        for _ in range(self._settings.max_pages):
            try:
                page = call_with_policy(
                    lambda: self._read(since, max_id, self._settings.page_size),  # noqa: B023 - called in this iteration
                    self._policy,
                    self._classify,
                    sleep=self._sleep,
                )
            except RateLimitDeferred as deferred:
                wait = "?" if deferred.reset_in is None else f"{deferred.reset_in:.0f}s"
                result.notes.append(f"rate limited; the rest is deferred to the next batch (resets in {wait})")
                stopped = "rate limit"
                break
            except Exception as exc:  # noqa: BLE001 - Mastodon.py/requests failures and malformed bodies
                raise SourceError(self.source_id, describe(exc, self.instance)) from None
            if not isinstance(page, list) or (page and not any(isinstance(s, dict) for s in page)):
                # Mastodon.py turns a JSON object where a list belongs into the list of its keys
                raise SourceError(
                    self.source_id, f"{self.instance} answered with a malformed body (not a list of statuses)"
                )
            # Mastodon ids are numeric strings; GoToSocial (ULID) and Pleroma (flake ids) sort as text of one length
            ids = [str(s["id"]) for s in page if isinstance(s, dict) and s.get("id") not in (None, "")]
            if not ids:
                if page:  # moving past such a page could skip what lies under it: keep the cursor
                    raise SourceError(
                        self.source_id, f"{self.instance} answered with a malformed body (statuses without ids)"
                    )
                break
            newest = newest or max(ids, key=_order)
            max_id = min(ids, key=_order)
            deleted += self._collect(page, result, seen, fetched_at)
        else:
            stopped = "pages"
        if deleted:
            result.notes.append(f"left out {deleted} deleted status(es)")
        return newest, max_id, stopped

    def _collect(self, page: list[Any], result: FetchResult, seen: set[str], fetched_at: datetime) -> int:
        deleted = 0
        for status in page:
            if not isinstance(status, dict):
                result.item_errors.append(f"{self.source_id}: skipped an item that is not a status object")
                continue
            original = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
            if original is not None and self._settings.reblogs == "skip":
                continue
            for item in [status] + ([original] if original is not None else []):
                try:
                    mention = self._mention(item, fetched_at)
                except DeletedStatus:
                    deleted += 1
                    continue
                except (SkipStatus, ValueError, TypeError) as exc:
                    result.item_errors.append(f"{self.source_id}: skipped status {str(item.get('id'))[:30]}: {exc}")
                    continue
                if mention.id not in seen:
                    seen.add(mention.id)
                    result.mentions.append(mention)
        return deleted

    def _mention(self, status: dict[str, Any], fetched_at: datetime) -> Mention:
        return status_mention(
            status,
            instance=self.instance,
            source_id=self.source_id,
            secret=self._privacy.author_secret.get_secret_value(),
            store_raw=self._privacy.store_raw_author,
            fetched_at=fetched_at,
        )


def _order(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)


def tag_reader(client: Mastodon, hashtag: str) -> Reader:
    """Pages of the public hashtag timeline (`/api/v1/timelines/tag/:hashtag`)."""
    return lambda since, max_id, limit: client.timeline_hashtag(hashtag, since_id=since, max_id=max_id, limit=limit)


def search_reader(client: Mastodon, query: str) -> Reader:
    """Pages of a status search (`/api/v2/search?type=statuses`), bounded by `min_id` / `max_id`."""

    def read(since: IdBound, max_id: IdBound, limit: int) -> list[Any]:
        found = client.search_v2(query, resolve=False, result_type="statuses", min_id=since, max_id=max_id, limit=limit)
        statuses = found.get("statuses") if isinstance(found, dict) else None
        if not isinstance(statuses, list):
            raise ValueError("a search result without 'statuses'")
        return statuses

    return read


def mastodon_sources(
    settings: MastodonSettings, topic_queries: dict[str, str]
) -> tuple[list[str], list[str], list[str]]:
    """The distinct hashtags and searches across the topics, and lines for topics whose search cannot be derived."""
    from earful_listeners.topics import derived_searches

    hashtags: dict[str, str] = {}
    searches: list[str] = []
    notes: list[str] = []
    for topic, sources in settings.topics.items():
        for tag in sources.hashtags:
            hashtags.setdefault(tag.lower(), tag)
        queries = sources.search
        if queries == "auto":
            queries = derived_searches(topic_queries.get(topic, ""))
            if not queries:
                notes.append(
                    f"mastodon: topic '{topic}': no search can be derived from its query; list sources.mastodon.topics.{topic}.search"
                )
        searches += [q for q in queries if q not in searches]
    return list(hashtags.values()), searches, notes


def build_mastodon_listeners(
    settings: MastodonSettings,
    privacy: PrivacySettings,
    clients: dict[str, tuple[Any, bool]],
    topic_queries: dict[str, str],
) -> tuple[list[MastodonListener], list[str]]:
    """Per instance (name -> (client, has token)): one listener per hashtag, and per search when it has a token."""
    hashtags, searches, notes = mastodon_sources(settings, topic_queries)
    listeners: list[MastodonListener] = []
    for name, (client, has_token) in clients.items():
        host = instance_host(settings.instances[name].url)
        for tag in hashtags:
            listeners.append(
                MastodonListener(
                    f"mastodon:{name}:tag:{tag.lower()}",
                    host,
                    tag_reader(client, tag.lower()),
                    client,
                    settings,
                    privacy,
                )
            )
        if searches and not has_token:
            notes.append(
                f"mastodon: {name}: status search skipped, no access token "
                f"(set EARFUL_SOURCES__MASTODON__INSTANCES__{name.upper()}__ACCESS_TOKEN)"
            )
            continue
        for query in searches:
            listeners.append(
                MastodonListener(
                    f"mastodon:{name}:search:{query}", host, search_reader(client, query), client, settings, privacy
                )
            )
    return listeners, notes


def plan_mastodon(
    settings: MastodonSettings, privacy: PrivacySettings, topic_queries: dict[str, str]
) -> tuple[list[MastodonListener], list[str]]:
    """The Mastodon listeners the configuration asks for, or one line saying why Mastodon is skipped."""
    from earful_listeners.mastodon_client import make_mastodon_client

    if not settings.topics or not settings.instances:
        return [], []
    if not settings.enabled:
        return [], ["mastodon: disabled (sources.mastodon.enabled is false)"]
    clients: dict[str, tuple[Any, bool]] = {}
    for name, instance in settings.instances.items():
        if settings.replay is not None:
            from earful_listeners.replay import REPLAY_BEARER, mastodon_replay

            session = mastodon_replay(settings.replay, instance_host(instance.url))
            clients[name] = (make_mastodon_client(instance.url, REPLAY_BEARER, settings, session=session), True)
        else:
            token = instance.access_token.get_secret_value() if instance.access_token else None
            clients[name] = (make_mastodon_client(instance.url, token, settings), token is not None)
    return build_mastodon_listeners(settings, privacy, clients, topic_queries)
