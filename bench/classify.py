"""Benchmark: earful's classifier (both heads, one encoder pass) against the naive transformers pipeline.

    python bench/classify.py --cache-dir data/models [--posts 5000] [--baseline-sample 300] [--int8] [--bf16 on|off]
        [--compare-model DIR]   # also time another earful model directory (e.g. the previous default) in this run

Posts are generated here from templates (short, several languages, with handles, links and emoji);
no shared data set text is used. Each side runs in its own child process so that its peak memory
(ru_maxrss) and thread settings are its own. The baseline is a ``pipeline("text-classification")``
per task over the same model, called one post at a time; it is timed on a subsample and extrapolated
to all posts (printed as such).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import random
import resource
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BRANDS = ["Acme", "Nordbahn", "Telio", "Zapp", "Fjordbank", "Lumo", "Pizzaria Roma", "Digikalla", "QuickShip"]
TEMPLATES = {
    "en": [
        "{b} lost my parcel again, third time this month. Nobody answers the phone {e}",
        "Honestly loving the new {b} app, so much faster {e}",
        "Is {b} down for anyone else? {u}",
        "@{h} my refund still hasn't arrived after 3 weeks, what is going on?",
        "Just ordered from {b}, let's see how it goes",
        "{b} customer service was super helpful today, thanks!",
    ],
    "de": [
        "{b} hat meine Bestellung schon wieder storniert. Echt nervig {e}",
        "Super Service von {b}, Paket kam einen Tag früher an!",
        "Hat jemand Erfahrung mit {b}? {u}",
        "@{h} seit zwei Wochen keine Antwort auf meine Beschwerde.",
        "Neuer Tarif bei {b}, mal schauen.",
    ],
    "sv": [
        "{b} har tappat bort mitt paket igen, ingen svarar {e}",
        "Riktigt nöjd med {b} idag, snabb leverans!",
        "Någon som vet om {b} har öppet i helgen?",
        "@{h} jag väntar fortfarande på min återbetalning.",
    ],
    "fa": [
        "سفارشم از {b} بعد از دو هفته هنوز نرسیده و پشتیبانی جواب نمی‌دهد {e}",
        "از خرید از {b} خیلی راضی‌ام، ارسال سریع بود!",
        "کسی می‌داند {b} فروشگاه حضوری دارد؟",
        "کیفیت محصولات {b} پایین‌تر از انتظارم بود.",
    ],
    "it": [
        "{b} mi ha addebitato due volte e nessuno risponde {e}",
        "Servizio ottimo da {b}, consegna velocissima!",
        "Qualcuno ha provato {b}? {u}",
        "@{h} il mio ordine è in ritardo di una settimana.",
    ],
    "es": [
        "{b} me cobró dos veces y no me devuelven el dinero {e}",
        "¡Me encanta la nueva tienda de {b}!",
        "¿Alguien sabe si {b} abre el domingo?",
        "@{h} mi pedido llegó roto, quiero una solución.",
    ],
    "fr": [
        "{b} a encore annulé mon train, c'est inadmissible {e}",
        "Très contente du service {b}, merci !",
        "Quelqu'un a testé {b} ? {u}",
        "@{h} toujours pas de remboursement après un mois.",
    ],
    "ar": [
        "خدمة {b} سيئة جدا ولم يصلني الطلب {e}",
        "شكرا {b} على التوصيل السريع!",
        "هل جرب أحد تطبيق {b}؟",
        "@{h} ما زلت أنتظر استرداد المبلغ",
    ],
    "pt": [
        "A {b} perdeu minha encomenda de novo {e}",
        "Adorei o atendimento da {b}, muito rápido!",
        "Alguém já comprou na {b}? {u}",
        "@{h} meu pedido está atrasado há dez dias.",
    ],
    "hi": ["{b} ने मेरा ऑर्डर फिर से रद्द कर दिया {e}", "{b} की सर्विस बहुत अच्छी है!", "क्या किसी ने {b} ऐप इस्तेमाल किया है?"],
}
EMOJI = ["😡", "🙄", "😍", "👍", "🤦", "😭", "", "", "!!", "#fail", "#thanks"]


def generate_posts(count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """``count`` (text, lang) pairs drawn from the templates with random brands, handles, links, emoji."""
    rng = random.Random(seed)
    langs = sorted(TEMPLATES)
    texts, out_langs = [], []
    for _ in range(count):
        lang = rng.choice(langs)
        template = rng.choice(TEMPLATES[lang])
        brand = rng.choice(BRANDS)
        text = template.format(
            b=brand,
            e=rng.choice(EMOJI),
            h=brand.replace(" ", "") + rng.choice(["", "Help", "Support"]),
            u=f"https://example.com/{rng.randrange(10**6)}",
        )
        if rng.random() < 0.3:
            text += " " + rng.choice(TEMPLATES[lang]).format(b=rng.choice(BRANDS), e="", h="user", u="")
        texts.append(text.strip())
        out_langs.append(lang)
    return texts, out_langs


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (VmHWM: unlike ru_maxrss, not inherited through exec)."""
    try:
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_fast(
    cache_dir: pathlib.Path, posts: int, chunk: int, int8: bool, bf16: str, model: pathlib.Path | None = None
) -> dict:
    """Time MentionClassifier.classify (both heads) over all posts, in chunks as the batch runner calls it."""
    from earful_nlp.classifier import MentionClassifier
    from earful_nlp.config import NlpSettings

    texts, langs = generate_posts(posts)
    load_started = time.perf_counter()
    classifier = MentionClassifier.load(NlpSettings(quantize_int8=int8, bf16=bf16, default_model=model), cache_dir)
    load_seconds = time.perf_counter() - load_started
    classifier.classify(texts[:64], langs[:64])  # warm-up
    started = time.perf_counter()
    labeled = 0
    for start in range(0, len(texts), chunk):
        labeled += sum(
            r is not None for r in classifier.classify(texts[start : start + chunk], langs[start : start + chunk])
        )
    seconds = time.perf_counter() - started
    return {
        "posts": len(texts),
        "labeled": labeled,
        "seconds": seconds,
        "posts_per_s": len(texts) / seconds,
        "load_seconds": load_seconds,
        "peak_rss_mb": peak_rss_mb(),
        "precision": "int8" if int8 else "bf16" if classifier.bf16 else "fp32",
        "model": str(model) if model else "bundled default",
    }


