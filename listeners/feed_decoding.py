"""Feed bytes to text, item by item: the charset the feed claims, and damage confined to the items it hits.

feedparser decodes a whole document at once: one byte that is not in the declared charset makes it re-decode
everything as windows-1252 (every item mojibake), and one character reference to no character (`&#xD800;`)
makes it raise. Here the body is decoded once, bad bytes and references become U+FFFD, and the listener notes
only the items that hold one.
"""

from __future__ import annotations

import codecs
import re

_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([A-Za-z0-9._:-]+)[\"'][^>]*\?>")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_BOMS = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
REPLACEMENT = "\ufffd"


def _declared_charsets(body: bytes, content_type: str | None) -> list[str]:
    """The charsets the body claims, in the order they count: the HTTP header's, a byte-order mark's, the XML
    declaration's, then UTF-8; each known to Python, once."""
    claimed: list[str] = []
    if content_type:
        from email.message import Message

        header = Message()
        header["content-type"] = content_type
        charset = header.get_param("charset")
        if isinstance(charset, str) and charset.strip():
            claimed.append(charset.strip().strip("\"'"))
    claimed += [name for bom, name in _BOMS if body.startswith(bom)][:1]
    match = _XML_DECLARATION.match(body[:500])
    if match:
        claimed.append(match.group(1).decode("ascii"))
    claimed.append("utf-8")
    known: dict[str, str] = {}
    for name in claimed:
        try:
            known.setdefault(codecs.lookup(name).name, name)
        except LookupError:
            continue
    return list(known.values())


def _is_xml_char(code: int) -> bool:
    """Whether a code point may appear in XML 1.0 (no surrogates, no C0 controls but tab and newlines)."""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def decode_feed(body: bytes, content_type: str | None) -> tuple[bytes, str, int]:
    """The body as UTF-8 with a matching XML declaration, ready for feedparser; the charset used; and how many
    bytes or character references could not be read. Each of those becomes U+FFFD, so only the items holding
    one are hurt (feedparser would otherwise fail the whole feed on `&#xD800;`, or re-decode all of it as
    windows-1252 for one bad byte).

    The first claimed charset the whole body decodes in wins (the HTTP header's, unless the body is not in it:
    servers often add `charset=utf-8` to any file); when none fits, the first, with the bad bytes replaced."""
    from feedparser.encodings import RE_XML_DECLARATION

    candidates = _declared_charsets(body, content_type)
    damaged = 0
    for charset in candidates:
        try:
            text = body.decode(charset)
            break
        except UnicodeDecodeError:
            continue
    else:
        charset = candidates[0]
        text = body.decode(charset, errors="replace")
        damaged = max(text.count(REPLACEMENT) - body.count(REPLACEMENT.encode()), 1)
    bad_refs = 0

    def char_ref(match: re.Match[str]) -> str:
        nonlocal bad_refs
        code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        if _is_xml_char(code):
            return match.group(0)
        bad_refs += 1
        return REPLACEMENT

    if "&#" in text:
        text = _CHAR_REF.sub(char_ref, text)
    text = text.lstrip("\ufeff")
    declaration = "<?xml version='1.0' encoding='utf-8'?>"
    text = (
        RE_XML_DECLARATION.sub(declaration, text, count=1)
        if RE_XML_DECLARATION.search(text)
        else declaration + "\n" + text
    )
    return text.encode("utf-8", errors="replace"), charset, damaged + bad_refs
