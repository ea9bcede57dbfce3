"""Training of earful's heads (and optionally the top encoder layers) on labeled CSV data.

Speed on a small CPU comes from caching: the frozen lower part of the encoder runs once over the data
(in length-sorted batches), and the epochs then only run the tuned top layers and the heads. With
``tuned_layers = 0`` only pooled vectors are cached and a head trains in seconds. With ``lora_rank`` the
whole encoder runs in every step (its adapters sit in every layer), so nothing is cached.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import torch
from torch import nn

from earful_nlp.datasets import LabeledData
from earful_nlp.modeling import EarfulMultiHeadModel, mean_pool, run_layers
from earful_nlp.runtime import compute_context
from earful_nlp.text_prep import prepare

if TYPE_CHECKING:
    from typing import TypeAlias

    from peft import PeftModel
    from transformers import PreTrainedTokenizerBase

    from earful_nlp.spm_ids import SentencePieceIds

    Tokenizer: TypeAlias = PreTrainedTokenizerBase | SentencePieceIds

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainOptions:
    """Hyper-parameters of one training run (recorded in the model directory)."""

    task: str
    tuned_layers: int = 0
    epochs: int = 3
    batch_size: int = 32
    encoder_lr: float = 1e-4
    head_lr: float = 1e-3
    head_epochs: int = 40
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    max_length: int = 128
    seed: int = 13
    head_hidden: int = 256
    head_kind: str = "mlp"  # "mlp" (trained with torch) or "linear" (logistic regression, frozen features only)
    pool_layers: int = 1  # the head reads the mean-pools of the last this-many layers, concatenated
    linear_c: float = 0.005  # inverse L2 strength of the logistic regression
    lora_rank: int = 0  # > 0: LoRA adapters of this rank on every encoder layer (nothing cached, see nlp.lora)
    lora_alpha: int = 32
    lora_dropout: float = 0.1  # dropout on each adapter's input (0 skips it: about a third faster)
    bf16: bool = False  # bfloat16 autocast for the forward pass (about 1.6x faster where the CPU has bf16)
    layer_lr_decay: float = 1.0  # all layers tuned: each layer's learning rate is this times the one above it

    def head_spec(self, labels: tuple[str, ...]) -> dict:
        """The config entry of the head these options train."""
        return {
            "labels": list(labels),
            "hidden": self.head_hidden,
            "kind": self.head_kind,
            "layers": list(range(-self.pool_layers, 0)),
        }


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch for a reproducible run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tokenize(tokenizer: PreTrainedTokenizerBase, texts: list[str], prefix: str, max_length: int) -> list[list[int]]:
    """Token ids (with specials) of each prepared text, cut to ``max_length``."""
    encoded = tokenizer([prefix + prepare(t, max_length) for t in texts], truncation=True, max_length=max_length)
    return encoded["input_ids"]


def _pad(batch_ids: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(ids) for ids in batch_ids)
    input_ids = torch.full((len(batch_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
    for row, ids in enumerate(batch_ids):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    return input_ids, mask


def length_batches(lengths: list[int], batch_size: int, rng: random.Random | None) -> list[list[int]]:
    """Batches of indices of similar length; shuffled (within pools of 50 batches, then as batches) if rng."""
    order = list(range(len(lengths)))
    if rng is None:
        order.sort(key=lambda i: lengths[i])
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    rng.shuffle(order)
    pool = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


@dataclasses.dataclass
class FrozenCache:
    """Outputs of the frozen part of the encoder for every example."""

    hidden: list[torch.Tensor]  # per example [length, size] input of the first tuned layer (empty if none tuned)
    pooled: torch.Tensor  # [n, size] pooled final output when nothing is tuned


def build_frozen_cache(
    model: EarfulMultiHeadModel,
    token_ids: list[list[int]],
    tuned_layers: int,
    batch_size: int = 64,
    progress: Callable[[int], None] | None = None,
    layers: list[int] | None = None,
) -> FrozenCache:
    """Run the frozen lower layers once over all examples and keep what training needs.

    With ``tuned_layers`` 0 the whole encoder runs and ``pooled`` holds the concatenated mean-pools of
    ``layers`` (default: the last one).
    """
    layers = layers or [-1]
    encoder = model.encoder
    split = encoder.config.num_hidden_layers - tuned_layers
    pad_id = encoder.config.pad_token_id
    hidden_out: list[torch.Tensor | None] = [None] * len(token_ids)
    pooled = torch.zeros((len(token_ids), encoder.config.hidden_size * len(layers)))
    encoder.eval()
    with torch.inference_mode():
        for batch in length_batches([len(t) for t in token_ids], batch_size, None):
            input_ids, mask = _pad([token_ids[i] for i in batch], pad_id)
            if tuned_layers:
                hidden = encoder.embeddings(input_ids=input_ids)
                hidden = run_layers(encoder.encoder.layer[:split], hidden, mask)
                for row, index in enumerate(batch):
                    hidden_out[index] = hidden[row, : len(token_ids[index])].clone()
            else:
                states = encoder(input_ids=input_ids, attention_mask=mask, output_hidden_states=True).hidden_states
                pooled[batch] = torch.cat([mean_pool(states[layer], mask) for layer in layers], dim=-1)
            if progress:
                progress(len(batch))
    return FrozenCache(hidden=hidden_out if tuned_layers else [], pooled=pooled)


def _pad_hidden(parts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(p.shape[0] for p in parts)
    hidden = torch.zeros((len(parts), width, parts[0].shape[1]))
    mask = torch.zeros((len(parts), width), dtype=torch.long)
    for row, part in enumerate(parts):
        hidden[row, : part.shape[0]] = part
        mask[row, : part.shape[0]] = 1
    return hidden, mask


def train_task(
    model: EarfulMultiHeadModel,
    cache: FrozenCache | None,
    labels: list[int],
    options: TrainOptions,
    on_epoch: Callable[[int, float], None] | None = None,
    token_ids: list[list[int]] | None = None,
    on_batch: Callable[[int, int, int], None] | None = None,
    rows: RowTreatment | None = None,
    before_merge: Callable[[], None] | None = None,
) -> dict:
    """Train ``options.task``'s head (and the top ``tuned_layers`` encoder layers, or LoRA adapters over the
    whole encoder from ``token_ids``) in place; return stats.

    ``rows`` weighs each example's loss and marks rows whose labels come from a binary scheme;
    ``before_merge`` runs once training ends, while LoRA adapters are still attached (for instance to load
    averaged checkpoints into them).
    """
    if options.tuned_layers and options.lora_rank:  # saved tuned layers would already hold the merged adapters
        raise ValueError("tune either the top layers or LoRA adapters, not both")
    set_seed(options.seed)
    head = model.heads[options.task]
    if options.head_kind == "linear":
        if options.tuned_layers or options.lora_rank:
            raise ValueError("a linear head is fitted on frozen features: tuned_layers and lora_rank must be 0")
        return fit_linear_head(head, _given(cache, "frozen features").pooled, labels, options)
    for param in model.parameters():
        param.requires_grad = False
    mode = _training_mode(model, cache, token_ids, len(labels), options)
    groups = [{"params": list(head.parameters()), "lr": options.head_lr}, *mode.groups]
    for group in groups:
        for param in group["params"]:
            param.requires_grad = True
    started = time.monotonic()
    epochs = _run_epochs(model, head, mode, groups, labels, options, on_epoch, on_batch, rows)
    model.eval()
    if before_merge is not None:
        before_merge()
    if mode.adapted is not None:
        _merge_adapters(model, mode.adapted, options)
    for param in model.parameters():
        param.requires_grad = False
    return {"epochs": epochs, "seconds": round(time.monotonic() - started, 1)}


@dataclasses.dataclass(frozen=True)
class RowTreatment:
    """Per-example loss weights, and which examples carry binary labels (no neutral class in their source).

    A binary row's "positive" only means "not negative": its loss masks the ``masked_label`` logit, so it
    teaches negative against positive and says nothing about the neutral class.
    """

    weights: list[float]
    binary: list[bool]
    masked_label: int = 1  # neutral in SENTIMENT_LABELS


@dataclasses.dataclass
class _Mode:
    """One way of training: what it trains besides the head, and how it pools a batch of examples."""

    lengths: list[int]  # per example, for batching by length
    pooled: Callable[[list[int]], torch.Tensor]  # indices of a batch -> the pooled features the head reads
    encoder_trains: bool
    groups: list[dict] = dataclasses.field(default_factory=list)  # optimizer groups besides the head's
    adapted: PeftModel | None = None  # the encoder wrapped with LoRA adapters


def _training_mode(
    model: EarfulMultiHeadModel,
    cache: FrozenCache | None,
    token_ids: list[list[int]] | None,
    examples: int,
    options: TrainOptions,
) -> _Mode:
    if options.lora_rank:
        return _lora_mode(model, _given(token_ids, "token ids"), options)
    if options.tuned_layers >= model.encoder.config.num_hidden_layers and cache is None:
        return _all_layers_mode(model, _given(token_ids, "token ids"), options)
    if options.tuned_layers:
        return _top_layers_mode(model, _given(cache, "frozen features"), options)
    frozen = _given(cache, "frozen features")
    return _Mode(lengths=[1] * examples, pooled=lambda batch: frozen.pooled[batch], encoder_trains=False)


def _top_layers_mode(model: EarfulMultiHeadModel, cache: FrozenCache, options: TrainOptions) -> _Mode:
    """The top ``tuned_layers`` encoder layers train, on the cached input of the first of them."""
    layers = model.encoder.encoder.layer
    tuned = list(layers[len(layers) - options.tuned_layers :])
    stack = nn.ModuleList(tuned)

    def pooled(batch: list[int]) -> torch.Tensor:
        hidden, mask = _pad_hidden([cache.hidden[i] for i in batch])
        return mean_pool(run_layers(stack, hidden, mask), mask)

    params = [p for layer in tuned for p in layer.parameters()]
    return _Mode(
        lengths=[h.shape[0] for h in cache.hidden],
        pooled=pooled,
        encoder_trains=True,
        groups=[{"params": params, "lr": options.encoder_lr}],
    )


def _all_layers_mode(model: EarfulMultiHeadModel, token_ids: list[list[int]], options: TrainOptions) -> _Mode:
    """Every encoder layer trains (full fine-tuning; the embeddings stay frozen). Nothing is cached: caching the
    embeddings' output of every example would take gigabytes, and looking them up costs nothing."""
    encoder = model.encoder
    pad_id = encoder.config.pad_token_id
    layers = list(encoder.encoder.layer)
    decay = options.layer_lr_decay

    def pooled(batch: list[int]) -> torch.Tensor:
        input_ids, mask = _pad([token_ids[i] for i in batch], pad_id)
        return mean_pool(encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state, mask)

    # Layer-wise learning-rate decay: the top layer at encoder_lr, each layer below it ``decay`` times less.
    groups = [
        {"params": list(layer.parameters()), "lr": options.encoder_lr * decay ** (len(layers) - 1 - index)}
        for index, layer in enumerate(layers)
    ]
    return _Mode(lengths=[len(ids) for ids in token_ids], pooled=pooled, encoder_trains=True, groups=groups)


