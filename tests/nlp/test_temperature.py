"""Temperature scaling: fitted from data, folded into a head's last layer without changing its labels."""

from __future__ import annotations

import csv
import pathlib
import shutil

import numpy as np
import pytest
import torch

from earful_nlp.calibration import (
    MAX_LANGUAGE_FACTOR,
    apply_language_temperatures,
    fit_temperature,
    language_temperatures,
    tempered,
    top_label_ece,
)
from earful_nlp.labels import SENTIMENT_LABELS
from earful_nlp.modeling import make_head
from earful_nlp.training import fold_temperature


def test_fitted_temperature_undoes_overconfidence() -> None:
    rng = np.random.default_rng(3)
    true_logits = rng.normal(0, 1.5, size=(4000, 3))
    gold = np.array([rng.choice(3, p=p) for p in tempered(true_logits, 1.0)])
    overconfident = true_logits * 2.5  # what a model that is too sure of itself outputs
    temperature = fit_temperature(overconfident, gold)
    assert 2.2 < temperature < 2.8
    assert top_label_ece(tempered(overconfident, temperature), gold) < top_label_ece(tempered(overconfident, 1.0), gold)


def test_folded_temperature_divides_the_logits_and_keeps_every_label() -> None:
    torch.manual_seed(0)
    for spec in ({"labels": ["a", "b", "c"], "hidden": 16, "kind": "mlp"}, {"labels": ["a", "b"], "kind": "linear"}):
        head = make_head(spec, 8).eval()
        x = torch.randn(50, 8)
        with torch.no_grad():
            before = head(x)
            fold_temperature(head, 2.0)
            after = head(x)
        assert torch.allclose(after, before / 2.0, atol=1e-5)
        assert torch.equal(after.argmax(1), before.argmax(1))


def _sampled(rng: np.random.Generator, rows: int, sharpness: float) -> tuple[np.ndarray, np.ndarray]:
    """Logits of a model ``sharpness`` times too sure of itself, and gold drawn from the true probabilities."""
    true_logits = rng.normal(0, 1.5, size=(rows, 3))
    gold = np.array([rng.choice(3, p=p) for p in tempered(true_logits, 1.0)])
    return true_logits * sharpness, gold


def test_a_language_left_miscalibrated_by_the_global_temperature_gets_its_own_factor() -> None:
    rng = np.random.default_rng(5)
    calibrated, gold_a = _sampled(rng, 1500, 1.0)
    overconfident, gold_b = _sampled(rng, 1500, 3.0)
    log_probs = np.vstack([calibrated, overconfident])
    gold = np.concatenate([gold_a, gold_b])
    langs = ["sv"] * 1500 + ["fa"] * 1500
    halves = rng.permutation(len(gold)) % 2 == 0
    factors, evidence = language_temperatures(log_probs, gold, langs, halves)
    assert set(factors) == {"fa"}  # sv is already calibrated: no factor fitted to noise
    assert 2.5 < factors["fa"] < 3.5
    assert evidence["fa"]["own"] < evidence["fa"]["global"]


def test_too_few_rows_of_a_language_get_no_factor() -> None:
    rng = np.random.default_rng(6)
    overconfident, gold = _sampled(rng, 100, 3.0)
    factors, evidence = language_temperatures(overconfident, gold, ["hi"] * 100, np.arange(100) % 2 == 0)
    assert factors == {} and evidence == {}


def test_language_factors_change_only_their_language_and_never_the_label() -> None:
    rng = np.random.default_rng(7)
    probs = tempered(rng.normal(0, 2.0, size=(40, 3)), 1.0)
    langs = ["de", "fa"] * 20
    out = apply_language_temperatures(probs, langs, {"fa": 2.0})
    fa = np.array(langs) == "fa"
    np.testing.assert_allclose(out[~fa], probs[~fa])
    assert (out[fa].max(1) < probs[fa].max(1)).all()  # softer, as a factor above 1 should make it
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-6)
    assert (out.argmax(1) == probs.argmax(1)).all()


def _tiny_validation_data(root: pathlib.Path) -> pathlib.Path:
    """The four validation files the calibrate stage reads, with a few rows each (labels from plain words)."""
    words = {"positive": "great, love it", "neutral": "it arrived on tuesday", "negative": "awful, broken again"}
    files = [
        "sentiment/xlmt_val.csv",
        "sentiment/absabank_imm_sv_dev.csv",
        "sentiment/germeval2017_de_dev.csv",
        "sentiment/sentipers_fa_train.csv",
    ]
    for number, name in enumerate(files):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "lang"])
            for i in range(30):
                label = SENTIMENT_LABELS[(i + number) % 3]
                writer.writerow([f"{words[label]} #{i}", label, "en"])
    return root


def test_rerunning_the_calibrate_stage_does_not_temper_twice(models_cache, tmp_path) -> None:
    from safetensors.torch import load_file

    from earful_nlp import model_store
    from earful_nlp.default_recipe import RecipeOptions, calibrate_sentiment_stage

    data_dir = _tiny_validation_data(tmp_path / "data")
    out = tmp_path / "model"
    shutil.copytree(model_store.DEFAULT_MODEL_DIR, out)
    options = RecipeOptions(max_rows=60, bf16=False)
    first = calibrate_sentiment_stage(data_dir, models_cache, out, options, report=lambda _: None)
    head_after_first = load_file(str(out / model_store.WEIGHTS_FILE))
    second = calibrate_sentiment_stage(data_dir, models_cache, out, options, report=lambda _: None)
    # The same fit from the same untempered head (up to float rounding of undoing and redoing the fold).
    assert second["temperature"] == pytest.approx(first["temperature"], abs=1e-3)
    assert second["ece_cross_fitted"]["before"] == pytest.approx(first["ece_cross_fitted"]["before"], abs=1e-3)
    assert model_store.read_delta_config(out).heads["sentiment"]["temperature"] == first["temperature"]
    head_after_second = load_file(str(out / model_store.WEIGHTS_FILE))
    for key, tensor in head_after_first.items():  # the head is not T times smaller the second time
        assert torch.allclose(head_after_second[key].float(), tensor.float(), rtol=1e-3, atol=1e-6), key


def test_a_language_the_model_gets_at_chance_is_not_flattened_completely() -> None:
    rng = np.random.default_rng(8)
    logits = rng.normal(0, 3.0, size=(600, 3))
    gold = rng.integers(0, 3, size=600)  # labels unrelated to the model's output, as in xlmt's Hindi
    factors, _ = language_temperatures(logits, gold, ["hi"] * 600, np.arange(600) % 2 == 0)
    assert factors == {"hi": MAX_LANGUAGE_FACTOR}


def test_no_factor_for_a_language_when_it_would_suit_one_of_its_files_and_hurt_another() -> None:
    rng = np.random.default_rng(9)
    news, gold_news = _sampled(rng, 1500, 3.0)  # one file of the language over-confident
    tweets, gold_tweets = _sampled(rng, 600, 0.6)  # the other under-confident
    log_probs = np.vstack([news, tweets])
    gold = np.concatenate([gold_news, gold_tweets])
    sources = ["germeval"] * 1500 + ["xlmt"] * 600
    halves = rng.permutation(len(gold)) % 2 == 0
    factors, evidence = language_temperatures(log_probs, gold, ["de"] * len(gold), halves, sources)
    assert factors == {}
    assert evidence["de"]["by_source"]["xlmt"]["own"] > evidence["de"]["by_source"]["xlmt"]["global"]
    alone, _ = language_temperatures(news, gold_news, ["de"] * 1500, halves[:1500], ["germeval"] * 1500)
    assert "de" in alone  # the same file on its own does get one
