"""Feed documents written for tests (no real posts)."""

from __future__ import annotations

from xml.sax.saxutils import escape


def rss(items: list[dict[str, str]], title: str = "Test feed") -> bytes:
    """An RSS 2.0 document; item keys: title, link, guid, description, pubDate, author."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>https://feed.example/</link><description>t</description>{''.join(parts)}</channel></rss>").encode()


def item(n: int, text: str, **extra: str) -> dict[str, str]:
    """A feed item numbered `n`."""
    return {"title": f"Item {n}", "link": f"https://feed.example/items/{n}", "guid": f"guid-{n}",
            "description": text, "pubDate": f"Thu, 19 Nov 2026 {n % 24:02d}:00:00 GMT", **extra}