def _lora_mode(model: EarfulMultiHeadModel, token_ids: list[list[int]], options: TrainOptions) -> _Mode:
    """LoRA adapters over every encoder layer train; every batch runs the whole encoder."""
    from earful_nlp import lora

    adapted = lora.attach(model.encoder, options.lora_rank, options.lora_alpha, options.lora_dropout)
    pad_id = model.encoder.config.pad_token_id

    def pooled(batch: list[int]) -> torch.Tensor:
        input_ids, mask = _pad([token_ids[i] for i in batch], pad_id)
        return mean_pool(adapted(input_ids=input_ids, attention_mask=mask).last_hidden_state, mask)

    params = [p for p in adapted.parameters() if p.requires_grad]
    return _Mode(
        lengths=[len(ids) for ids in token_ids],
        pooled=pooled,
        encoder_trains=True,
        groups=[{"params": params, "lr": options.encoder_lr}],
        adapted=adapted,
    )


def _run_epochs(
    model: EarfulMultiHeadModel,
    head: nn.Module,
    mode: _Mode,
    groups: list[dict],
    labels: list[int],
    options: TrainOptions,
    on_epoch: Callable[[int, float], None] | None,
    on_batch: Callable[[int, int, int], None] | None,
    rows: RowTreatment | None = None,
) -> int:
    """AdamW with linear warm-up and decay over shuffled length batches; the number of epochs run."""
    epochs = options.epochs if mode.encoder_trains else options.head_epochs
    batch_size = options.batch_size if mode.encoder_trains else max(options.batch_size, 64)
    y = torch.tensor(labels, dtype=torch.long)
    rng = random.Random(options.seed)  # noqa: S311 - seeded batch shuffling, not a secret
    steps_per_epoch = math.ceil(len(labels) / batch_size)
    optimizer = torch.optim.AdamW(groups, weight_decay=options.weight_decay)
    scheduler = _warmup_linear(optimizer, steps_per_epoch * epochs, options.warmup_fraction)
    loss_fn = _row_loss(rows)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for batch in length_batches(mode.lengths, batch_size, rng):
            with compute_context(options.bf16):
                logits = head(mode.pooled(batch))
            loss = loss_fn(logits.float(), y[batch], batch)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(batch)
            if on_batch:
                on_batch(epoch + 1, epochs, len(batch))
        if on_epoch:
            on_epoch(epoch + 1, total / len(labels))
    return epochs


