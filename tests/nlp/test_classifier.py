"""MentionClassifier on the bundled default model: result shape, no-label cases, truncation, hostile text."""

from __future__ import annotations

import math

import pytest

KEYS = {"sentiment", "sentiment_scores", "complaint", "complaint_probability", "model", "model_version"}


def test_result_shape(classifier):
    [result] = classifier.classify(["The delivery was late again and support never answered."], ["en"])
    assert set(result) == KEYS
    assert result["sentiment"] in ("negative", "neutral", "positive")
    assert set(result["sentiment_scores"]) == {"negative", "neutral", "positive"}
    assert math.isclose(sum(result["sentiment_scores"].values()), 1.0, abs_tol=1e-3)
    assert isinstance(result["complaint"], bool) and 0.0 <= result["complaint_probability"] <= 1.0
    assert result["model"] and result["model_version"]


@pytest.mark.parametrize(
    ("text", "lang"), [("", "en"), ("   \n\t ", "de"), ("ok", "und"), ("👍👍", "und"), ("\u200b\u200c", "und")]
)
def test_empty_or_undetermined_text_gets_no_label(classifier, text, lang):
    assert classifier.classify([text], [lang]) == [None]


def test_undetermined_language_with_enough_text_is_labeled(classifier):
    [result] = classifier.classify(["this parcel never arrived and nobody cares at all"], ["und"])
    assert result is not None


def test_huge_post_is_truncated_predictably(classifier):
    head = "Terrible service, my order was cancelled twice and nobody called back. " * 40
    huge = head + "Actually everything is wonderful and I love it! " * 20000
    [cut, whole] = classifier.classify([head, huge], ["en", "en"])
    assert whole == cut  # only the first max_length tokens count


def test_hostile_text_does_not_crash(classifier):
    hostile = [
        "<script>alert('x')</script><b>bold</b> &amp; &#x202e; <img src=x onerror=alert(1)>",
        "\u202eRTL override\u202c mixed עברית and العربية text \u200f\u200e",
        "control \x00\x01\x07 chars and \ufeff BOM and \ud800 lone surrogate",
        "Z̴̡̢̛a̷̢̛l̸̡g̶̛o̵ ̷t̶e̸x̵t̴ " * 30,
        "🙂" * 3000,
        "a" * 100000,
        "کیفیت\u200cمحصول\u200cپایین\u200cبود " * 100,
    ]
    results = classifier.classify(hostile, ["en", "ar", "en", "en", "en", "en", "fa"])
    assert len(results) == len(hostile)
    assert all(r is None or set(r) == KEYS for r in results)


def test_batch_results_keep_input_order(classifier):
    """Batch-mates change int8 activation scales slightly, never which post a result belongs to."""
    texts = ["short one", "a much longer post about a parcel that never arrived " * 5, "", "mittellang, aber ok"]
    batch = classifier.classify(texts, ["en", "en", "en", "de"])
    single = [classifier.classify([t], [lang])[0] for t, lang in zip(texts, ["en", "en", "en", "de"], strict=True)]
    for a, b in zip(batch, single, strict=True):
        if a is None:
            assert b is None
        else:
            for label, p in a["sentiment_scores"].items():
                assert p == pytest.approx(b["sentiment_scores"][label], abs=0.02)
            assert a["complaint_probability"] == pytest.approx(b["complaint_probability"], abs=0.02)


def test_bf16_autocast_gives_the_fp32_labels(models_cache):
    """bfloat16 (on by default where the CPU has bf16 instructions) changes probabilities by about 0.01 at most."""
    from earful_nlp.classifier import MentionClassifier
    from earful_nlp.config import NlpSettings

    texts = [
        "Mein Paket ist seit drei Wochen verschwunden und niemand antwortet. Unmöglich!",
        "Ottimo servizio, consegna puntuale. Grazie!",
        "Is Acme down for anyone else?",
        "از خریدم خیلی راضی‌ام، ممنون از ارسال سریع.",
    ]
    langs = ["de", "it", "en", "fa"]
    fp32 = MentionClassifier.load(NlpSettings(bf16="off"), models_cache)
    bf16 = MentionClassifier.load(NlpSettings(bf16="on"), models_cache)
    assert (fp32.bf16, bf16.bf16) == (False, True)
    for a, b in zip(fp32.classify(texts, langs), bf16.classify(texts, langs), strict=True):
        assert a["sentiment"] == b["sentiment"] and a["complaint"] == b["complaint"]
        assert a["complaint_probability"] == pytest.approx(b["complaint_probability"], abs=0.03)
        for label, p in a["sentiment_scores"].items():
            assert p == pytest.approx(b["sentiment_scores"][label], abs=0.03)


def test_per_language_calibration_softens_only_that_language(classifier, monkeypatch):
    spec = classifier.default_model.config.heads["sentiment"]
    monkeypatch.setitem(spec, "temperature_by_language", {"fa": 3.0})
    text = "Absolutely love the new jacket, best purchase this year!"
    as_fa, as_de = classifier.classify([text, text], ["fa", "de"])
    assert as_fa["sentiment"] == as_de["sentiment"]
    assert as_fa["sentiment_scores"][as_fa["sentiment"]] < as_de["sentiment_scores"][as_de["sentiment"]]
