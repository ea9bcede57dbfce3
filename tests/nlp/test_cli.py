"""The eval command prints per-language figures and writes JSON with macro_f1 and per_language."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

ROWS = [
    ("I love this phone, best purchase ever", "positive", "en"),
    ("Worst service I have ever had, never again", "negative", "en"),
    ("The shop opens at nine tomorrow", "neutral", "en"),
    ("Ich bin total zufrieden mit der Lieferung", "positive", "de"),
    ("Der Zug ist schon wieder ausgefallen, so ärgerlich", "negative", "de"),
    ("Die Filiale ist am Montag geschlossen", "neutral", "de"),
]


def test_eval_writes_json(tmp_path, models_cache):
    from earful_nlp.cli import app

    data = tmp_path / "mini.csv"
    with open(data, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "lang"])
        writer.writerows(ROWS)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["eval", "--task", "sentiment", str(data), "--json", str(out), "--cache-dir", str(models_cache)]
    )
    assert result.exit_code == 0, result.output
    assert "confusion matrix" in result.output and "overall" in result.output
    report = json.loads(out.read_text())
    assert 0.0 <= report["macro_f1"] <= 1.0
    assert set(report["per_language"]) == {"de", "en"}
    assert report["per_language"]["de"]["rows"] == 3


def test_eval_reports_bad_labels_clearly(tmp_path, models_cache):
    from earful_nlp.cli import app

    data = tmp_path / "bad.csv"
    data.write_text("text,label\nhello,maybe\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--task", "sentiment", str(data), "--cache-dir", str(models_cache)])
    assert result.exit_code == 2
    assert "maybe" in result.output


def test_train_default_without_the_data_folder_says_which_file_is_missing(tmp_path):
    from earful_nlp.cli import app

    result = CliRunner().invoke(app, ["train-default", "--data-dir", str(tmp_path), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "sentiment/xlmt_val.csv" in lines[0] and "Traceback" not in result.output


def test_train_default_refuses_an_unknown_stage(tmp_path):
    from earful_nlp.cli import app

    result = CliRunner().invoke(app, ["train-default", "--data-dir", str(tmp_path), "--stage", "everything"])
    assert result.exit_code == 2 and "--stage" in result.output


def test_train_default_refuses_to_average_fully_tuned_runs(tmp_path):
    from earful_nlp.cli import app

    args = ["train-default", "--data-dir", str(tmp_path), "--runs", "2", "--tuning", "full"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--runs" in result.output and "Traceback" not in result.output


def test_train_default_fits_its_passes_to_the_precision(tmp_path):
    """Without bf16 instructions the recipe trains in fp32, about 4x slower per step: one pass keeps it within
    the 75-minute budget (bench/train_budget.py); an explicit --passes wins."""
    from earful_nlp.cli import app

    def first_line(*extra: str) -> str:
        args = ["train-default", "--data-dir", str(tmp_path), "--out", str(tmp_path / "m"), *extra]
        return CliRunner().invoke(app, args).output.splitlines()[0]

    assert first_line("--bf16", "off") == "1 pass(es) over the sentiment mixture, fp32"
    assert first_line("--bf16", "on") == "3 pass(es) over the sentiment mixture, bf16"
    assert first_line("--bf16", "off", "--passes", "2") == "2 pass(es) over the sentiment mixture, fp32"