def _row_loss(rows: RowTreatment | None) -> Callable[[torch.Tensor, torch.Tensor, list[int]], torch.Tensor]:
    """Cross-entropy of a batch: plain, or weighted per row with the masked logit removed for binary rows."""
    if rows is None:
        plain = nn.CrossEntropyLoss()
        return lambda logits, gold, _batch: plain(logits, gold)
    weights = torch.tensor(rows.weights, dtype=torch.float32)
    binary = torch.tensor(rows.binary, dtype=torch.bool)

    def loss(logits: torch.Tensor, gold: torch.Tensor, batch: list[int]) -> torch.Tensor:
        masked = logits.clone()
        masked[binary[batch], rows.masked_label] = float("-inf")
        per_row = nn.functional.cross_entropy(masked, gold, reduction="none")
        w = weights[batch]
        return (per_row * w).sum() / w.sum().clamp_min(1e-6)

    return loss


def _merge_adapters(model: EarfulMultiHeadModel, adapted: PeftModel, options: TrainOptions) -> None:
    """Unwrap the encoder and merge the fp16-rounded factors, exactly as loading the saved delta will."""
    from earful_nlp import lora

    model.encoder, factors = lora.detach(adapted)
    model.lora_factors = {k: v.half().float() for k, v in factors.items()}
    model.config.lora = lora.spec(options.lora_rank, options.lora_alpha)
    lora.merge(model.encoder, model.lora_factors, model.config.lora["scale"])


