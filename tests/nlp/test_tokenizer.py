"""The rebuilt tokenizer reproduces XLM-R SentencePiece on sentences in many scripts (Persian ZWNJ included)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tokenizer(models_cache):
    from transformers import AutoTokenizer

    from earful_nlp.encoder_build import encoder_directory

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


def test_sentencepiece_ids_equal_reference(models_cache, e5_reference):
    """The compact tokenizer the classifier uses gives the same ids as the fast tokenizer."""
    from earful_nlp.encoder_build import encoder_directory
    from earful_nlp.spm_ids import SentencePieceIds

    spm_ids = SentencePieceIds.from_directory(encoder_directory(models_cache))
    texts = [item["text"] for item in e5_reference["tokens"]]
    encoded = spm_ids.encode(texts, max_length=512)
    assert [ids[1:-1] for ids in encoded] == [item["ids"] for item in e5_reference["tokens"]]
    assert all(ids[0] == 0 and ids[-1] == 2 for ids in encoded)


def test_sentencepiece_ids_truncate(models_cache):
    from earful_nlp.encoder_build import encoder_directory
    from earful_nlp.spm_ids import SentencePieceIds

    [ids] = SentencePieceIds.from_directory(encoder_directory(models_cache)).encode(["word " * 500], max_length=128)
    assert len(ids) == 128 and ids[-1] == 2
