"""What ``earful train`` and ``earful eval`` do, independent of the command line."""

from __future__ import annotations

import contextlib
import pathlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from earful_nlp.datasets import LabeledData, read_labeled_csvs
from earful_nlp.errors import TrainingDataError
from earful_nlp.labels import COMPLAINT, TASK_LABELS
from earful_nlp.training import TrainOptions, build_frozen_cache, labels_to_ids, predict_proba, tokenize, train_task

if TYPE_CHECKING:
    from torch import nn
    from transformers import PreTrainedTokenizerBase

    from earful_nlp.modeling import EarfulMultiHeadModel
    from earful_nlp.training import FrozenCache

Report = Callable[[str], None]


def train(
    data: LabeledData,
    options: TrainOptions,
    cache_dir: pathlib.Path,
    base: pathlib.Path | None,
    out: pathlib.Path,
    report: Report = print,
    features_dir: pathlib.Path | None = None,
    show_progress: bool = False,
) -> dict:
    """Train ``options.task`` on ``data`` and write the delta model to ``out``; return training facts.

    ``features_dir`` keeps the frozen-layer outputs on disk so that re-runs on the same data skip them.

    With ``tuned_layers == 0`` the new head is added to ``base`` (whose encoder and other heads are kept);
    with ``tuned_layers > 0`` or ``lora_rank > 0`` the encoder is re-tuned from the original, so heads of
    ``base`` (trained on other features) cannot be kept.
    """
    from earful_nlp import model_store

    started = time.monotonic()
    encoder, tokenizer = model_store.load_encoder(cache_dir)
    base_model = None
    retunes_encoder = options.tuned_layers > 0 or options.lora_rank > 0
    if base is not None and not retunes_encoder:
        base_model = model_store.load_delta(base, encoder)
    elif base is not None:
        report(f"the encoder is re-tuned (--tune-layers/--lora-rank), so no head of {base} is kept")
    heads = dict(base_model.config.heads) if base_model is not None else {}
    heads[options.task] = options.head_spec(TASK_LABELS[options.task])
    tuned_total = base_model.config.tuned_layers if base_model is not None else options.tuned_layers
    model = model_store.new_model(encoder, heads, tuned_total, options.max_length)
    if base_model is not None:
        for task, head in base_model.heads.items():
            if task != options.task:
                model.heads[task].load_state_dict(head.state_dict())
        if base_model.config.lora:  # already merged into the shared encoder; kept so the delta keeps them
            model.config.lora, model.lora_factors = base_model.config.lora, base_model.lora_factors
    model.heads[options.task] = _fresh_head(model, options)
    ids = tokenize(tokenizer, data.texts, model.config.text_prefix, options.max_length)
    cache = None if options.lora_rank else _frozen_cache(model, ids, options, features_dir, report)
    # A linear head is one scikit-learn fit, not epochs of batches: nothing to draw.
    with epoch_progress(show_progress and options.head_kind != "linear", len(ids)) as on_batch:
        stats = train_task(
            model,
            cache,
            labels_to_ids(data, TASK_LABELS[options.task]),
            options,
            on_epoch=lambda epoch, loss: report(f"epoch {epoch}: loss {loss:.4f} ({time.monotonic() - started:.0f}s)"),
            token_ids=ids,
            on_batch=on_batch,
        )
    model.config.version = time.strftime("%Y%m%d")
    model_store.save_delta(model, out)
    return {"seconds_total": round(time.monotonic() - started, 1), **stats}


