"""How the bundled default model is trained: ``earful train-default`` runs these stages in order.

1. ``sentiment``: LoRA adapters on every encoder layer and the sentiment head, trained on the mixture of
   ``training_mix`` (language-balanced passes, per-source weights, binary rows with the neutral logit
   masked). The validation files are scored at a few checkpoints; the best of those checkpoints and of the
   average of the last ones (free at inference: one set of adapters either way) is kept.
2. ``complaint``: the complaint head on the adapted encoder (``complaint_head``).
3. ``calibrate``: one temperature per head, folded into the head's last layer, and for sentiment a factor per
   language where one temperature does not fit every language (``calibration.language_temperatures``).

Every stage writes the model directory, so a later stage can be re-run on its own.
"""

from __future__ import annotations

import dataclasses
import pathlib
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from earful_nlp.complaint_head import ComplaintMix, ComplaintRows
from earful_nlp.datasets import LabeledData, read_labeled_csv
from earful_nlp.labels import COMPLAINT, COMPLAINT_LABELS, SENTIMENT, SENTIMENT_LABELS
from earful_nlp.training_mix import draw_mixture, sentipers_parts

if TYPE_CHECKING:
    import torch
    from transformers import BertModel, PreTrainedTokenizerBase

    from earful_nlp.modeling import EarfulMultiHeadModel
    from earful_nlp.training import TrainOptions

Report = Callable[[str], None]

VALIDATION_FILES = {
    "xlmt_val": "sentiment/xlmt_val.csv",
    "absabank_imm_sv_dev": "sentiment/absabank_imm_sv_dev.csv",
    "germeval2017_de_dev": "sentiment/germeval2017_de_dev.csv",
}
SENTIPERS_HELD_OUT = "sentipers_fa_heldout_15pct"
ENCODER_LAYERS = 12
# Passes that keep the whole recipe within 75 minutes on 2 cores. Where the CPU lacks bf16 instructions the
# recipe trains in fp32, whose training steps were measured about 4x slower than bf16 ones on a CPU that has
# them (bench/train_budget.py), so it takes one pass instead of three.
PASSES_BF16 = 3
PASSES_FP32 = 1


def default_passes(bf16: bool) -> int:
    """Passes over the sentiment mixture that fit the training budget at this precision."""
    return PASSES_BF16 if bf16 else PASSES_FP32


@dataclasses.dataclass(frozen=True)
class RecipeOptions:
    """The default model's recipe; every figure in its model card comes from these values."""

    passes: int = PASSES_BF16  # default_passes() for the precision in use
    runs: int = 1  # sentiment runs of different seeds, averaged into one model (see average_runs)
    seed: int = 13
    tuning: str = "lora"  # "lora": adapters on every layer; "full": every layer's weights, layer-wise lr decay
    lora_rank: int = 16
    lora_alpha: int = 32
    encoder_lr: float = 5e-4  # LoRA adapters; full fine-tuning uses full_lr for the top layer
    full_lr: float = 1e-4
    layer_lr_decay: float = 0.9
    head_lr: float = 1e-3
    batch_size: int = 32
    max_length: int = 128
    # Fractions of the run at which to score. Earlier runs also scored at 50 %: that checkpoint never won and is
    # not among the averaged ones, and each scoring costs about 2 minutes in fp32.
    checkpoints: tuple[float, ...] = (0.67, 0.83, 1.0)
    average_last: int = 3  # also try the average of the last this-many checkpoints
    bf16: bool = True
    max_rows: int | None = None  # keep only this many drawn rows and validation rows (quick trial runs, tests)


def validation_sets(data_dir: pathlib.Path) -> dict[str, LabeledData]:
    """The sentiment validation files (never trained on) plus SentiPers' held-out part."""
    sets = {name: read_labeled_csv(data_dir / path, SENTIMENT_LABELS) for name, path in VALIDATION_FILES.items()}
    sets[SENTIPERS_HELD_OUT] = sentipers_parts(data_dir)[1]
    return sets


def selection_score(scores: dict[str, float]) -> float:
    """What picks the checkpoint: the mean of the validation sets' language-averaged macro-F1."""
    return round(sum(scores.values()) / len(scores), 4)