def run_baseline(cache_dir: pathlib.Path, posts: int, sample: int) -> dict:
    """Time one ``pipeline("text-classification")`` per task, one post at a time, on a subsample."""
    import copy

    import torch
    from transformers import pipeline

    from earful_nlp import model_store
    from earful_nlp.modeling import EarfulForSequenceClassification
    from earful_nlp.runtime import configure_threads

    configure_threads(None)
    texts, _ = generate_posts(posts)
    subset = random.Random(3).sample(texts, min(sample, len(texts)))
    encoder, tokenizer = model_store.load_encoder(cache_dir, show_progress=False)
    multi = model_store.load_delta(model_store.DEFAULT_MODEL_DIR, encoder)
    per_post = 0.0
    for task in multi.config.heads:
        model = EarfulForSequenceClassification(copy.deepcopy(multi.config), multi, task).eval()
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device=-1)
        pipe(subset[0])  # warm-up
        started = time.perf_counter()
        with torch.inference_mode():
            for text in subset:
                pipe(multi.config.text_prefix + text, truncation=True, max_length=multi.config.max_tokens)
        per_post += (time.perf_counter() - started) / len(subset)
    return {
        "sample": len(subset),
        "posts": len(texts),
        "seconds_extrapolated": per_post * len(texts),
        "posts_per_s": 1.0 / per_post,
        "peak_rss_mb": peak_rss_mb(),
    }


def child(mode: str, args: argparse.Namespace, bf16: str | None = None, model: pathlib.Path | None = None) -> dict:
    """Run one side in a fresh interpreter and return its JSON result."""
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--cache-dir",
        str(args.cache_dir),
        "--posts",
        str(args.posts),
        "--baseline-sample",
        str(args.baseline_sample),
        "--chunk",
        str(args.chunk),
        "--bf16",
        bf16 or args.bf16,
    ]
    if args.int8:
        command.append("--int8")
    if model:
        command += ["--model", str(model)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from typing import get_args

    from earful_nlp.runtime import Bf16Setting

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache-dir", type=pathlib.Path, default=pathlib.Path("data/models"))
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--baseline-sample", type=int, default=300)
    parser.add_argument("--chunk", type=int, default=500, help="posts per classify() call")
    parser.add_argument("--int8", action="store_true", help="int8 dynamic quantization of the encoder")
    parser.add_argument(
        "--bf16",
        choices=get_args(Bf16Setting),
        default="auto",
        help="bfloat16 autocast (auto: where the CPU has bf16 instructions, as earful does by default)",
    )
    parser.add_argument("--compare-model", type=pathlib.Path, help="also time this earful model directory")
    parser.add_argument("--model", type=pathlib.Path, help=argparse.SUPPRESS)  # a child's model directory
    parser.add_argument("--child", choices=["fast", "baseline"])
    args = parser.parse_args()
    if args.child == "fast":
        print(json.dumps(run_fast(args.cache_dir, args.posts, args.chunk, args.int8, args.bf16, args.model)))
        return
    if args.child == "baseline":
        print(json.dumps(run_baseline(args.cache_dir, args.posts, args.baseline_sample)))
        return
    from earful_nlp.encoder_build import ensure_encoder
    from earful_nlp.runtime import available_cpus

    ensure_encoder(args.cache_dir)
    runs = [child("fast", args)]
    if runs[0]["precision"] == "bf16":  # show what the same machine does without it
        runs.append(child("fast", args, bf16="off"))
    if args.compare_model:
        runs.append(child("fast", args, model=args.compare_model))
    base = child("baseline", args)
    fast = runs[0]
    print(f"posts: {fast['posts']} generated short posts in {len(TEMPLATES)} languages; CPUs: {available_cpus()}")
    for run in runs:
        print(
            f"earful classifier (sentiment + complaint, one encoder pass, length-sorted batches, "
            f"{run['precision']}, {run['model']}): {run['posts_per_s']:.1f} posts/s ({run['seconds']:.1f} s), "
            f"peak memory {run['peak_rss_mb']:.0f} MB, load {run['load_seconds']:.1f} s"
        )
    print(
        f"naive baseline (pipeline('text-classification') per task, one post at a time, fp32): "
        f"{base['posts_per_s']:.1f} posts/s for both tasks, timed on {base['sample']} posts and extrapolated "
        f"to {base['posts']} ({base['seconds_extrapolated']:.0f} s), peak memory {base['peak_rss_mb']:.0f} MB"
    )
    print(
        f"speed-up: {fast['posts_per_s'] / base['posts_per_s']:.1f}x ({fast['precision']})"
        + "".join(f"; {run['posts_per_s'] / base['posts_per_s']:.1f}x ({run['precision']})" for run in runs[1:])
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from bench.machine import cpu_model
    from bench.report import printed, record

    if "--child" in sys.argv:  # one side of a run: it answers its parent in JSON, it records nothing
        main()
    else:
        with printed() as lines:
            main()
        record("classify", lines, cpu_model())
