"""Score variants of the complaint head's row weights and C on one model's encoder features (computed once).

    python scripts/complaint_head_grid.py --data-dir ../shared/data --model nlp/models/default

Each variant prints one JSON line: out-of-fold macro-F1 on the seed posts (5 folds over
nlp/training_data/complaint_seed.csv, every other row always in training; language average and the worst
language), the 5-fold CV on the English corpus, and the check set in tests/ (reported, not for choosing: the
model card says which figure picked the settings).
"""

from __future__ import annotations

import argparse
import itertools
import json
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECK_SET = ROOT / "tests/nlp/fixtures/complaint_check.csv"


def main() -> None:
    from sklearn.model_selection import StratifiedKFold

    from earful_nlp import model_store
    from earful_nlp.complaint_head import (
        POOL_LAYERS,
        SEED_FILE,
        ComplaintMix,
        ComplaintRows,
        complaint_rows,
        cross_validate,
    )
    from earful_nlp.datasets import read_labeled_csv
    from earful_nlp.evaluation import evaluate
    from earful_nlp.labels import COMPLAINT, COMPLAINT_LABELS
    from earful_nlp.training import TrainOptions, build_frozen_cache, fit_logistic, labels_to_ids, tokenize

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=pathlib.Path, required=True)
    parser.add_argument("--model", type=pathlib.Path, default=model_store.DEFAULT_MODEL_DIR)
    parser.add_argument("--cache-dir", type=pathlib.Path, default=pathlib.Path("data/models"))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    encoder, tokenizer = model_store.load_encoder(args.cache_dir)
    model = model_store.load_delta(args.model, encoder)

    def features(texts: list[str]) -> np.ndarray:
        ids = tokenize(tokenizer, texts, model.config.text_prefix, model.config.max_tokens)
        pooled = build_frozen_cache(model, ids, 0, layers=list(range(-POOL_LAYERS, 0))).pooled
        return pooled.numpy().astype(np.float64)

    rows = complaint_rows(args.data_dir, ComplaintMix(), args.seed)
    x, y = features(rows.data.texts), np.array(labels_to_ids(rows.data, COMPLAINT_LABELS))
    check = read_labeled_csv(CHECK_SET, COMPLAINT_LABELS)
    x_check, y_check = features(check.texts), np.array(labels_to_ids(check, COMPLAINT_LABELS))
    n_corpus, n_seed = sum(rows.is_preotiuc), len(read_labeled_csv(SEED_FILE, COMPLAINT_LABELS))
    kind = np.array(["corpus"] * n_corpus + ["seed"] * n_seed + ["sentiment"] * (len(y) - n_corpus - n_seed))
    seed_idx, rest = np.flatnonzero(kind == "seed"), np.flatnonzero(kind != "seed")
    langs = np.array(rows.data.langs)

    def labels(indices: np.ndarray) -> list[str]:
        return [COMPLAINT_LABELS[i] for i in indices]

    for seed_weight, negative_weight, c, boost in itertools.product([3, 6], [0.2, 0.4], [0.005, 0.01], [1.0, 1.3]):
        w = np.array(rows.weights)
        w[kind == "seed"] = seed_weight
        w[(kind == "sentiment") & (y == 1)] = negative_weight
        w[y == 1] *= boost
        options = TrainOptions(task=COMPLAINT, head_kind="linear", pool_layers=POOL_LAYERS, linear_c=c, seed=13)
        oof = np.zeros(len(seed_idx))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=args.seed).split(seed_idx, y[seed_idx]):
            fold = np.r_[rest, seed_idx[train]]
            fitted = fit_logistic(x[fold], y[fold], w[fold], options)
            oof[test] = fitted.logits(x[seed_idx[test]])[:, 1]
        seed_report = evaluate(
            labels(y[seed_idx]), labels((oof > 0).astype(int)), list(langs[seed_idx]), COMPLAINT_LABELS
        )
        cv, _ = cross_validate(x, y, ComplaintRows(rows.data, list(w), rows.is_preotiuc), options)
        on_check = fit_logistic(x, y, w, options).logits(x_check)[:, 1]
        check_report = evaluate(labels(y_check), labels((on_check > 0).astype(int)), check.langs, COMPLAINT_LABELS)
        print(
            json.dumps(
                {
                    "seed_weight": seed_weight,
                    "negative_weight": negative_weight,
                    "c": c,
                    "complaint_boost": boost,
                    "seed_oof": seed_report["macro_f1_language_average"],
                    "seed_oof_worst": min(v["macro_f1"] for v in seed_report["per_language"].values()),
                    "cv": cv["macro_f1"],
                    "check": check_report["macro_f1_language_average"],
                    "check_per_language": {k: v["macro_f1"] for k, v in check_report["per_language"].items()},
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
