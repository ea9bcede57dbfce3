"""Turn Bluesky PostViews (app.bsky.feed.searchPosts) into Mentions: facets, languages, links, pseudonymous authors.

The author's DID is the stable key of the pseudonym (a handle can change any day); the handle is stored only with
`privacy.store_raw_author`. The web URL is built from the DID and the record key,
`https://bsky.app/profile/<did>/post/<rkey>`, so it names no handle. Facet indices are UTF-8 byte offsets into
the text: a link facet whose visible text is shortened (`example.com/very-lo...`) is expanded to its full URI, so
that topic queries and people see the real link.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from earful_listeners.html_text import strip_controls
from earful_listeners.json_fields import dict_at, list_at, str_at
from earful_listeners.mention import Mention, mention_id, parse_api_time
from earful_listeners.pseudonym import author_ref

SOURCE_KIND = "bluesky"
MAX_TEXT_CHARS = 40_000
POST_URI = re.compile(r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]{1,512})$")
_LANG = re.compile(r"^([a-z]{2,3})(?:-[A-Za-z0-9]+)*$")
_ADULT_LABELS = {"porn", "sexual", "nudity", "graphic-media", "gore"}
LINK = "app.bsky.richtext.facet#link"
MENTION = "app.bsky.richtext.facet#mention"
TAG = "app.bsky.richtext.facet#tag"


class SkipPost(ValueError):
    """A post that cannot become a mention (no valid at:// URI)."""


def web_url(uri: str) -> str:
    """The bsky.app address of a post, from its DID and record key (no handle)."""
    match = POST_URI.match(uri)
    if match is None:
        raise SkipPost(f"not a post URI: {uri[:80]!r}")
    return f"https://bsky.app/profile/{match.group(1)}/post/{match.group(2)}"


def sort_time(post: dict[str, Any]) -> str | None:
    """When search orders the post (`sortAt`): the earlier of the record's createdAt and indexedAt, as ISO text."""
    record = dict_at(post, "record")
    times = [t for t in (_parse_time(record.get("createdAt")), _parse_time(post.get("indexedAt"))) if t is not None]
    return min(times).isoformat().replace("+00:00", "Z") if times else None


def expand_facets(text: str, facets: object) -> tuple[str, dict[str, list[str]]]:
    """The text with shortened link anchors replaced by their URIs, and the links, tags and mentioned DIDs found.

    Facets with indices outside the text or off a character boundary are ignored (the text stays as written).
    """
    found: dict[str, list[str]] = {"links": [], "tags": [], "mentions": []}
    data = text.encode("utf-8")
    replacements: list[tuple[int, int, bytes]] = []
    for facet in facets if isinstance(facets, list) else []:
        index = facet.get("index") if isinstance(facet, dict) else None
        if not isinstance(index, dict):
            continue
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(data)):
            continue
        try:
            anchor = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue  # not on a character boundary
        for feature in facet.get("features") or []:
            kind = feature.get("$type") if isinstance(feature, dict) else None
            if kind == LINK and isinstance(feature.get("uri"), str):
                uri = feature["uri"]
                found["links"].append(uri)
                if anchor.endswith(("...", "…")):  # clients shorten long links in the visible text
                    replacements.append((start, end, uri.encode("utf-8")))
            elif kind == TAG and isinstance(feature.get("tag"), str):
                found["tags"].append(feature["tag"])
            elif kind == MENTION and isinstance(feature.get("did"), str):
                found["mentions"].append(feature["did"])
    limit = len(data) + 1
    for start, end, uri in sorted(replacements, reverse=True):
        if end <= limit:  # from the end, so earlier offsets stay valid; overlapping facets are left alone
            data, limit = data[:start] + uri + data[end:], start
    return data.decode("utf-8"), found


def post_mention(
    post: dict[str, Any], *, source_id: str, secret: str, store_raw: bool, fetched_at: datetime
) -> Mention:
    """A Mention from one PostView."""
    uri = post.get("uri")
    if not isinstance(uri, str):
        raise SkipPost("post without a URI")
    url = web_url(uri)
    record = dict_at(post, "record")
    author = dict_at(post, "author")
    did = author.get("did") if isinstance(author.get("did"), str) else POST_URI.match(uri).group(1)  # type: ignore[union-attr]
    raw_text = str_at(record, "text") or ""
    text, found = expand_facets(raw_text, record.get("facets"))
    text = strip_controls(text).strip()
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS].rstrip() + " …"
    extra: dict[str, Any] = {}
    langs = list_at(record, "langs")
    if langs and isinstance(langs[0], str) and (lang := _LANG.match(langs[0].lower())):
        extra["language_hint"] = lang.group(1)
    if found["links"]:
        extra["links"] = found["links"][:20]
    if found["tags"] or isinstance(record.get("tags"), list):
        extra["hashtags"] = (found["tags"] + [t for t in record.get("tags") or [] if isinstance(t, str)])[:20]
    if found["mentions"]:
        extra["mentions"] = len(found["mentions"])
    reply = dict_at(record, "reply")
    for key, name in (("parent", "reply_to"), ("root", "conversation")):
        ref = reply.get(key)
        if isinstance(ref, dict) and isinstance(ref.get("uri"), str):
            extra[name] = mention_id(SOURCE_KIND, ref["uri"])
    quoted = _quoted(record.get("embed"))
    if quoted:
        extra["quote_of"] = mention_id(SOURCE_KIND, quoted)
    labels = {str(lab.get("val")) for lab in post.get("labels") or [] if isinstance(lab, dict)}
    if labels & _ADULT_LABELS:
        extra["sensitive"] = True
    counts = (("likes", "likeCount"), ("reposts", "repostCount"), ("replies", "replyCount"), ("quotes", "quoteCount"))
    engagement = {
        name: int(post[key])
        for name, key in counts
        if isinstance(post.get(key), int) and not isinstance(post.get(key), bool)
    }
    handle = str_at(author, "handle")
    return Mention(
        id=mention_id(SOURCE_KIND, uri),
        source_kind=SOURCE_KIND,
        source=source_id,
        native_id=uri,
        url=url,
        text=text,
        author_ref=author_ref(secret, SOURCE_KIND, did),
        author_raw=handle if store_raw else None,
        published_at=_parse_time(record.get("createdAt")),
        fetched_at=fetched_at,
        engagement=engagement,
        extra=extra,
    )


def _quoted(embed: object) -> str | None:
    """The URI of a quoted post (app.bsky.embed.record, or recordWithMedia)."""
    if not isinstance(embed, dict):
        return None
    inner = embed.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):  # recordWithMedia
        inner = inner["record"]
    uri = inner.get("uri") if isinstance(inner, dict) else None
    return uri if isinstance(uri, str) and POST_URI.match(uri) else None


def _parse_time(value: object) -> datetime | None:
    moment = parse_api_time(value)
    return moment if moment is not None and moment.tzinfo is not None else None
