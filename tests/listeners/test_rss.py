"""The RSS/Atom listener against feeds served on 127.0.0.1: success, conditional GET, and every failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from earful_listeners.base import SourceError
from earful_listeners.config import PrivacySettings, RssFeedSettings, RssSettings
from earful_listeners.rss import RssListener, canonical_url
from tests.helpers.feeds import item, rss
from tests.helpers.http_server import Route, scripted_server

RSS_LIMITS = RssSettings(connect_timeout=1, read_timeout=1, max_bytes=200_000)


def listener(
    url: str | None = None,
    path: Path | None = None,
    limits: RssSettings = RSS_LIMITS,
    privacy: PrivacySettings | None = None,
) -> RssListener:
    feed = RssFeedSettings(name="f", url=url, path=path)
    return RssListener(feed, limits, privacy or PrivacySettings())


def test_fetches_items_and_uses_etag_for_an_unchanged_feed() -> None:
    with scripted_server() as srv:
        srv.routes["/feed"] = Route(body=rss([item(1, "Acme boots"), item(2, "Acme jacket")]), etag='"v1"')
        first = listener(srv.url("/feed")).fetch(None)
        assert [m.title for m in first.mentions] == ["Item 1", "Item 2"]
        assert first.cursor == {"etag": '"v1"'}
        second = listener(srv.url("/feed")).fetch(first.cursor)
        assert second.mentions == [] and "not modified (304)" in second.notes
        assert srv.requests[-1][1].get("If-None-Match") == '"v1"'


def test_gzip_body_is_decoded() -> None:
    with scripted_server() as srv:
        srv.routes["/feed"] = Route(body=rss([item(1, "gzip works")]), gzip=True)
        assert listener(srv.url("/feed")).fetch(None).mentions[0].text == "gzip works"


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Route(status=500, body=b"oops"), "HTTP 500"),
        (Route(status=404), "HTTP 404"),
        (Route(body=b"<html><body>not a feed at all"), "not a valid RSS/Atom feed"),
        (Route(body=b"\x00\x01\x02 garbage \xff\xfe"), "not a valid RSS/Atom feed"),
        (Route(body=rss([item(1, "x" * 300_000)]), gzip=True), "more than 200000 bytes"),  # a gzip bomb
        (Route(body=rss([item(1, "x" * 300_000)])), "announces 300[0-9]+ bytes, over the limit"),
    ],
    ids=["500", "404", "html", "binary", "gzip-bomb", "announced-huge"],
)
def test_a_failing_feed_raises_a_source_error_that_says_what_and_where(route: Route, message: str) -> None:
    with scripted_server() as srv:
        srv.routes["/feed"] = route
        with pytest.raises(SourceError, match=message) as err:
            listener(srv.url("/feed")).fetch(None)
        assert err.value.source == "rss:f"


def test_a_feed_that_does_not_answer_in_time_raises_a_source_error_that_says_so() -> None:
    limits = RssSettings(connect_timeout=1, read_timeout=0.05, max_bytes=200_000)  # tiny, injected: no waiting
    with scripted_server() as srv:
        srv.routes["/feed"] = Route(hang=True)
        with pytest.raises(SourceError, match="timed out") as err:
            listener(srv.url("/feed"), limits=limits).fetch(None)
        assert err.value.source == "rss:f"


def test_redirect_loop_is_limited() -> None:
    with scripted_server() as srv:
        srv.routes["/a"] = Route(status=302, headers={"Location": "/b"})
        srv.routes["/b"] = Route(status=302, headers={"Location": "/a"})
        with pytest.raises(SourceError, match="redirects"):
            listener(srv.url("/a")).fetch(None)


def test_unreachable_feed() -> None:
    with pytest.raises(SourceError, match="cannot fetch|timed out"):
        listener("http://127.0.0.1:9/feed").fetch(None)


def test_ill_formed_feed_with_items_is_read_with_a_note() -> None:
    body = rss([item(1, "first"), item(2, "second")]).replace(b"</channel>", b"<broken></channel>")
    with scripted_server() as srv:
        srv.routes["/feed"] = Route(body=body)
        result = listener(srv.url("/feed")).fetch(None)
    assert len(result.mentions) == 2
    assert any("not well-formed" in note for note in result.notes)


def test_ids_without_guid_follow_the_canonical_link() -> None:
    no_guid = {"title": "T", "link": "https://feed.example/a?utm_source=x#top", "description": "d"}
    edited = {"title": "T (updated)", "link": "https://feed.example/a", "description": "d, edited"}
    with scripted_server() as srv:
        srv.routes["/one"] = Route(body=rss([no_guid]))
        srv.routes["/two"] = Route(body=rss([edited]))
        first = listener(srv.url("/one")).fetch(None).mentions[0]
        second = listener(srv.url("/two")).fetch(None).mentions[0]
    assert first.id == second.id
    assert first.url == "https://feed.example/a"


def test_items_without_guid_or_link_get_content_ids_and_empty_items_are_reported(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([{"title": "Only a title"}, {"description": "only text"}, {"author": "nobody"}]))
    a = listener(path=feed).fetch(None)
    b = listener(path=feed.parent / "f.xml").fetch(None)
    assert [m.id for m in a.mentions] == [m.id for m in b.mentions] and len(a.mentions) == 2
    assert a.item_errors == ["item 3: no title, text or link; skipped"]


def test_hostile_text_is_cleaned() -> None:
    hostile = (
        '<p>Acme <b>broke</b></p><script>steal(document.cookie)</script><img src=x onerror="alert(1)">'
        "\u202eevil\u0000 \u200cok — مرحبا &amp; שלום"
    )
    with scripted_server() as srv:
        srv.routes["/feed"] = Route(body=rss([item(1, hostile, title="<i>Title</i>\x07")]))
        mention = listener(srv.url("/feed")).fetch(None).mentions[0]
    assert mention.title == "Title"
    assert "<" not in mention.text and "steal" not in mention.text and "alert" not in mention.text
    assert "\u202e" not in mention.text and "\x00" not in mention.text
    assert "\u200c" in mention.text and "مرحبا & שלום" in mention.text


def test_authors_are_pseudonymous_unless_configured(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([item(1, "text", author="jane@example.org (Jane)")]))
    pseudo = listener(path=feed).fetch(None).mentions[0]
    assert pseudo.author_ref and pseudo.author_ref.startswith("a_") and pseudo.author_raw is None
    assert "jane" not in pseudo.model_dump_json().lower()
    raw = listener(path=feed, privacy=PrivacySettings(store_raw_author=True)).fetch(None).mentions[0]
    assert raw.author_raw == "jane@example.org (Jane)" and raw.author_ref == pseudo.author_ref
    other_key = listener(path=feed, privacy=PrivacySettings(author_secret="other")).fetch(None).mentions[0]
    assert other_key.author_ref != pseudo.author_ref


def test_local_feed_file_unchanged_is_skipped_and_missing_file_is_an_error(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([item(1, "a")]))
    first = listener(path=feed).fetch(None)
    assert listener(path=feed).fetch(first.cursor).mentions == []
    with pytest.raises(SourceError, match="feed file not found"):
        listener(path=tmp_path / "missing.xml").fetch(None)


def test_canonical_url_drops_tracking_and_fragment() -> None:
    assert canonical_url("HTTPS://Example.org/a?utm_medium=x&id=3#frag") == "https://example.org/a?id=3"


def test_huge_post_is_truncated_predictably(tmp_path: Path) -> None:
    feed = tmp_path / "f.xml"
    feed.write_bytes(rss([item(1, "Acme " + "word " * 200_000)]))
    limits = RssSettings(max_bytes=5_000_000)
    mention = listener(path=feed, limits=limits).fetch(None).mentions[0]
    assert len(mention.text) <= 20_002 and mention.text.endswith(" …")
