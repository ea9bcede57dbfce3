"""Text preparation shared by training and classification.

User handles and links are replaced by the placeholders the tweet sentiment data uses (``@user``,
``http``), so that the model sees posts the way it was trained. Very long posts are cut to a bounded
number of characters before tokenization (the tokenizer then keeps the first ``max_length`` tokens).
"""

from __future__ import annotations

import re

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,50}")
CHARS_PER_TOKEN_BOUND = 16


def prepare(text: str, max_tokens: int) -> str:
    """Placeholder for handles and links, whitespace collapsed, cut to ``max_tokens * 16`` characters.

    Characters that cannot be encoded as UTF-8 (lone surrogates) become "?".
    """
    text = text[: max_tokens * CHARS_PER_TOKEN_BOUND * 4].encode("utf-8", "replace").decode("utf-8")
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    return " ".join(text.split())[: max_tokens * CHARS_PER_TOKEN_BOUND]


def letter_count(text: str) -> int:
    """Number of letters (any script) in ``text``."""
    return sum(1 for char in text if char.isalpha())
