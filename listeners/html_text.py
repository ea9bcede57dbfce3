"""Turn untrusted HTML (feed items, posts) into plain text: no markup, no scripts, no control characters."""

from __future__ import annotations

import functools
import html
import re
import unicodedata

_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_LINE_EDGES = re.compile(r"[^\S\n]*\n[^\S\n]*")  # whitespace around a newline (what stripping each line removes)
# Control and format characters that only confuse downstream tools; ZWNJ/ZWJ and bidi marks carry meaning in
# Persian and Arabic text and are kept (they are category Cf, listed here as exceptions).
_KEEP = "\n\t\u200c\u200d\u200e\u200f"
_DROP_CONTENT = {"script", "style", "noscript", "iframe", "textarea", "template", "object", "select"}
_PLAIN_TYPES = {"text/plain", "text"}


# Where control, format, surrogate and private-use code points can be: planes 0 and 1 and the tag block of plane
# 14 are scanned; planes 2-13 hold none; planes 15 and 16 are private use throughout (but their last two points).
_SCANNED = (range(0x0, 0x20000), range(0xE0000, 0xE1000))
_PRIVATE_PLANES = ((0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))


@functools.cache
def _unwanted_chars() -> re.Pattern[str]:
    """A character class of every control, format, surrogate and private-use code point except _KEEP (built
    once per process; scanning only where such points can be keeps that under 0.1 s)."""
    ranges: list[str] = []
    for block in _SCANNED:
        start = None
        for code in [*block, block.stop]:
            ch = chr(code) if code < block.stop else ""
            unwanted = bool(ch) and ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")
            if unwanted and start is None:
                start = code
            elif not unwanted and start is not None:
                ranges.append(f"\\U{start:08x}-\\U{code - 1:08x}")
                start = None
    ranges += [f"\\U{low:08x}-\\U{high:08x}" for low, high in _PRIVATE_PLANES]
    return re.compile("[" + "".join(ranges) + "]")


def strip_controls(text: str) -> str:
    """Remove control characters (except newline and tab) and bidi overrides; keep ZWNJ/ZWJ and LRM/RLM."""
    return _unwanted_chars().sub("", text)


def html_to_text(fragment: str, max_chars: int | None = None) -> str:
    """Plain text of an HTML fragment: tags and scripts removed, entities decoded, whitespace tidied, NFC."""
    import nh3

    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment and "\x00" not in fragment:
        # No markup and no entities: what the sanitiser would return, without its cost (most titles and many
        # descriptions). HTML parsing turns CR LF and a lone CR into LF, so this does too.
        return tidy_text(fragment.replace("\r\n", "\n").replace("\r", "\n"), max_chars)
    marked = _BLOCK_TAGS.sub("\n", fragment)
    # With no allowed tags, ammonia keeps the text of every element; the elements in _DROP_CONTENT hold markup
    # as raw text (a lazy-load <noscript><img ...>) or fallbacks and widgets, so their contents go entirely.
    cleaned = nh3.clean(marked, tags=set(), clean_content_tags=_DROP_CONTENT, attributes={}, strip_comments=True)
    return tidy_text(html.unescape(cleaned), max_chars)


def text_of(value: str, content_type: str | None, max_chars: int | None = None) -> str:
    """Plain text of a feed field given its declared type: HTML goes through html_to_text, plain text does not
    (a text/plain "std::vector<int>" keeps its "<int>")."""
    if content_type and content_type.lower().split(";")[0].strip() in _PLAIN_TYPES:
        return tidy_text(value, max_chars)
    return html_to_text(value, max_chars)


def tidy_text(text: str, max_chars: int | None = None) -> str:
    """NFC, control characters removed, runs of spaces and blank lines collapsed, cut at `max_chars`."""
    if not text:
        return ""
    text = strip_controls(unicodedata.normalize("NFC", text))
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + " …"
    return text
