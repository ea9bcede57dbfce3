"""The RSS/Atom listener on feeds shaped like real ones: text/plain titles with '<', HTTP-only charsets,
relative links, reused links, lazy-load <noscript> markup, bad bytes and character references, trickling servers.
"""

from __future__ import annotations

from earful_listeners.config import PrivacySettings, RssFeedSettings, RssSettings
from earful_listeners.rss import RssListener
from tests.helpers.feeds import atom, item, rss, rss_raw
from tests.helpers.http_server import Route, scripted_server
from tests.helpers.trickle import trickle

LIMITS = RssSettings(connect_timeout=1, read_timeout=1, max_bytes=200_000)


def listener(url: str, name: str = "f", limits: RssSettings = LIMITS) -> RssListener:
    return RssListener(RssFeedSettings(name=name, url=url), limits, PrivacySettings())


def fetch(body: bytes, headers: dict[str, str] | None = None, path: str = "/blog/feed.xml"):
    with scripted_server() as srv:
        srv.routes[path] = Route(body=body, headers=headers or {"Content-Type": "application/rss+xml"})
        return listener(srv.url(path)).fetch(None), srv.base_url


def test_plain_text_titles_and_summaries_keep_their_angle_brackets() -> None:
    body = atom(
        [
            '<entry><id>tag:feed.example,2026:1</id><title type="text">Why std::vector&lt;int&gt; beats '
            'std::list&lt;int&gt;</title><updated>2026-11-19T08:00:00Z</updated><link href="/posts/1"/>'
            '<summary type="text">When a&lt;b and b&lt;c, then a&lt;c</summary></entry>',
            '<entry><id>tag:feed.example,2026:2</id><title type="html">&lt;em&gt;Acme&lt;/em&gt; recall</title>'
            '<updated>2026-11-19T09:00:00Z</updated><content type="html">&lt;p&gt;Boots &amp;amp; jackets&lt;/p&gt;'
            "</content></entry>",
        ]
    )
    result, _ = fetch(body, {"Content-Type": "application/atom+xml"})
    plain, html = result.mentions
    assert plain.title == "Why std::vector<int> beats std::list<int>"
    assert plain.text == "When a<b and b<c, then a<c"
    assert html.title == "Acme recall" and html.text == "Boots & jackets"
    # an RSS <title> is text/plain for feedparser unless it holds markup
    rss_result, _ = fetch(rss([item(1, "<p>x</p>", title="Why std::vector<int> wins")]))
    assert rss_result.mentions[0].title == "Why std::vector<int> wins"


def test_markup_inside_noscript_iframe_and_textarea_does_not_leak_as_text() -> None:
    lazy = (
        '<p>Acme opens a store</p><noscript><img src="https://cdn.example/a.jpg" alt="store"></noscript>'
        '<iframe src="https://video.example/e/1"><a href="x">Watch</a></iframe>'
        "<textarea><b>embed code</b></textarea><p>in Oslo</p>"
    )
    result, _ = fetch(rss([item(1, lazy)]))
    text = result.mentions[0].text
    assert text == "Acme opens a store\nin Oslo"


def test_charset_given_only_in_the_http_header_is_used() -> None:
    doc = rss_raw(
        "<item><title>Акме: отзыв ботинок</title><guid>ru-1</guid>"
        "<description>Компания Акме отзывает зимние ботинки</description></item>"
    )
    body = doc.encode("windows-1251")
    result, _ = fetch(body, {"Content-Type": "application/rss+xml; charset=windows-1251"})
    mention = result.mentions[0]
    assert mention.title == "Акме: отзыв ботинок"
    assert "отзывает зимние ботинки" in mention.text
    assert result.item_errors == []


def test_a_server_default_charset_does_not_override_a_body_that_is_not_in_it() -> None:
    doc = rss_raw(
        "<item><title>Café crème, Größe</title><guid>1</guid></item>",
        declaration='<?xml version="1.0" encoding="ISO-8859-1"?>',
    )
    result, _ = fetch(doc.encode("iso-8859-1"), {"Content-Type": "application/rss+xml; charset=utf-8"})
    assert result.mentions[0].title == "Café crème, Größe" and result.item_errors == []


def test_one_undecodable_byte_hurts_only_its_item_and_is_noted() -> None:
    doc = rss_raw(
        "<item><title>Café one</title><guid>1</guid><description>fine</description></item>"
        "<item><title>Broken BYTE here</title><guid>2</guid><description>x</description></item>"
        "<item><title>Smörgåsbord three</title><guid>3</guid><description>fine</description></item>"
    )
    body = doc.encode("utf-8").replace(b"BYTE", b"\xff")
    result, _ = fetch(body, {"Content-Type": "application/rss+xml; charset=utf-8"})
    assert [m.title for m in result.mentions] == ["Café one", "Broken \ufffd here", "Smörgåsbord three"]
    assert len(result.item_errors) == 1 and result.item_errors[0].startswith("item 2 ('2'): ")
    assert "not valid utf-8" in result.item_errors[0]


