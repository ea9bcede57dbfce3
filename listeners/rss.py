"""RSS/Atom listener: fetch with httpx (timeouts, size cap, conditional GET), parse with feedparser."""

from __future__ import annotations

import calendar
import functools
import hashlib
import ssl
import urllib.parse
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from listeners.base import FetchResult, SourceError
from listeners.config import PrivacySettings, RssFeedSettings, RssSettings
from listeners.html_text import html_to_text, strip_controls
from listeners.mention import Mention, mention_id
from listeners.pseudonym import author_ref

MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 500
_TRACKING_PARAMS = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")


def canonical_url(url: str) -> str:
    """The URL without fragment and tracking parameters, with a lower-case scheme and host."""
    parts = urllib.parse.urlsplit(url.strip())
    query = [
        (k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PARAMS)
    ]
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urllib.parse.urlencode(query), "")
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The default TLS context, built once per process (loading the CA bundle costs tens of milliseconds)."""
    return ssl.create_default_context()


def make_http_client(rss: RssSettings) -> Any:
    """An httpx client with the feed limits: connect/read timeouts, a bounded number of redirects."""
    import httpx

    timeout = httpx.Timeout(rss.read_timeout, connect=rss.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=rss.max_redirects,
                        verify=_tls_context())


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _entry_html(entry: Any) -> str:
    contents = entry.get("content") or []
    if contents:
        return max((c.get("value", "") for c in contents), key=len)
    return entry.get("summary", "") or entry.get("description", "")


class RssListener:
    """One RSS or Atom feed (a URL, or a local file such as the bundled demo feeds)."""

    source_kind = "rss"
    fetch_in_subprocess = True  # parsing is CPU-bound Python: a batch may run it in a separate process

    def __init__(
        self, feed: RssFeedSettings, rss: RssSettings, privacy: PrivacySettings, client: Any | None = None
    ) -> None:
        self.feed = feed
        self.rss = rss
        self.privacy = privacy
        self.client = client  # an httpx.Client shared by the batch's feeds, or None for one per fetch
        self.source_id = f"rss:{feed.name}"

    def __getstate__(self) -> dict[str, Any]:
        # The shared HTTP client stays in the parent; a copy in a fetch subprocess opens its own.
        return {**self.__dict__, "client": None}

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Fetch the feed (a 304 or an unchanged file returns nothing) and normalize its items."""
        cursor = dict(cursor or {})
        body, new_cursor, notes = self._read_path(cursor) if self.feed.path else self._download(cursor)
        if body is None:
            return FetchResult(mentions=[], cursor=new_cursor, notes=notes)
        return self._parse(body, new_cursor, notes)

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

    def _download(self, cursor: dict[str, Any]) -> tuple[bytes | None, dict[str, Any], list[str]]:
        import httpx

        url = str(self.feed.url)
        headers = {"User-Agent": self.rss.user_agent, "Accept-Encoding": "gzip, deflate",
                   "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        try:
            with ExitStack() as stack:
                client = self.client or stack.enter_context(make_http_client(self.rss))
                with client.stream("GET", url, headers=headers) as resp:
                    if resp.status_code == 304:
                        return None, cursor, ["not modified (304)"]
                    if resp.status_code >= 400:
                        raise SourceError(self.source_id, f"HTTP {resp.status_code} {resp.reason_phrase} from {url}")
                    declared = resp.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > self.rss.max_bytes:
                        raise SourceError(self.source_id, f"{url} announces {declared} bytes, over the limit of "
                                          f"{self.rss.max_bytes}")
                    chunks: list[bytes] = []
                    received = 0
                    for chunk in resp.iter_bytes():  # decoded: the cap also stops gzip bombs
                        received += len(chunk)
                        if received > self.rss.max_bytes:
                            raise SourceError(self.source_id, f"{url} sent more than {self.rss.max_bytes} bytes; "
                                              "stopped reading")
                        chunks.append(chunk)
                    new_cursor = {k: v for k, v in (("etag", resp.headers.get("ETag")),
                                                    ("last_modified", resp.headers.get("Last-Modified"))) if v}
                    return b"".join(chunks), new_cursor, []
        except httpx.TimeoutException as exc:
            kind = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
            raise SourceError(self.source_id, f"timed out {kind} from {url}") from None
        except httpx.TooManyRedirects:
            raise SourceError(self.source_id, f"more than {self.rss.max_redirects} redirects from {url}") from None
        except httpx.HTTPError as exc:
            raise SourceError(self.source_id, f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None

    # -- parsing ---------------------------------------------------------------------------------------------

    def _parse(self, body: bytes, cursor: dict[str, Any], notes: list[str]) -> FetchResult:
        import feedparser

        parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
        entries = parsed.get("entries", [])
        if parsed.get("bozo") and not entries:
            reason = parsed.get("bozo_exception")
            raise SourceError(self.source_id, f"not a valid RSS/Atom feed ({type(reason).__name__}: {reason})")
        if parsed.get("bozo"):
            notes.append(f"feed is not well-formed ({parsed.get('bozo_exception')}); read {len(entries)} items anyway")
        fetched_at = datetime.now(UTC)
        links = [canonical_url(e["link"]) for e in entries if e.get("link")]
        repeated_links = {link for link in links if links.count(link) > 1}
        mentions: list[Mention] = []
        item_errors: list[str] = []
        for position, entry in enumerate(entries, start=1):
            mention = self._mention(entry, fetched_at, repeated_links)
            if mention is None:
                item_errors.append(f"item {position}: no title, text or link; skipped")
                continue
            mentions.append(mention)
        return FetchResult(mentions=mentions, cursor=cursor, notes=notes, item_errors=item_errors)

    def _stable_key(self, entry: Any, link: str | None, repeated_links: set[str], title: str, text: str) -> str:
        """The canonical link where it identifies the item (GUIDs change on some feeds), else GUID, else content."""
        if link and link not in repeated_links:
            return link
        guid = (entry.get("id") or "").strip()
        if guid:
            return f"{self.feed.name}|guid|{guid}"
        digest = hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()
        return f"{self.feed.name}|content|{digest}"

    def _mention(self, entry: Any, fetched_at: datetime, repeated_links: set[str]) -> Mention | None:
        title = strip_controls(html_to_text(entry.get("title", ""), MAX_TITLE_CHARS))
        text = html_to_text(_entry_html(entry), MAX_TEXT_CHARS)
        raw_link = entry.get("link")
        link = canonical_url(raw_link) if raw_link and raw_link.startswith(("http://", "https://")) else None
        if not (title or text or link):
            return None
        key = self._stable_key(entry, link, repeated_links, title, text)
        handle = strip_controls(entry.get("author", "") or "").strip() or None
        return Mention(
            id=mention_id("rss", key),
            source_kind="rss",
            source=self.source_id,
            native_id=(entry.get("id") or link or key)[:1000],
            url=link,
            title=title,
            text=text,
            author_ref=author_ref(self.privacy.author_secret.get_secret_value(), "rss", handle),
            author_raw=handle if self.privacy.store_raw_author else None,
            published_at=_entry_time(entry),
            fetched_at=fetched_at,
            extra={"language_hint": self.feed.language} if self.feed.language else {},
        )
