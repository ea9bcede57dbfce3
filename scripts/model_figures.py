"""Write a model's figures (metrics.json next to its model card) by running `earful eval` on every validation file.

    python scripts/model_figures.py --data-dir ../shared/data --model nlp/models/default

Sentiment: xlmt_val, absabank_imm_sv_dev, germeval2017_de_dev and SentiPers' held-out 15 % (rebuilt with the
same seeded split the training used), in fp32 and in bf16. Complaint: the multilingual check set in tests/.
The training facts the recipe wrote (training-*.json: checkpoints, cross-validation, temperatures) are copied in.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECK_SET = ROOT / "tests/nlp/fixtures/complaint_check.csv"
EARFUL = pathlib.Path(sys.executable).with_name("earful")


def _eval(task: str, data: pathlib.Path, model: pathlib.Path, bf16: str, cache_dir: pathlib.Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "report.json"
        command = [str(EARFUL), "eval", "--task", task, str(data), "--model", str(model), "--bf16", bf16]
        command += ["--cache-dir", str(cache_dir), "--json", str(out)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=pathlib.Path, required=True)
    parser.add_argument("--model", type=pathlib.Path, default=ROOT / "nlp/models/default")
    parser.add_argument("--cache-dir", type=pathlib.Path, default=ROOT / "data/models")
    args = parser.parse_args()

    from earful_nlp.datasets import write_labeled_csv
    from earful_nlp.default_recipe import SENTIPERS_HELD_OUT, VALIDATION_FILES
    from earful_nlp.training_mix import sentipers_parts

    with tempfile.TemporaryDirectory() as tmp:
        held_out = pathlib.Path(tmp) / f"{SENTIPERS_HELD_OUT}.csv"
        write_labeled_csv(sentipers_parts(args.data_dir)[1], held_out)
        files = {name: args.data_dir / path for name, path in VALIDATION_FILES.items()}
        files[SENTIPERS_HELD_OUT] = held_out
        figures: dict = {"precision": "fp32 encoder (`earful eval --bf16 off`); bf16 language averages below"}
        figures["sentiment"] = {}
        figures["sentiment_bf16_language_average"] = {}
        for name, path in files.items():
            print(f"sentiment: {name} ...", flush=True)
            figures["sentiment"][name] = _eval("sentiment", path, args.model, "off", args.cache_dir)
            bf16 = _eval("sentiment", path, args.model, "on", args.cache_dir)
            figures["sentiment_bf16_language_average"][name] = bf16["macro_f1_language_average"]
    print("complaint: check set ...", flush=True)
    figures["complaint_check_set"] = _eval("complaint", CHECK_SET, args.model, "off", args.cache_dir)
    for stage in ("sentiment", "complaint", "calibrate"):
        facts = args.model / f"training-{stage}.json"
        if facts.is_file():
            figures[f"training_{stage}"] = json.loads(facts.read_text(encoding="utf-8"))
    for entry in (*figures["sentiment"].values(), figures["complaint_check_set"]):
        entry.pop("data", None)  # temporary paths
    (args.model / "metrics.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, report in figures["sentiment"].items():
        per_language = {lang: v["macro_f1"] for lang, v in report["per_language"].items()}
        print(f"{name}: language average {report['macro_f1_language_average']} {per_language}")
    check = figures["complaint_check_set"]
    print(
        f"complaint check set: {check['macro_f1_language_average']} "
        f"{ {lang: v['macro_f1'] for lang, v in check['per_language'].items()} }"
    )


if __name__ == "__main__":
    main()
