"""RSS/Atom listener: fetch with httpx (timeouts, size cap, conditional GET), parse with feedparser."""

from __future__ import annotations

import calendar
import functools
import hashlib
import ssl
import time
import urllib.parse
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earful_listeners.base import FetchResult, SourceError
from earful_listeners.config import PrivacySettings, RssFeedSettings, RssSettings
from earful_listeners.feed_decoding import REPLACEMENT, decode_feed
from earful_listeners.html_text import strip_controls, text_of
from earful_listeners.mention import Mention, mention_id
from earful_listeners.pseudonym import author_ref

if TYPE_CHECKING:
    from collections.abc import Mapping

    import httpx

MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 500
_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")
_WEB_SCHEMES = ("http", "https")
_GLOBAL_ID_SCHEMES = ("http", "https", "tag", "urn")  # ids unique across feeds by construction (RFC 4151, 8141)


def web_url(url: str | None) -> str | None:
    """The canonical form of an http(s) URL (any case of the scheme), or None for anything else."""
    if not url:
        return None
    try:
        scheme = urllib.parse.urlsplit(url.strip()).scheme  # urlsplit lower-cases the scheme
    except ValueError:
        return None
    return canonical_url(url) if scheme in _WEB_SCHEMES else None


def canonical_url(url: str) -> str:
    """The URL without fragment and tracking parameters, with a lower-case scheme and host."""
    parts = urllib.parse.urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PARAMS)
    ]
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urllib.parse.urlencode(query), "")
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The default TLS context, built once per process (loading the CA bundle costs tens of milliseconds)."""
    return ssl.create_default_context()


def make_http_client(rss: RssSettings) -> httpx.Client:
    """An httpx client with the feed limits: connect/read timeouts, a bounded number of redirects."""
    import httpx

    timeout = httpx.Timeout(rss.read_timeout, connect=rss.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=rss.max_redirects, verify=_tls_context())


def _entry_time(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _entry_body(entry: Mapping[str, Any]) -> tuple[str, str | None]:
    """The entry's longest content (else its summary) and the type feedparser gives it (text/plain, text/html)."""
    contents = [c for c in entry.get("content") or [] if c.get("value")]
    if contents:
        best = max(contents, key=lambda c: len(c.get("value", "")))
        return best.get("value", ""), best.get("type")
    detail = entry.get("summary_detail") or {}
    return entry.get("summary", "") or entry.get("description", ""), detail.get("type")


def _title(entry: Mapping[str, Any]) -> str:
    detail = entry.get("title_detail") or {}
    return strip_controls(text_of(entry.get("title", ""), detail.get("type"), MAX_TITLE_CHARS))


