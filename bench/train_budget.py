"""Benchmark: how long ``earful train-default`` takes on this machine, projected from timed samples of its steps.

    python bench/train_budget.py --data-dir ../shared/data --cache-dir data/models [--sample 960]

The issue's budget is 75 minutes on 2 cores, on a machine that may lack bf16 instructions (there bf16 is
emulated and many times slower, so the recipe trains in fp32). A full run takes most of that budget, so this
benchmark times the recipe's own work on real rows instead: LoRA training steps with the recipe's options on a
sample of the default mixture, and scoring (the forward pass of the checkpoint evaluations, the complaint
features and the calibration) on a sample of the validation files. It projects each stage of the default
recipe and of the previous 3-pass recipe (the baseline) from those rates, in fp32 and, where the CPU has bf16
instructions, in bf16. The projection leaves out the logistic-regression fits and file reading (under a minute
together); the model card gives the measured time of a whole run.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from earful_nlp.datasets import LabeledData
    from earful_nlp.training_mix import MixedRows

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUDGET_MINUTES = 75
WARM_UP_ROWS = 64
BASELINE_PASSES = 3  # the recipe before its passes were fitted to the precision: 3 everywhere


@dataclasses.dataclass(frozen=True)
class Rates:
    """Rows per second of the recipe's two kinds of encoder work, at one precision."""

    precision: str
    training: float
    scoring: float


def measure(args: argparse.Namespace, bf16: bool, mix: MixedRows, validation: LabeledData) -> Rates:
    """Time LoRA training steps on ``mix`` and forward scoring on ``validation`` (samples of real rows)."""
    from earful_nlp import model_store
    from earful_nlp.default_recipe import RecipeOptions, sentiment_train_options
    from earful_nlp.labels import SENTIMENT, SENTIMENT_LABELS
    from earful_nlp.modeling import make_head
    from earful_nlp.runtime import compute_context
    from earful_nlp.training import RowTreatment, labels_to_ids, predict_proba, tokenize, train_task

    options = RecipeOptions(bf16=bf16)
    encoder, tokenizer = model_store.load_encoder(args.cache_dir)
    train_options = sentiment_train_options(options, options.seed)
    spec = train_options.head_spec(SENTIMENT_LABELS)
    model = model_store.new_model(encoder, {SENTIMENT: spec}, 0, options.max_length)
    model.heads[SENTIMENT] = make_head(spec, model.encoder.config.hidden_size)
    ids = tokenize(tokenizer, mix.data.texts, model.config.text_prefix, options.max_length)
    labels = labels_to_ids(mix.data, SENTIMENT_LABELS)
    rows = RowTreatment(mix.weights, mix.binary, SENTIMENT_LABELS.index("neutral"))
    # A short untimed run first: the first steps of a process pay one-off costs that a long run spreads thin.
    warm = list(range(WARM_UP_ROWS))
    warm_rows = RowTreatment([rows.weights[i] for i in warm], [rows.binary[i] for i in warm], rows.masked_label)
    train_task(model, None, labels[:WARM_UP_ROWS], train_options, token_ids=ids[:WARM_UP_ROWS], rows=warm_rows)
    started = time.perf_counter()
    train_task(model, None, labels, train_options, token_ids=ids, rows=rows)
    training = len(ids) / (time.perf_counter() - started)

    val_ids = tokenize(tokenizer, validation.texts, model.config.text_prefix, options.max_length)
    started = time.perf_counter()
    with compute_context(bf16):
        predict_proba(model, val_ids)
    scoring = len(val_ids) / (time.perf_counter() - started)
    return Rates("bf16" if bf16 else "fp32", training, scoring)


def _sample(count: int, size: int, seed: int) -> list[int]:
    """``size`` of ``count`` row indices, seeded, in order."""
    import random

    return sorted(random.Random(seed).sample(range(count), min(size, count)))


