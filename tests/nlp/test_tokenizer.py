"""The rebuilt tokenizer reproduces XLM-R SentencePiece on sentences in many scripts (Persian ZWNJ included)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tokenizer(models_cache):
    from transformers import AutoTokenizer

    from nlp.encoder_build import encoder_directory

    return AutoTokenizer.from_pretrained(str(encoder_directory(models_cache)))


def test_token_ids_equal_reference(tokenizer, e5_reference):
    mismatches = [
        item["text"]
        for item in e5_reference["tokens"]
        if tokenizer(item["text"], add_special_tokens=False)["input_ids"] != item["ids"]
    ]
    assert mismatches == []


def test_fixture_covers_persian_zero_width_non_joiner(e5_reference):
    assert sum("\u200c" in item["text"] for item in e5_reference["tokens"]) >= 5


def test_a_tokenizer_without_the_charsmap_differs_on_persian(tokenizer, e5_reference):
    """Guards the test above: the normalizer is what makes Persian right."""
    from tokenizers import Tokenizer, normalizers

    naive = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    naive.normalizer = normalizers.NFKC()
    persian = [item for item in e5_reference["tokens"] if "\u200c" in item["text"]]
    assert any(naive.encode(item["text"], add_special_tokens=False).ids != item["ids"] for item in persian)


def test_special_tokens_wrap_the_text(tokenizer):
    ids = tokenizer("hello")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2 and tokenizer.pad_token_id == 1