def score_sentiment(
    model: EarfulMultiHeadModel, token_sets: dict[str, list[list[int]]], gold: dict[str, LabeledData], bf16: bool
) -> dict[str, float]:
    """Language-averaged macro-F1 of the sentiment head on each validation set."""
    from earful_nlp.evaluation import evaluate
    from earful_nlp.runtime import compute_context
    from earful_nlp.training import predict_proba

    out = {}
    with compute_context(bf16):
        for name, ids in token_sets.items():
            probs = predict_proba(model, ids)[SENTIMENT]
            predicted = [SENTIMENT_LABELS[i] for i in probs.argmax(1)]
            data = gold[name]
            out[name] = evaluate(data.labels, predicted, data.langs, SENTIMENT_LABELS)["macro_f1_language_average"]
    return out


def _trainable_state(model: EarfulMultiHeadModel) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


def _load_state(model: EarfulMultiHeadModel, state: dict[str, torch.Tensor]) -> None:
    import torch

    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(value)


def _average(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {name: sum(s[name] for s in states) / len(states) for name in states[0]}


@dataclasses.dataclass(frozen=True)
class _Validation:
    """The validation files and their token ids, shared by every run."""

    gold: dict[str, LabeledData]
    token_ids: dict[str, list[list[int]]]


def train_sentiment_stage(
    data_dir: pathlib.Path,
    cache_dir: pathlib.Path,
    out: pathlib.Path,
    options: RecipeOptions,
    report: Report = print,
    show_progress: bool = False,
) -> dict:
    """Stage 1: adapters and sentiment head on the mixture; write the model to ``out``; return the facts.

    With ``options.runs`` above 1, that many runs (seeds ``seed``, ``seed + 1``, ...; every run starts from the
    same head initialisation) are trained one after the other and averaged into one model (``average_runs``).
    """
    from earful_nlp import model_store
    from earful_nlp.modeling import EarfulConfig
    from earful_nlp.training import tokenize

    if options.runs > 1 and options.tuning == "full":
        raise ValueError("averaging runs averages LoRA adapters: use it with LoRA tuning")
    started = time.monotonic()
    gold = validation_sets(data_dir)  # before the encoder loads: a missing file is named at once
    encoder, tokenizer = model_store.load_encoder(cache_dir)
    if options.max_rows:
        gold = {name: data.subset(list(range(min(len(data), options.max_rows)))) for name, data in gold.items()}
    prefix = EarfulConfig().text_prefix
    validation = _Validation(
        gold, {name: tokenize(tokenizer, data.texts, prefix, options.max_length) for name, data in gold.items()}
    )
    runs = []
    for index in range(options.runs):
        if index:
            encoder, tokenizer = model_store.load_encoder(cache_dir)  # the last run merged its adapters
        seed = options.seed + index
        runs.append(_sentiment_run(data_dir, encoder, tokenizer, validation, options, seed, report, show_progress))
    model, facts = runs[0]
    if options.runs > 1:
        encoder, _ = model_store.load_encoder(cache_dir)
        model = average_runs([run for run, _ in runs], encoder)
        scores = score_sentiment(model, validation.token_ids, validation.gold, options.bf16)
        report(f"average of the {options.runs} runs: {scores}")
        facts = {
            "runs": [run_facts for _, run_facts in runs],
            "averaged_runs_scores": scores,
            "averaged_runs_selection": selection_score(scores),
        }
    model.config.version = time.strftime("%Y%m%d")
    model_store.save_delta(model, out)
    return {**facts, "options": dataclasses.asdict(options), "seconds_total": round(time.monotonic() - started, 1)}


def average_runs(models: list[EarfulMultiHeadModel], encoder: BertModel) -> EarfulMultiHeadModel:
    """One model from several sentiment runs: the mean of their LoRA deltas (``lora.average``, exact) and of
    their heads' weights, on a fresh ``encoder``.

    Averaging heads is sound because every run starts from the same head initialisation and the same encoder,
    so the runs end in one basin (a "model soup"); the averaged model costs no more to run than one of them.
    """
    from earful_nlp import lora, model_store

    first = models[0]
    spec = first.config.heads[SENTIMENT]
    model = model_store.new_model(encoder, {SENTIMENT: spec}, 0, first.config.max_tokens)
    states = [m.heads[SENTIMENT].state_dict() for m in models]
    model.heads[SENTIMENT].load_state_dict(_average(states))
    model.lora_factors = lora.average([m.lora_factors for m in models])
    rank, alpha = first.config.lora["rank"], first.config.lora["alpha"]
    model.config.lora = lora.spec(rank * len(models), alpha * len(models))
    lora.merge(model.encoder, model.lora_factors, model.config.lora["scale"])
    model.eval()
    return model


def sentiment_train_options(options: RecipeOptions, seed: int) -> TrainOptions:
    """The training options of one sentiment run of the recipe (``seed`` draws its batches and adapters)."""
    from earful_nlp.training import TrainOptions

    full = options.tuning == "full"
    return TrainOptions(
        task=SENTIMENT,
        epochs=1,  # the passes are drawn into the data: one pass over the drawn rows
        batch_size=options.batch_size,
        encoder_lr=options.full_lr if full else options.encoder_lr,
        head_lr=options.head_lr,
        max_length=options.max_length,
        seed=seed,
        tuned_layers=ENCODER_LAYERS if full else 0,
        layer_lr_decay=options.layer_lr_decay,
        lora_rank=0 if full else options.lora_rank,
        lora_alpha=options.lora_alpha,
        lora_dropout=0.0,
        bf16=options.bf16,
    )


def _sentiment_run(
    data_dir: pathlib.Path,
    encoder: BertModel,
    tokenizer: PreTrainedTokenizerBase,
    validation: _Validation,
    options: RecipeOptions,
    seed: int,
    report: Report,
    show_progress: bool,
) -> tuple[EarfulMultiHeadModel, dict]:
    """One run of adapters and head on the mixture, its rows, batches and adapters drawn with ``seed``: the
    trained model (adapters merged) and its facts. The head's first weights come from ``options.seed`` in every
    run, so runs of different seeds can be averaged."""
    from earful_nlp import model_store
    from earful_nlp.modeling import make_head
    from earful_nlp.pipelines import epoch_progress
    from earful_nlp.training import RowTreatment, labels_to_ids, set_seed, tokenize, train_task

    started = time.monotonic()
    train_options = sentiment_train_options(options, seed)
    mix = draw_mixture(data_dir, options.passes, seed, max_rows=options.max_rows)
    report(f"training mixture (seed {seed}): {len(mix.data)} rows over {options.passes} passes: {mix.counts()}")
    spec = train_options.head_spec(SENTIMENT_LABELS)
    model = model_store.new_model(encoder, {SENTIMENT: spec}, train_options.tuned_layers, options.max_length)
    set_seed(options.seed)
    model.heads[SENTIMENT] = make_head(spec, model.encoder.config.hidden_size)
    ids = tokenize(tokenizer, mix.data.texts, model.config.text_prefix, options.max_length)
    gold, val_ids = validation.gold, validation.token_ids
    report(f"tokenized in {time.monotonic() - started:.0f}s")

    marks = [round(f * len(ids)) for f in options.checkpoints]
    checkpoints: list[dict] = []
    states: list[dict[str, torch.Tensor]] = []
    seen = 0

    def checkpoint(on_batch: Callable[[int, int, int], None] | None) -> Callable[[int, int, int], None]:
        def tick(epoch: int, epochs: int, done: int) -> None:
            nonlocal seen
            seen += done
            if on_batch:
                on_batch(epoch, epochs, done)
            if marks and seen >= marks[0]:
                marks.pop(0)
                scores = score_sentiment(model, val_ids, gold, options.bf16)
                model.train()
                states.append(_trainable_state(model))
                entry = {"fraction": round(seen / len(ids), 2), "scores": scores, "selection": selection_score(scores)}
                checkpoints.append(entry)
                report(f"checkpoint at {entry['fraction']:.0%} ({time.monotonic() - started:.0f}s): {scores}")

        return tick

    chosen: dict = {}

    def choose() -> None:
        averaged = _average(states[-options.average_last :])
        _load_state(model, averaged)
        scores = score_sentiment(model, val_ids, gold, options.bf16)
        candidates = [(c["selection"], f"checkpoint {c['fraction']:.0%}", states[i]) for i, c in enumerate(checkpoints)]
        candidates.append((selection_score(scores), f"average of the last {options.average_last}", averaged))
        best = max(candidates, key=lambda c: c[0])
        _load_state(model, best[2])
        chosen.update({"averaged_scores": scores, "averaged_selection": selection_score(scores), "kept": best[1]})
        report(f"average of the last {options.average_last}: {scores}; keeping the {best[1]} ({best[0]})")

    rows = RowTreatment(mix.weights, mix.binary, SENTIMENT_LABELS.index("neutral"))
    with epoch_progress(show_progress, len(ids)) as on_batch:
        stats = train_task(
            model,
            None,
            labels_to_ids(mix.data, SENTIMENT_LABELS),
            train_options,
            token_ids=ids,
            on_batch=checkpoint(on_batch),
            rows=rows,
            before_merge=choose,
        )
    facts = {
        "seed": seed,
        "rows": len(ids),
        "rows_per_source": mix.counts(),
        "checkpoints": checkpoints,
        **chosen,
        "train_seconds": stats["seconds"],
    }
    return model, facts


def train_complaint_stage(
    data_dir: pathlib.Path,
    cache_dir: pathlib.Path,
    out: pathlib.Path,
    options: RecipeOptions,
    report: Report = print,
    mix: ComplaintMix | None = None,
) -> dict:
    """Stage 2: the complaint head on the adapted encoder in ``out``, its temperature fitted on out-of-fold
    logits; rewrite ``out``; return the facts (5-fold CV on the English corpus among them)."""
    from earful_nlp import model_store
    from earful_nlp.calibration import fit_temperature, tempered, top_label_ece
    from earful_nlp.complaint_head import POOL_LAYERS, complaint_rows, cross_validate
    from earful_nlp.modeling import make_head
    from earful_nlp.training import (
        TrainOptions,
        build_frozen_cache,
        fit_logistic,
        fold_temperature,
        labels_to_ids,
        load_logistic,
        tokenize,
    )

    started = time.monotonic()
    mix = mix or ComplaintMix()
    encoder, tokenizer = model_store.load_encoder(cache_dir)
    model = model_store.load_delta(out, encoder)
    rows = complaint_rows(data_dir, mix, options.seed)
    if options.max_rows:
        rng = random.Random(options.seed)  # noqa: S311 - seeded trial sample, not a secret
        keep = sorted(rng.sample(range(len(rows.data)), min(options.max_rows, len(rows.data))))
        rows = ComplaintRows(
            rows.data.subset(keep), [rows.weights[i] for i in keep], [rows.is_preotiuc[i] for i in keep]
        )
    head_options = TrainOptions(
        task=COMPLAINT, head_kind="linear", pool_layers=POOL_LAYERS, linear_c=mix.linear_c, seed=options.seed
    )
    spec = head_options.head_spec(COMPLAINT_LABELS)
    ids = tokenize(tokenizer, rows.data.texts, model.config.text_prefix, model.config.max_tokens)
    features = build_frozen_cache(model, ids, 0, layers=spec["layers"]).pooled.numpy().astype(np.float64)
    y = np.array(labels_to_ids(rows.data, COMPLAINT_LABELS))
    cv, oof = cross_validate(features, y, rows, head_options)
    report(f"complaint head, 5-fold CV on the English corpus: macro-F1 {cv['macro_f1']}")
    oof_log_probs = np.stack([np.zeros_like(oof), oof], axis=1)
    temperature = fit_temperature(oof_log_probs, y)
    fit = fit_logistic(features, y, np.array(rows.weights), head_options)
    head = make_head(spec, model.encoder.config.hidden_size)
    load_logistic(head, fit)
    fold_temperature(head, temperature)
    model.heads[COMPLAINT], model.config.heads[COMPLAINT] = head, spec
    model_store.save_delta(model, out)
    return {
        "rows": len(ids),
        "rows_by_kind": {"preotiuc": int(sum(rows.is_preotiuc)), "other": int(len(ids) - sum(rows.is_preotiuc))},
        "mix": dataclasses.asdict(mix),
        "cv_5fold_preotiuc": {k: cv[k] for k in ("macro_f1", "accuracy", "f1_per_label")},
        "temperature": round(temperature, 4),
        "ece_out_of_fold": {
            "before": round(top_label_ece(tempered(oof_log_probs, 1.0), y), 4),
            "after": round(top_label_ece(tempered(oof_log_probs, temperature), y), 4),
        },
        "seconds_total": round(time.monotonic() - started, 1),
    }


def calibrate_sentiment_stage(
    data_dir: pathlib.Path, cache_dir: pathlib.Path, out: pathlib.Path, options: RecipeOptions, report: Report = print
) -> dict:
    """Stage 3: a temperature for the sentiment head, fitted on the validation files and folded into the head,
    plus a factor per language where one global temperature leaves that language mis-calibrated.

    The ECE figures are cross-fitted (fitted on one half of the rows, measured on the other), so they say what
    the calibration does for posts it was not fitted on. The folded temperature is recorded in the head's
    config, so re-running this stage first undoes it instead of tempering twice.
    """
    from earful_nlp import model_store
    from earful_nlp.calibration import fit_temperature, language_temperatures, tempered, top_label_ece
    from earful_nlp.training import fold_temperature, labels_to_ids, predict_proba, tokenize

    encoder, tokenizer = model_store.load_encoder(cache_dir)
    model = model_store.load_delta(out, encoder)
    spec = model.config.heads[SENTIMENT]
    fold_temperature(model.heads[SENTIMENT], 1.0 / float(spec.pop("temperature", 1.0)))
    spec.pop("temperature_by_language", None)
    gold = validation_sets(data_dir)
    data = LabeledData.concat(list(gold.values()))
    sources = [name for name, part in gold.items() for _ in part.texts]
    if options.max_rows:
        data = data.subset(list(range(min(options.max_rows, len(data)))))
        sources = sources[: len(data)]
    ids = tokenize(tokenizer, data.texts, model.config.text_prefix, model.config.max_tokens)
    log_probs = np.log(np.clip(predict_proba(model, ids)[SENTIMENT], 1e-12, 1.0))
    y = np.array(labels_to_ids(data, SENTIMENT_LABELS))
    halves = np.random.default_rng(options.seed).permutation(len(y)) % 2 == 0
    crossed = np.zeros_like(log_probs)
    for half in (halves, ~halves):
        crossed[half] = tempered(log_probs[half], fit_temperature(log_probs[~half], y[~half]))
    temperature = fit_temperature(log_probs, y)
    factors, evidence = language_temperatures(log_probs / temperature, y, data.langs, halves, sources)
    lang_array = np.array(data.langs)
    per_language = {}
    for lang in sorted(set(data.langs)):
        rows = lang_array == lang
        per_language[lang] = {
            "before": round(top_label_ece(tempered(log_probs[rows], 1.0), y[rows]), 4),
            "after": round(top_label_ece(crossed[rows], y[rows]), 4),
            **({"after_language_factor": evidence[lang]["own"]} if lang in factors else {}),
        }
    fold_temperature(model.heads[SENTIMENT], temperature)
    spec["temperature"] = round(temperature, 4)
    spec["temperature_by_language"] = factors
    model_store.save_delta(model, out)
    facts = {
        "temperature": round(temperature, 4),
        "temperature_by_language": factors,
        "ece_cross_fitted": {
            "before": round(top_label_ece(tempered(log_probs, 1.0), y), 4),
            "after": round(top_label_ece(crossed, y), 4),
        },
        "ece_per_language": per_language,
        "language_factor_evidence": evidence,
    }
    report(f"sentiment temperature {facts['temperature']}, per language {factors}: ECE {facts['ece_cross_fitted']}")
    return facts


def run_stages(
    data_dir: pathlib.Path,
    cache_dir: pathlib.Path,
    out: pathlib.Path,
    options: RecipeOptions,
    stages: tuple[str, ...],
    report: Report = print,
) -> dict:
    """Run ``stages`` of the recipe in order; the facts of each, by stage name."""
    from earful_nlp import model_store

    facts: dict[str, dict] = {}
    for stage in stages:
        report(f"stage {stage} ...")
        if stage == "sentiment":
            facts[stage] = train_sentiment_stage(data_dir, cache_dir, out, options, report, show_progress=True)
        elif stage == "complaint":
            facts[stage] = train_complaint_stage(data_dir, cache_dir, out, options, report)
        else:
            facts[stage] = calibrate_sentiment_stage(data_dir, cache_dir, out, options, report)
        model_store.write_json(out / f"training-{stage}.json", facts.get(stage, {}))
    return facts
