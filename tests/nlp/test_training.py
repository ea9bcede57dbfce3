"""Training on a tiny CSV of our own sentences, saving the delta, exporting a full Hugging Face directory."""

from __future__ import annotations

import csv
import pathlib

import pytest
from typer.testing import CliRunner

POSITIVE = ["I love this shop", "Great service, thank you", "Fantastic delivery, very fast", "Super happy with it",
            "Best purchase this year", "Wonderful staff and quick help"]
NEGATIVE = ["My parcel never arrived", "Terrible support, nobody answers", "The product broke after a day",
            "Worst experience ever", "They charged me twice", "Still waiting for my refund"]


@pytest.fixture(scope="module")
def tiny_csv(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("data") / "tiny.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "lang"])
        writer.writerows([(t, "positive", "en") for t in POSITIVE] + [(t, "negative", "en") for t in NEGATIVE])
        writer.writerows([("The shop opens at nine", "neutral", "en"), ("It is a phone", "neutral", "en")])
    return path


def test_train_tuned_layer_then_add_head_then_export(tiny_csv, tmp_path, models_cache):
    from nlp.cli import app
    from nlp.classifier import MentionClassifier
    from nlp.config import NlpSettings

    out = tmp_path / "model"
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--task", "sentiment", str(tiny_csv), "--tune-layers", "1", "--epochs", "1",
                                 "--out", str(out), "--cache-dir", str(models_cache)])
    assert result.exit_code == 0, result.output
    complaints = tmp_path / "complaints.csv"
    with open(complaints, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows([(t, "complaint") for t in NEGATIVE] + [(t, "not_complaint") for t in POSITIVE])
    result = runner.invoke(app, ["train", "--task", "complaint", str(complaints), "--base", str(out), "--out", str(out),
                                 "--cache-dir", str(models_cache)])
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").stat().st_size < 20_000_000
    classifier = MentionClassifier.load(NlpSettings(default_model=out), models_cache)
    [result_row] = classifier.classify(["Nobody answers and my refund is missing"], ["en"])
    assert result_row["complaint_probability"] > 0.5

    from transformers import AutoModel

    from nlp import model_store
    from nlp.modeling import register_auto_classes

    encoder, tokenizer = model_store.load_encoder(models_cache, show_progress=False)
    full = tmp_path / "full"
    model_store.export_full(model_store.load_delta(out, encoder), tokenizer, full)
    register_auto_classes()
    reloaded = AutoModel.from_pretrained(str(full))
    assert set(reloaded.heads) == {"sentiment", "complaint"}
