"""The default model's training mixture and loss: binary rows, per-pass slices, duplicates, weights."""

from __future__ import annotations

import csv
import pathlib

import pytest
import torch

from earful_nlp.training import RowTreatment, _row_loss
from earful_nlp.training_mix import MixSource, draw_mixture

COLUMNS = ["text", "label", "lang", "variety", "label_set", "source", "orig_label"]


def _write(path: pathlib.Path, rows: list[tuple[str, str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for text, label, lang in rows:
            writer.writerow([text, label, lang, "", "3class", "test", label])


@pytest.fixture
def data_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    _write(
        tmp_path / "sentiment/core.csv",
        [(f"core post number {i}", ("negative", "neutral", "positive")[i % 3], "de") for i in range(30)],
    )
    binary = [
        (f"binary post {lang} {i}", ("negative", "positive")[i % 2], lang) for lang in ("sv", "es") for i in range(40)
    ]
    # The same tweet as a core row, written differently (case, a link, a handle): kept once.
    binary.append(("CORE post number 4 https://t.co/x @someone", "positive", "sv"))
    _write(tmp_path / "sentiment/extra/binary.csv", binary)
    return tmp_path


SOURCES = (
    MixSource("sentiment/core.csv"),
    MixSource("sentiment/extra/binary.csv", per_pass=10, weight=0.5, binary=True, drop_langs=("es",), by_language=True),
)


def test_binary_rows_are_marked_weighted_and_left_out_languages_dropped(data_dir: pathlib.Path) -> None:
    mix = draw_mixture(data_dir, passes=1, seed=13, sources=SOURCES)
    assert mix.counts() == {"core": 30, "binary": 10}
    for lang, weight, binary in zip(mix.data.langs, mix.weights, mix.binary, strict=True):
        assert (lang == "sv") == binary
        assert weight == (0.5 if binary else 1.0)
    assert "es" not in mix.data.langs


def test_each_pass_draws_fresh_rows_of_a_large_file(data_dir: pathlib.Path) -> None:
    mix = draw_mixture(data_dir, passes=3, seed=13, sources=SOURCES)
    binary = [t for t, b in zip(mix.data.texts, mix.binary, strict=True) if b]
    assert len(binary) == 30 and len(set(binary)) == 30  # three slices of 10 out of 40, no repeats
    assert mix.counts()["core"] == 90  # every core row in every pass
    assert draw_mixture(data_dir, passes=3, seed=13, sources=SOURCES).data == mix.data  # seeded


def test_the_same_tweet_in_two_files_is_kept_once(data_dir: pathlib.Path) -> None:
    mix = draw_mixture(data_dir, passes=4, seed=13, sources=SOURCES)
    assert not any(t.startswith("CORE post number 4") for t in mix.data.texts)


def test_binary_row_loss_says_nothing_about_neutral_and_zero_weight_rows_count_nothing() -> None:
    rows = RowTreatment(weights=[1.0, 0.0, 1.0], binary=[True, False, False], masked_label=1)
    loss_fn = _row_loss(rows)
    logits = torch.tensor([[0.2, 3.0, 0.1], [5.0, 0.0, 0.0], [0.0, 0.0, 1.0]], requires_grad=True)
    gold = torch.tensor([2, 1, 2])
    loss = loss_fn(logits, gold, [0, 1, 2])
    loss.backward()
    assert logits.grad[0, 1] == 0  # the neutral logit of a binary row gets no gradient
    assert torch.all(logits.grad[1] == 0)  # a row of weight 0 teaches nothing
    plain = torch.nn.functional.cross_entropy(
        logits.detach()[[0, 2]][:, [0, 2]], torch.tensor([1, 1]), reduction="none"
    )
    expected = (plain[0] + torch.nn.functional.cross_entropy(logits.detach()[2:], gold[2:])) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