def test_a_character_reference_to_a_surrogate_fails_no_feed() -> None:
    doc = rss_raw(
        "<item><title>ok</title><guid>1</guid><description>good</description></item>"
        "<item><title>bad &#xD800; ref</title><guid>2</guid><description>x &#55296; y</description></item>"
        "<item><title>also ok</title><guid>3</guid><description>good</description></item>"
    )
    result, _ = fetch(doc.encode())
    assert [m.title for m in result.mentions] == ["ok", "bad \ufffd ref", "also ok"]
    assert len(result.item_errors) == 1 and "item 2" in result.item_errors[0]


def test_relative_links_resolve_against_the_feed_url_and_any_scheme_case_is_accepted() -> None:
    doc = rss_raw(
        "<item><title>a</title><link>/posts/a?utm_source=rss</link><guid>a</guid></item>"
        "<item><title>b</title><link>b.html</link><guid>b</guid></item>"
        "<item><title>c</title><link>HTTP://Shop.Example/C</link><guid>c</guid></item>"
        "<item><title>d</title><link>javascript:alert(1)</link><guid>d</guid></item>"
    )
    result, base = fetch(doc.encode())
    assert [m.url for m in result.mentions] == [f"{base}/posts/a", f"{base}/blog/b.html", "http://shop.example/C", None]


def test_a_reused_link_with_a_new_guid_is_a_new_item_across_batches_and_feeds() -> None:
    monday = {
        "title": "Boots back in stock",
        "link": "https://acme.example/",
        "guid": "acme-100",
        "description": "Boots are back",
    }
    tuesday = {
        "title": "Boot recall announced",
        "link": "https://acme.example/",
        "guid": "acme-101",
        "description": "Acme recalls boots",
    }
    with scripted_server() as srv:
        srv.routes["/feed"] = Route(body=rss([monday]))
        first = listener(srv.url("/feed")).fetch(None).mentions
        srv.routes["/feed"] = Route(body=rss([tuesday, monday]))
        second = listener(srv.url("/feed")).fetch(None).mentions
        srv.routes["/other"] = Route(body=rss([{**tuesday, "guid": "99"}]))
        other = listener(srv.url("/other"), name="other").fetch(None).mentions
        srv.routes["/numeric"] = Route(body=rss([{**tuesday, "guid": "99", "title": "unrelated"}]))
        numeric = listener(srv.url("/numeric"), name="numeric").fetch(None).mentions
    ids = {m.title: m.id for m in second}
    assert ids["Boots back in stock"] == first[0].id  # a re-run adds nothing
    assert ids["Boot recall announced"] != first[0].id  # the recall is not "seen"
    assert other[0].id not in ids.values() and numeric[0].id != other[0].id  # bare guids count per feed
    assert all(m.url == "https://acme.example/" for m in second)


def test_an_absolute_guid_is_one_item_in_every_feed_that_carries_it() -> None:
    post = {
        "title": "Acme opens in Oslo",
        "link": "https://acme.example/news/oslo",
        "guid": "https://acme.example/?p=123",
        "description": "x",
    }
    with scripted_server() as srv:
        srv.routes["/news"] = Route(body=rss([post]))
        srv.routes["/stores"] = Route(body=rss([post]))
        a = listener(srv.url("/news"), name="news").fetch(None).mentions[0]
        b = listener(srv.url("/stores"), name="stores").fetch(None).mentions[0]
    assert a.id == b.id


def test_a_feed_with_entities_but_no_items_is_an_empty_feed_not_an_invalid_one() -> None:
    doc = rss_raw("").replace("<description>t</description>", "<description>caf&eacute; &nbsp;news</description>")
    result, _ = fetch(doc.encode())
    assert result.mentions == [] and result.item_errors == []


def test_a_trickling_feed_fails_at_its_deadline() -> None:
    body = rss([item(1, "slow")])
    limits = RssSettings(connect_timeout=1, read_timeout=1, deadline=0.2)
    with scripted_server() as srv:
        srv.routes["/slow"] = Route(handler=trickle(body, pause=0.01))
        import pytest

        from earful_listeners.base import SourceError

        with pytest.raises(SourceError, match=r"longer than the deadline of 0.2 s \(sources.rss.deadline\)"):
            listener(srv.url("/slow"), limits=limits).fetch(None)