T = TypeVar("T")


def _given(value: T | None, what: str) -> T:
    """``value``, which this training mode needs."""
    if value is None:
        raise ValueError(f"this training mode needs the {what}")
    return value


def fit_linear_head(
    head: nn.Module,
    features: torch.Tensor,
    labels: list[int],
    options: TrainOptions,
    sample_weight: list[float] | None = None,
) -> dict:
    """Fit a scikit-learn logistic regression on standardized features (optionally weighted per row) and copy
    it into ``head``."""
    started = time.monotonic()
    fit = fit_logistic(features.numpy().astype(np.float64), np.asarray(labels), sample_weight, options)
    load_logistic(head, fit)
    return {"epochs": 0, "iterations": fit.iterations, "seconds": round(time.monotonic() - started, 1)}


@dataclasses.dataclass(frozen=True)
class LogisticFit:
    """A fitted standardisation and logistic regression, as the ``LinearHead`` applies them."""

    mean: np.ndarray
    scale: np.ndarray  # 1 / std
    coef: np.ndarray  # [classes, features]; binary fits have one row
    intercept: np.ndarray
    iterations: int

    def logits(self, features: np.ndarray) -> np.ndarray:
        """[rows, classes] logits (binary: [0, z], so that softmax gives [1 - sigmoid(z), sigmoid(z)])."""
        z = ((features - self.mean) * self.scale) @ self.coef.T + self.intercept
        return np.hstack([np.zeros_like(z), z]) if self.coef.shape[0] == 1 else z


