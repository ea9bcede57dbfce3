"""Feed documents written for tests (no real posts)."""

from __future__ import annotations

from xml.sax.saxutils import escape


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """An RSS 2.0 document; item keys: title, link, guid, description, pubDate, author."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>https://feed.example/</link><description>t</description>{''.join(parts)}</channel></rss>"
    ).encode()


def item(n: int, text: str, **extra: str) -> dict[str, str]:
    """A feed item numbered `n`."""
    return {
        "title": f"Item {n}",
        "link": f"https://feed.example/items/{n}",
        "guid": f"guid-{n}",
        "description": text,
        "pubDate": f"Thu, 19 Nov 2026 {n % 24:02d}:00:00 GMT",
        **extra,
    }


def atom(entries: list[str], title: str = "Test Atom feed") -> bytes:
    """An Atom 1.0 document from raw <entry> element strings (so tests can set type="text" or type="html")."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>tag:feed.example,2026:feed</id><updated>2026-11-19T08:00:00Z</updated>"
        f"{''.join(entries)}</feed>"
    ).encode()


def rss_raw(items_xml: str, declaration: str = '<?xml version="1.0"?>') -> str:
    """An RSS 2.0 document around raw <item> markup (entities and CDATA as a real feed writes them), as text to
    encode with whatever charset the test needs."""
    return (
        f'{declaration}<rss version="2.0"><channel><title>Raw feed</title><link>https://feed.example/</link>'
        f"<description>t</description>{items_xml}</channel></rss>"
    )
