"""Training on a tiny CSV of our own sentences, saving the delta, exporting a full Hugging Face directory."""

from __future__ import annotations

import csv
import pathlib

import pytest
from typer.testing import CliRunner

POSITIVE = [
    "I love this shop",
    "Great service, thank you",
    "Fantastic delivery, very fast",
    "Super happy with it",
    "Best purchase this year",
    "Wonderful staff and quick help",
]
NEGATIVE = [
    "My parcel never arrived",
    "Terrible support, nobody answers",
    "The product broke after a day",
    "Worst experience ever",
    "They charged me twice",
    "Still waiting for my refund",
]


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("data") / "tiny.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "lang"])
        writer.writerows([(t, "positive", "en") for t in POSITIVE] + [(t, "negative", "en") for t in NEGATIVE])
        writer.writerows([("The shop opens at nine", "neutral", "en"), ("It is a phone", "neutral", "en")])
    return path


@pytest.fixture(scope="module")
def complaints_csv(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("data") / "complaints.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([(t, "complaint") for t in NEGATIVE] + [(t, "not_complaint") for t in POSITIVE])
    return path


def test_train_tuned_layer_then_add_head_then_export(tiny_csv, complaints_csv, tmp_path, models_cache):
    from earful_nlp.classifier import MentionClassifier
    from earful_nlp.cli import app
    from earful_nlp.config import NlpSettings

    out = tmp_path / "model"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "train",
            "--task",
            "sentiment",
            str(tiny_csv),
            "--tune-layers",
            "1",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app,
        [
            "train",
            "--task",
            "complaint",
            str(complaints_csv),
            "--base",
            str(out),
            "--out",
            str(out),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").stat().st_size < 20_000_000
    classifier = MentionClassifier.load(NlpSettings(default_model=out), models_cache)
    [result_row] = classifier.classify(["Nobody answers and my refund is missing"], ["en"])
    assert result_row["complaint_probability"] > 0.5

    from transformers import AutoModel

    from earful_nlp import model_store
    from earful_nlp.modeling import register_auto_classes

    encoder, tokenizer = model_store.load_encoder(models_cache, show_progress=False)
    full = tmp_path / "full"
    model_store.export_full(model_store.load_delta(out, encoder), tokenizer, full)
    register_auto_classes()
    reloaded = AutoModel.from_pretrained(str(full))
    assert set(reloaded.heads) == {"sentiment", "complaint"}


def test_lora_adapters_train_save_small_reload_and_export(tiny_csv, complaints_csv, tmp_path, models_cache):
    """LoRA factors over all layers: the delta stays small, a complaint head can be added on top, and the reloaded
    model (factors merged at load) gives the probabilities the trained model gave."""
    import torch
    from transformers import AutoModel

    from earful_nlp import model_store
    from earful_nlp.cli import app
    from earful_nlp.modeling import register_auto_classes
    from earful_nlp.training import predict_proba, tokenize

    out = tmp_path / "lora"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "train",
            "--task",
            "sentiment",
            str(tiny_csv),
            "--lora-rank",
            "4",
            "--epochs",
            "1",
            "--encoder-lr",
            "5e-3",
            "--out",
            str(out),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 0, result.output
    weights = out / "model.safetensors"
    assert weights.stat().st_size < 2_000_000  # 72 factor pairs of rank 4 + the head, no encoder layer
    result = runner.invoke(
        app,
        [
            "train",
            "--task",
            "complaint",
            str(complaints_csv),
            "--base",
            str(out),
            "--out",
            str(out),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 0, result.output

    encoder, tokenizer = model_store.load_encoder(models_cache, show_progress=False)
    plain = model_store.new_model(encoder, {}, 0, 128).encoder.encoder.layer[0].attention.self.query.weight.clone()
    model = model_store.load_delta(out, encoder)
    assert model.config.lora["rank"] == 4 and len(model.lora_factors) == 2 * 12 * 6
    assert not torch.equal(model.encoder.encoder.layer[0].attention.self.query.weight, plain)  # merged
    texts = ["Nobody answers and my refund is missing", "I love this shop"]
    probs = predict_proba(model, tokenize(tokenizer, texts, model.config.text_prefix, 128))

    full = tmp_path / "full"
    model_store.export_full(model, tokenizer, full)
    register_auto_classes()
    reloaded = AutoModel.from_pretrained(str(full)).eval()
    again = predict_proba(reloaded, tokenize(tokenizer, texts, reloaded.config.text_prefix, 128))
    for task in ("sentiment", "complaint"):
        assert again[task] == pytest.approx(probs[task], abs=1e-5)


def test_lora_delta_without_its_config_entry_is_refused(tiny_csv, tmp_path, models_cache):
    import json

    from earful_nlp import model_store
    from earful_nlp.cli import app
    from earful_nlp.errors import ModelLoadError

    out = tmp_path / "lora"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--task",
            "sentiment",
            str(tiny_csv),
            "--lora-rank",
            "2",
            "--epochs",
            "1",
            "--out",
            str(out),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    config["lora"] = {}
    (out / "config.json").write_text(json.dumps(config))
    encoder, _ = model_store.load_encoder(models_cache, show_progress=False)
    with pytest.raises(ModelLoadError, match="LoRA"):
        model_store.load_delta(out, encoder)


def test_tuned_layers_and_lora_together_are_refused(tiny_csv, tmp_path, models_cache):
    from earful_nlp.cli import app

    result = CliRunner().invoke(
        app,
        [
            "train",
            "--task",
            "sentiment",
            str(tiny_csv),
            "--lora-rank",
            "2",
            "--tune-layers",
            "1",
            "--out",
            str(tmp_path / "m"),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 2 and "not both" in result.output
    assert not (tmp_path / "m").exists()


def test_lora_training_in_bf16_without_adapter_dropout_is_recorded(tiny_csv, tmp_path, models_cache):
    """The fast training settings (bf16 autocast, no adapter dropout) train a loadable model and are written down."""
    import json

    from earful_nlp import model_store
    from earful_nlp.cli import app

    out, facts = tmp_path / "fast", tmp_path / "facts.json"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--task",
            "sentiment",
            str(tiny_csv),
            "--lora-rank",
            "2",
            "--epochs",
            "1",
            "--bf16",
            "on",
            "--lora-dropout",
            "0",
            "--json",
            str(facts),
            "--out",
            str(out),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 0, result.output
    options = json.loads(facts.read_text())["options"]
    assert options["bf16"] is True and options["lora_dropout"] == 0
    encoder, _ = model_store.load_encoder(models_cache, show_progress=False)
    assert model_store.load_delta(out, encoder).config.lora["rank"] == 2


@pytest.mark.parametrize("option", [["--bf16", "sometimes"], ["--lora-dropout", "1.5"]])
def test_invalid_training_settings_are_refused(option, tiny_csv, tmp_path, models_cache):
    from earful_nlp.cli import app

    result = CliRunner().invoke(
        app,
        [
            "train",
            "--task",
            "sentiment",
            str(tiny_csv),
            "--lora-rank",
            "2",
            *option,
            "--out",
            str(tmp_path / "m"),
            "--cache-dir",
            str(models_cache),
        ],
    )
    assert result.exit_code == 2 and option[0] in result.output
    assert not (tmp_path / "m").exists()