def fit_logistic(
    features: np.ndarray, labels: np.ndarray, sample_weight: list[float] | np.ndarray | None, options: TrainOptions
) -> LogisticFit:
    """Standardise ``features`` and fit an L2 logistic regression (``options.linear_c``, seeded)."""
    from sklearn.linear_model import LogisticRegression

    mean, std = features.mean(0), features.std(0) + 1e-6
    fitted = LogisticRegression(C=options.linear_c, max_iter=5000, random_state=options.seed)
    fitted.fit((features - mean) / std, labels, sample_weight=sample_weight)
    return LogisticFit(mean, 1.0 / std, fitted.coef_, fitted.intercept_, int(np.max(fitted.n_iter_)))


def load_logistic(head: nn.Module, fit: LogisticFit) -> None:
    """Copy ``fit`` into a ``LinearHead``."""
    coef, intercept = fit.coef, fit.intercept
    if coef.shape[0] == 1:  # binary: logits [0, z] give softmax = [1 - sigmoid(z), sigmoid(z)]
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    with torch.no_grad():
        head.mean.copy_(torch.from_numpy(fit.mean).float())
        head.scale.copy_(torch.from_numpy(fit.scale).float())
        head.linear.weight.copy_(torch.from_numpy(coef).float())
        head.linear.bias.copy_(torch.from_numpy(intercept).float())


def fold_temperature(head: nn.Module, temperature: float) -> None:
    """Divide a head's output logits by ``temperature`` for good, by scaling its last linear layer."""
    last = [m for m in head.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.weight /= temperature
        last.bias /= temperature


def _warmup_linear(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_fraction: float
) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = max(1, int(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def predict_proba(
    model: EarfulMultiHeadModel, token_ids: list[list[int]], batch_size: int = 64
) -> dict[str, np.ndarray]:
    """Class probabilities per task for already tokenized texts (in input order)."""
    pad_id = model.encoder.config.pad_token_id
    out = {
        task: np.zeros((len(token_ids), len(spec["labels"])), np.float32) for task, spec in model.config.heads.items()
    }
    model.eval()
    with torch.inference_mode():
        for batch in length_batches([len(t) for t in token_ids], batch_size, None):
            input_ids, mask = _pad([token_ids[i] for i in batch], pad_id)
            for task, logits in model(input_ids=input_ids, attention_mask=mask).items():
                out[task][batch] = torch.softmax(logits.float(), -1).numpy()
    return out


def labels_to_ids(data: LabeledData, labels: tuple[str, ...]) -> list[int]:
    """Gold labels of ``data`` as indices into ``labels``."""
    index = {label: i for i, label in enumerate(labels)}
    return [index[label] for label in data.labels]
