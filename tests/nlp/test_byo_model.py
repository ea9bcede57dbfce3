"""Bring-your-own Hugging Face classifiers: loaded and label-mapped at start-up, clear errors otherwise."""

from __future__ import annotations

import pathlib

import pytest

from earful_nlp.config import NlpSettings
from earful_nlp.errors import ModelLoadError


def _tiny_xlmr(directory: pathlib.Path, id2label: dict[int, str], models_cache: pathlib.Path) -> pathlib.Path:
    """A randomly initialised, tiny XLMRobertaForSequenceClassification with the e5 tokenizer."""
    import torch
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaForSequenceClassification

    from earful_nlp.encoder_build import encoder_directory

    torch.manual_seed(0)
    config = XLMRobertaConfig(
        vocab_size=250037,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=130,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    XLMRobertaForSequenceClassification(config).save_pretrained(str(directory))
    tokenizer = AutoTokenizer.from_pretrained(str(encoder_directory(models_cache)))
    tokenizer.model_max_length = 128
    tokenizer.save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="module")
def cardiff_like(tmp_path_factory, models_cache) -> pathlib.Path:
    return _tiny_xlmr(tmp_path_factory.mktemp("sent"), {0: "Negative", 1: "Neutral", 2: "Positive"}, models_cache)


@pytest.fixture(scope="module")
def odd_labels(tmp_path_factory, models_cache) -> pathlib.Path:
    return _tiny_xlmr(tmp_path_factory.mktemp("odd"), {0: "LABEL_0", 1: "LABEL_1"}, models_cache)


def test_configured_sentiment_model_is_used(cardiff_like, models_cache):
    from earful_nlp.classifier import MentionClassifier

    classifier = MentionClassifier.load(NlpSettings(sentiment_model=cardiff_like), models_cache)
    [result] = classifier.classify(["the parcel arrived broken"], ["en"])
    assert result["sentiment"] in ("negative", "neutral", "positive")
    assert "sentiment=" in result["model"] and cardiff_like.name in result["model"]
    assert "complaint=earful-default" in result["model"]


def test_both_tasks_from_configured_models(cardiff_like, odd_labels, models_cache):
    from earful_nlp.classifier import MentionClassifier

    settings = NlpSettings(
        sentiment_model=cardiff_like,
        complaint_model=odd_labels,
        label_map={"complaint": {"LABEL_0": "not_complaint", "LABEL_1": "complaint"}},
    )
    classifier = MentionClassifier.load(settings, models_cache)
    assert classifier.default_model is None
    [result] = classifier.classify(["where is my refund?"], ["en"])
    assert 0.0 <= result["complaint_probability"] <= 1.0


def test_unmappable_labels_fail_at_load(odd_labels, models_cache):
    from earful_nlp.classifier import MentionClassifier

    with pytest.raises(ModelLoadError, match="label_map"):
        MentionClassifier.load(NlpSettings(sentiment_model=odd_labels), models_cache)


def test_missing_directory_fails_at_load(tmp_path, models_cache):
    from earful_nlp.classifier import MentionClassifier

    with pytest.raises(ModelLoadError, match="nlp.sentiment_model"):
        MentionClassifier.load(NlpSettings(sentiment_model=tmp_path / "nope"), models_cache)


def test_broken_directory_fails_at_load(tmp_path, models_cache):
    from earful_nlp.classifier import MentionClassifier

    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="cannot load"):
        MentionClassifier.load(NlpSettings(complaint_model=tmp_path), models_cache)


def test_missing_default_heads_fail_at_load(tmp_path, models_cache):
    from earful_nlp.classifier import MentionClassifier

    with pytest.raises(ModelLoadError, match="not an earful model directory"):
        MentionClassifier.load(NlpSettings(default_model=tmp_path), models_cache)