def projected_minutes(rates: Rates, counts: dict[str, int], passes: int) -> dict[str, float]:
    """Minutes of each stage of a recipe of ``passes`` passes at ``rates``."""
    from earful_nlp.default_recipe import RecipeOptions

    evaluations = len(RecipeOptions().checkpoints) + 1  # each checkpoint, then the average of the last ones
    sentiment = counts["pass"] * passes / rates.training + evaluations * counts["validation"] / rates.scoring
    stages = {
        "sentiment": sentiment / 60,
        "complaint": counts["complaint"] / rates.scoring / 60,
        "calibrate": counts["validation"] / rates.scoring / 60,
    }
    return {**stages, "total": sum(stages.values())}


def main() -> None:
    """Measure, project and print the table."""
    from bench.machine import cpu_model
    from earful_nlp.default_recipe import default_passes
    from earful_nlp.runtime import configure_threads, native_bf16

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=pathlib.Path, required=True)
    parser.add_argument("--cache-dir", type=pathlib.Path, default=ROOT / "data" / "models")
    parser.add_argument("--sample", type=int, default=960, help="rows timed for training and for scoring")
    args = parser.parse_args()
    threads = configure_threads(None)
    native = native_bf16()
    print(f"CPU: {cpu_model()}, {threads} torch threads; bf16 instructions: {'yes' if native else 'no'}")
    from earful_nlp.complaint_head import ComplaintMix, complaint_rows
    from earful_nlp.datasets import LabeledData
    from earful_nlp.default_recipe import RecipeOptions, validation_sets
    from earful_nlp.training_mix import MixedRows, draw_mixture

    seed = RecipeOptions().seed
    mix = draw_mixture(args.data_dir, 1, seed)  # every pass has the same number of rows
    validation = LabeledData.concat(list(validation_sets(args.data_dir).values()))
    counts = {
        "pass": len(mix.data),
        "validation": len(validation),
        "complaint": len(complaint_rows(args.data_dir, ComplaintMix(), seed).data),
    }
    print(
        f"rows: {counts['pass']} per mixture pass, {counts['validation']} validation, "
        f"{counts['complaint']} complaint-head rows; timed on {args.sample} of each kind"
    )
    keep = _sample(len(mix.data), args.sample, seed)
    mix_sample = MixedRows(
        mix.data.subset(keep),
        [mix.weights[i] for i in keep],
        [mix.binary[i] for i in keep],
        [mix.sources[i] for i in keep],
    )
    validation_sample = validation.subset(_sample(len(validation), args.sample, seed))
    print(f"projected `earful train-default` minutes (budget {BUDGET_MINUTES}):")
    print(f"  {'recipe':<34} {'train rows/s':>12} {'sentiment':>9} {'complaint':>9} {'calibrate':>9} {'total':>6}")
    for bf16 in (False, True) if native else (False,):
        rates = measure(args, bf16, mix_sample, validation_sample)
        passes_now = default_passes(bf16)
        for passes, name in ((passes_now, "default"), (BASELINE_PASSES, "baseline")):
            if name == "baseline" and passes == passes_now:
                continue
            minutes = projected_minutes(rates, counts, passes)
            verdict = "OK" if minutes["total"] <= BUDGET_MINUTES else "over budget"
            label = f"{name}: {passes} pass{'es' if passes > 1 else ''}, {rates.precision}"
            print(
                f"  {label:<34} {rates.training:>12.1f} {minutes['sentiment']:>9.1f} {minutes['complaint']:>9.1f} "
                f"{minutes['calibrate']:>9.1f} {minutes['total']:>6.1f}  {verdict}"
            )
    print(
        f"`earful train-default` here: {default_passes(native)} pass(es) in {'bf16' if native else 'fp32'} "
        "unless --passes or --bf16 say otherwise"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.machine import cpu_model
    from bench.report import printed, record

    with printed() as lines:
        main()
    record("train_budget", lines, cpu_model())