class RssListener:
    """One RSS or Atom feed (a URL, or a local file such as the bundled demo feeds)."""

    source_kind = "rss"
    fetch_in_subprocess = True  # parsing is CPU-bound Python: a batch may run it in a separate process

    def __init__(
        self, feed: RssFeedSettings, rss: RssSettings, privacy: PrivacySettings, client: httpx.Client | None = None
    ) -> None:
        self.feed = feed
        self.rss = rss
        self.privacy = privacy
        self.client = client  # an httpx.Client shared by the batch's feeds, or None for one per fetch
        self.source_id = f"rss:{feed.name}"

    def __getstate__(self) -> dict[str, Any]:
        # The shared HTTP client stays in the parent; a fetch worker process lends its own (see use_client). The
        # limits travel without the list of every feed: pickled with each of 2,000 feeds, it made a batch
        # quadratic.
        return {**self.__dict__, "client": None, "rss": self.rss.model_copy(update={"feeds": []})}

    def use_client(self, client: httpx.Client) -> None:
        """Fetch with `client` (a fetch worker's long-lived one) unless the listener already has one."""
        if self.client is None:
            self.client = client

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Fetch the feed (a 304 or an unchanged file returns nothing) and normalize its items."""
        cursor = dict(cursor or {})
        content_type = None
        if self.feed.path:
            body, new_cursor, notes = self._read_path(cursor)
        else:
            body, new_cursor, notes, content_type = self._download(cursor)
        if body is None:
            return FetchResult(mentions=[], cursor=new_cursor, notes=notes)
        return self._parse(body, new_cursor, notes, content_type)

    # -- reading ---------------------------------------------------------------------------------------------

    def _read_path(self, cursor: dict[str, Any]) -> tuple[bytes | None, dict[str, Any], list[str]]:
        path = Path(self.feed.path)  # type: ignore[arg-type]
        try:
            size = path.stat().st_size
            if size > self.rss.max_bytes:
                raise SourceError(self.source_id, f"{path} is {size} bytes, over the limit of {self.rss.max_bytes}")
            body = path.read_bytes()
        except FileNotFoundError:
            raise SourceError(self.source_id, f"feed file not found: {path}") from None
        except OSError as exc:
            raise SourceError(self.source_id, f"cannot read {path}: {exc.strerror}") from None
        digest = hashlib.sha256(body).hexdigest()
        if cursor.get("sha256") == digest:
            return None, cursor, ["unchanged since the last batch"]
        return body, {"sha256": digest}, []

    def _download(self, cursor: dict[str, Any]) -> tuple[bytes | None, dict[str, Any], list[str], str | None]:
        """The body (None on 304), the new cursor, notes and the Content-Type, all within the feed's deadline.

        The deadline bounds the whole download (a server trickling a byte at a time never hits the per-read
        timeout); it is checked after every chunk, so it is overshot by at most one read timeout."""
        import httpx

        url = str(self.feed.url)
        deadline = time.monotonic() + self.rss.deadline
        headers = {
            "User-Agent": self.rss.user_agent,
            "Accept-Encoding": "gzip, deflate",
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8",
        }
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        try:
            with ExitStack() as stack:
                client = self.client or stack.enter_context(make_http_client(self.rss))
                timeout = httpx.Timeout(
                    min(self.rss.read_timeout, self.rss.deadline),
                    connect=min(self.rss.connect_timeout, self.rss.deadline),
                )
                with client.stream("GET", url, headers=headers, timeout=timeout) as resp:
                    if resp.status_code == 304:
                        return None, cursor, ["not modified (304)"], None
                    if resp.status_code >= 400:
                        raise SourceError(self.source_id, f"HTTP {resp.status_code} {resp.reason_phrase} from {url}")
                    declared = resp.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > self.rss.max_bytes:
                        raise SourceError(
                            self.source_id, f"{url} announces {declared} bytes, over the limit of {self.rss.max_bytes}"
                        )
                    chunks: list[bytes] = []
                    received = 0
                    for chunk in resp.iter_bytes():  # decoded: the cap also stops gzip bombs
                        received += len(chunk)
                        if received > self.rss.max_bytes:
                            raise SourceError(
                                self.source_id, f"{url} sent more than {self.rss.max_bytes} bytes; stopped reading"
                            )
                        if time.monotonic() > deadline:
                            raise SourceError(
                                self.source_id,
                                f"{url} took longer than the deadline of "
                                f"{self.rss.deadline:g} s (sources.rss.deadline) after {received} "
                                "bytes; stopped reading",
                            )
                        chunks.append(chunk)
                    new_cursor = {
                        k: v
                        for k, v in (
                            ("etag", resp.headers.get("ETag")),
                            ("last_modified", resp.headers.get("Last-Modified")),
                        )
                        if v
                    }
                    return b"".join(chunks), new_cursor, [], resp.headers.get("Content-Type")
        except httpx.TimeoutException as exc:
            kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
            raise SourceError(self.source_id, f"timed out {kind} from {url}") from None
        except httpx.TooManyRedirects:
            raise SourceError(self.source_id, f"more than {self.rss.max_redirects} redirects from {url}") from None
        except httpx.HTTPError as exc:
            raise SourceError(self.source_id, f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None

    # -- parsing ---------------------------------------------------------------------------------------------

    def _parse(self, body: bytes, cursor: dict[str, Any], notes: list[str], content_type: str | None) -> FetchResult:
        import feedparser

        data, charset, damaged = decode_feed(body, content_type)
        # No content-location: feedparser would resolve GUIDs against it too ("123" -> "https://site/123");
        # links are resolved against the feed's URL here instead (_link).
        headers = {"content-type": "application/xml; charset=utf-8"} if charset else {}
        parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False, response_headers=headers)
        entries = parsed.get("entries", [])
        if parsed.get("bozo") and not entries and not parsed.get("version"):
            reason = parsed.get("bozo_exception")
            raise SourceError(self.source_id, f"not a valid RSS/Atom feed ({type(reason).__name__}: {reason})")
        if parsed.get("bozo"):
            notes.append(f"feed is not well-formed ({parsed.get('bozo_exception')}); read {len(entries)} items anyway")
        fetched_at = datetime.now(UTC)
        links = [self._link(e) for e in entries]
        repeated_links = {link for link, n in Counter(links).items() if link and n > 1}
        mentions: list[Mention] = []
        item_errors: list[str] = []
        for position, (entry, link) in enumerate(zip(entries, links, strict=True), start=1):
            where = f"item {position}" + (f" ({str(entry.get('id'))[:80]!r})" if entry.get("id") else "")
            try:
                mention = self._mention(entry, link, fetched_at, repeated_links)
            except (ValueError, TypeError, UnicodeError) as exc:  # one bad item, not the feed
                item_errors.append(f"{where}: skipped: {type(exc).__name__}: {exc}")
                continue
            if mention is None:
                item_errors.append(f"{where}: no title, text or link; skipped")
                continue
            if damaged and REPLACEMENT in f"{mention.title}{mention.text}{mention.native_id}":
                item_errors.append(
                    f"{where}: holds bytes or character references that are not valid "
                    f"{charset or 'text'}; they were replaced by U+FFFD"
                )
            mentions.append(mention)
        return FetchResult(mentions=mentions, cursor=cursor, notes=notes, item_errors=item_errors)

    def _link(self, entry: Mapping[str, Any]) -> str | None:
        """The entry's link, resolved against the feed's URL when relative, if it is an http(s) URL."""
        raw = entry.get("link")
        if raw and self.feed.url is not None:
            raw = urllib.parse.urljoin(str(self.feed.url), raw.strip())
        return web_url(raw)

    def _stable_key(
        self, entry: Mapping[str, Any], link: str | None, repeated_links: set[str], title: str, text: str
    ) -> str:
        """What identifies the item across batches and feeds: its GUID (Atom id), else its link, else its content.

        A link is not an identity: feeds reuse one (a homepage) for different items, in the same fetch, across
        batches and across feeds. A GUID is: an absolute one (http, tag:, urn:) stands for itself across feeds
        (the same article in two category feeds of a site is one mention); a bare one ("123") only within its
        feed. Without a GUID, the link with the publication time identifies the item."""
        guid = strip_controls(str(entry.get("id") or "")).strip()
        if guid:
            scheme = urllib.parse.urlsplit(guid).scheme if ":" in guid else ""
            if scheme in _WEB_SCHEMES:
                return canonical_url(guid)
            if scheme in _GLOBAL_ID_SCHEMES:
                return guid
            return f"{self.feed.name}|guid|{guid}"
        if link and link not in repeated_links:
            return link
        digest = hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()
        return f"{self.feed.name}|content|{digest}"

    def _mention(
        self, entry: Mapping[str, Any], link: str | None, fetched_at: datetime, repeated_links: set[str]
    ) -> Mention | None:
        """The entry as a mention (`link`: its `_link`), None when it has no title, text or link."""
        title = _title(entry)
        body, body_type = _entry_body(entry)
        text = text_of(body, body_type, MAX_TEXT_CHARS)
        if not (title or text or link):
            return None
        key = self._stable_key(entry, link, repeated_links, title, text)
        handle = strip_controls(entry.get("author", "") or "").strip() or None
        return Mention(
            id=mention_id("rss", key),
            source_kind="rss",
            source=self.source_id,
            native_id=(strip_controls(str(entry.get("id") or "")) or link or key)[:1000],
            url=link,
            title=title,
            text=text,
            author_ref=author_ref(self.privacy.author_secret.get_secret_value(), "rss", handle),
            author_raw=handle if self.privacy.store_raw_author else None,
            published_at=_entry_time(entry),
            fetched_at=fetched_at,
            extra={"language_hint": self.feed.language} if self.feed.language else {},
        )