@contextlib.contextmanager
def epoch_progress(enabled: bool, examples: int) -> Iterator[Callable[[int, int, int], None] | None]:
    """Yield ``on_batch(epoch, epochs, done)`` drawing one rich progress bar over all epochs, or None."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(
        TextColumn("training {task.description}"), BarColumn(), TimeElapsedColumn(), TimeRemainingColumn()
    ) as progress:
        task = progress.add_task("", total=None)

        def on_batch(epoch: int, epochs: int, done: int) -> None:
            progress.update(task, total=examples * epochs, description=f"epoch {epoch}/{epochs}", advance=done)

        yield on_batch


def _frozen_cache(
    model: EarfulMultiHeadModel,
    ids: list[list[int]],
    options: TrainOptions,
    features_dir: pathlib.Path | None,
    report: Report,
) -> FrozenCache:
    """Frozen-layer outputs for ``ids``: loaded from ``features_dir`` when computed before, else computed."""
    import hashlib

    import torch

    tuned_layers = options.tuned_layers
    layers = options.head_spec(())["layers"]
    key = hashlib.sha256(repr((ids, tuned_layers, model.config.encoder_sha256, layers)).encode()).hexdigest()[:16]
    path = pathlib.Path(features_dir) / f"frozen-{key}.pt" if features_dir else None
    if path is not None and path.is_file():
        report(f"using cached frozen-layer outputs {path}")
        return torch.load(path, weights_only=False)
    report(f"running the frozen encoder layers over {len(ids)} texts ...")
    started = time.monotonic()
    cache = build_frozen_cache(model, ids, tuned_layers, layers=layers)
    report(f"done in {time.monotonic() - started:.0f}s")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(cache, path)
    return cache


def cross_validate_head(
    data: LabeledData,
    options: TrainOptions,
    cache_dir: pathlib.Path,
    base: pathlib.Path | None,
    folds: int,
    report: Report = print,
) -> dict:
    """k-fold cross-validated predictions of a head trained on frozen features (``tuned_layers`` 0)."""
    import torch
    from sklearn.model_selection import StratifiedKFold

    from earful_nlp import model_store
    from earful_nlp.evaluation import evaluate

    if options.tuned_layers or options.lora_rank:
        raise TrainingDataError("cross-validation trains heads only: use --tune-layers 0 and --lora-rank 0")
    encoder, tokenizer = model_store.load_encoder(cache_dir)
    model = model_store.load_delta(base, encoder) if base else model_store.new_model(encoder, {}, 0, options.max_length)
    model.heads[options.task] = _fresh_head(model, options)
    ids = tokenize(tokenizer, data.texts, model.config.text_prefix, options.max_length)
    cache = build_frozen_cache(model, ids, 0, layers=options.head_spec(())["layers"])
    labels = TASK_LABELS[options.task]
    y = np.array(labels_to_ids(data, labels))
    predicted = np.zeros(len(y), dtype=int)
    for fold, (train_idx, test_idx) in enumerate(
        StratifiedKFold(folds, shuffle=True, random_state=options.seed).split(np.zeros(len(y)), y)
    ):
        model.heads[options.task] = _fresh_head(model, options)
        sub = type(cache)(hidden=[], pooled=cache.pooled[train_idx])
        train_task(model, sub, y[train_idx].tolist(), options)
        with torch.inference_mode():
            probs = torch.softmax(model.heads[options.task](cache.pooled[test_idx]), -1).numpy()
        predicted[test_idx] = probs.argmax(1)
        report(f"fold {fold + 1}/{folds} done")
    return evaluate([labels[i] for i in y], [labels[i] for i in predicted], data.langs, labels)


def _fresh_head(model: EarfulMultiHeadModel, options: TrainOptions) -> nn.Module:
    import torch

    from earful_nlp.modeling import make_head

    torch.manual_seed(options.seed)
    spec = options.head_spec(TASK_LABELS[options.task])
    model.config.heads[options.task] = spec
    return make_head(spec, model.encoder.config.hidden_size)


def predict_labels(
    model: EarfulMultiHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    task: str,
    texts: list[str],
    threshold: float | None = None,
) -> list[str]:
    """Predicted label names of ``task`` for ``texts`` with an earful model."""
    ids = tokenize(tokenizer, texts, model.config.text_prefix, model.config.max_tokens)
    probs = predict_proba(model, ids)[task]
    labels = model.config.heads[task]["labels"]
    if task == COMPLAINT and threshold is not None:
        return [labels[1] if p[1] >= threshold else labels[0] for p in probs]
    return [labels[i] for i in probs.argmax(1)]


def load_data(task: str, paths: list[pathlib.Path]) -> LabeledData:
    """Labeled rows of ``paths`` checked against ``task``'s label set."""
    return read_labeled_csvs(paths, TASK_LABELS[task])
