"""Turn untrusted HTML (feed items, posts) into plain text: no markup, no scripts, no control characters."""

from __future__ import annotations

import functools
import html
import re
import sys
import unicodedata

_BLOCK_TAGS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|/blockquote)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# Control and format characters that only confuse downstream tools; ZWNJ/ZWJ and bidi marks carry meaning in
# Persian and Arabic text and are kept (they are category Cf, listed here as exceptions).
_KEEP = "\n\t\u200c\u200d\u200e\u200f"


@functools.cache
def _unwanted_chars() -> re.Pattern[str]:
    """A character class of every control, format, surrogate and private-use code point except _KEEP."""
    ranges: list[str] = []
    start = None
    for code in range(sys.maxunicode + 2):
        ch = chr(code) if code <= sys.maxunicode else ""
        unwanted = bool(ch) and ch not in _KEEP and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co")
        if unwanted and start is None:
            start = code
        elif not unwanted and start is not None:
            ranges.append(f"\\U{start:08x}-\\U{code - 1:08x}")
            start = None
    return re.compile("[" + "".join(ranges) + "]")


def strip_controls(text: str) -> str:
    """Remove control characters (except newline and tab) and bidi overrides; keep ZWNJ/ZWJ and LRM/RLM."""
    return _unwanted_chars().sub("", text)


def html_to_text(fragment: str, max_chars: int | None = None) -> str:
    """Plain text of an HTML fragment: tags and scripts removed, entities decoded, whitespace tidied, NFC."""
    import nh3

    if not fragment:
        return ""
    marked = _BLOCK_TAGS.sub("\n", fragment)
    # nh3 (ammonia) drops the contents of script/style; with no allowed tags everything else becomes text.
    cleaned = nh3.clean(marked, tags=set(), attributes={}, strip_comments=True)
    text = html.unescape(cleaned)
    text = strip_controls(unicodedata.normalize("NFC", text))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + " …"
    return text
