"""Ingest benchmark: generated feeds through fetch, parse, topics, language, dedupe, the records commit (every
mention stored with its cursor; SQLite WAL, synchronous=FULL) and bulk indexing.

Prints items per second, CPU seconds and peak memory of the whole ingest path (no classification), next to
feedparser alone on the same feeds, measured in the same run. Targets: at least half of
feedparser-alone throughput, peak memory under 500 MB.

With `--small-feeds N` it also times one batch over N small feeds (5 items each, served on 127.0.0.1) three
times: with the default fetch workers (one on 2-3 cores, two on 4 or more), with 2 workers, and with everything in the batch's
process (`listening.fetch_processes: 0`). Target: the default no slower than in-process.

    .venv/bin/python bench/ingest.py [--items 20000] [--feeds 40] [--small-feeds 2000] [--fetch-processes N]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model
from tests.helpers.feeds import rss
from tests.helpers.http_server import Route, scripted_server

VOCABULARY = {
    "en": "the a my our boots jacket support refund delivery store hike trail weather again never always late broken "
    "great terrible warm cold price order waiting weeks days customer service answer email phone return "
    "quality sole zipper size fit comfortable expensive cheap new old friend mountain rain snow today".split(),
    "de": "die der das meine unsere Stiefel Jacke Kundenservice Erstattung Lieferung Laden Wanderung Wetter wieder "
    "nie immer spät kaputt toll schrecklich warm kalt Preis Bestellung warte Wochen Tage Antwort Telefon "
    "Rücksendung Qualität Sohle Reißverschluss Größe bequem teuer billig neu alt Berg Regen Schnee heute".split(),
    "it": "il la mio nostra scarponi giacca assistenza rimborso consegna negozio escursione sentiero tempo ancora "
    "mai sempre tardi rotto ottimo terribile caldo freddo prezzo ordine aspetto settimane giorni cliente "
    "risposta telefono reso qualità suola cerniera taglia comodo caro economico nuovo montagna pioggia".split(),
    "sv": "den det min vår kängor jacka kundtjänst återbetalning leverans butik vandring led väder igen aldrig "
    "alltid sen trasig bra hemsk varm kall pris beställning väntar veckor dagar svar telefon retur kvalitet "
    "sula dragkedja storlek bekväm dyr billig ny gammal fjäll regn snö idag".split(),
    "fa": "کفش پوتین کاپشن پشتیبانی بازپرداخت ارسال فروشگاه کوهپیمایی مسیر هوا دوباره هرگز همیشه دیر خراب عالی "
    "افتضاح گرم سرد قیمت سفارش منتظر هفته روز مشتری پاسخ تلفن مرجوعی کیفیت زیره زیپ اندازه راحت گران ارزان "
    "نو کوه باران برف امروز".split(),
}
BRANDS = ["Acme", "Acme", "NordPeak", ""]


def make_feeds(n_items: int, n_feeds: int, seed: int = 7, syndicated_share: float = 0.05) -> list[bytes]:
    """Feeds of generated multilingual posts; a share are syndicated copies of earlier ones with small edits."""
    rng = random.Random(seed)
    langs = list(VOCABULARY)
    feeds: list[list[dict[str, str]]] = [[] for _ in range(n_feeds)]
    texts: list[str] = []
    for n in range(n_items):
        lang = langs[n % len(langs)]
        if texts and rng.random() < syndicated_share:
            words = rng.choice(texts).split()
            words[rng.randrange(len(words))] = rng.choice(VOCABULARY[lang])
            text = " ".join(words) + " (via wire)"
        else:
            words = rng.choices(VOCABULARY[lang], k=rng.randint(12, 40))
            words.insert(rng.randrange(len(words)), rng.choice(BRANDS))
            text = " ".join(w for w in words if w)
        texts.append(text)
        feeds[n % n_feeds].append(
            {
                "title": " ".join(text.split()[:6]),
                "link": f"https://bench.example/{lang}/{n}",
                "guid": f"bench-{n}",
                "description": f"<p>{text}.</p><p>#{rng.randint(1, 10**6)}</p>",
                "pubDate": f"Thu, 19 Nov 2026 {n % 24:02d}:{n % 60:02d}:00 GMT",
            }
        )
    return [rss(items, title=f"bench feed {i}") for i, items in enumerate(feeds)]


def cpu_seconds() -> float:
    """User + system CPU time of this process and of its children that have ended (fetch workers, index server)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def feedparser_alone(bodies: list[bytes]) -> tuple[float, int]:
    """Seconds feedparser needs to parse all bodies, and the number of items it found."""
    import feedparser

    start = time.perf_counter()
    items = sum(len(feedparser.parse(body).entries) for body in bodies)
    return time.perf_counter() - start, items


def whole_path(bodies: list[bytes], data_dir: Path, fetch_processes: int | None = None) -> tuple[float, int, int]:
    """Seconds for one batch over all feeds served on 127.0.0.1 (embedded index), new and fetched counts;
    `fetch_processes` as in listening.fetch_processes (None: the default)."""
    from earful.runner import run_batch
    from earful.settings import load_settings
    from tests.conftest import write_config

    with scripted_server() as srv:
        for i, body in enumerate(bodies):
            srv.routes[f"/feed{i}"] = Route(body=body)
        config = write_config(
            data_dir / "earful.yaml",
            {
                "data_dir": str(data_dir / "data"),
                "sources": {
                    "rss": {
                        "feeds": [{"name": f"feed{i}", "url": srv.url(f"/feed{i}")} for i in range(len(bodies))],
                        "max_bytes": 50_000_000,
                    }
                },
                "topics": [
                    {"name": "acme", "query": "acme OR nordpeak"},
                    {
                        "name": "service",
                        "query": "acme AND (support OR kundenservice OR assistenza OR kundtjänst "
                        "OR پشتیبانی OR refund* OR rimborso)",
                    },
                    {"name": "outdoors", "query": "hike OR wanderung OR escursione OR vandring OR کوهپیمایی"},
                ],
                "listening": {"keep_unmatched": True, "fetch_processes": fetch_processes},
                "nlp": {"enabled": False},
            },
        )
        settings = load_settings(config)
        start = time.perf_counter()
        summary = run_batch(settings)
        elapsed = time.perf_counter() - start
    counts = summary.counts()
    return elapsed, counts["new"], counts["fetched"]


def main() -> None:
    """Run both measurements and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--small-feeds", type=int, default=0, help="also time a batch over this many small feeds")
    parser.add_argument(
        "--fetch-processes",
        type=int,
        default=None,
        help="listening.fetch_processes for the main measurement (default: the configured default)",
    )
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    bodies = make_feeds(args.items, args.feeds)
    print(f"{args.items} items in {args.feeds} feeds, {sum(map(len, bodies)) / 1e6:.1f} MB of XML")
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports and caches, so both sides measure steady state
        whole_path(make_feeds(200, 2, seed=1), Path(tmp))
        feedparser_alone(bodies[:2])

    cpu_before = cpu_seconds()
    fp_seconds, fp_items = feedparser_alone(bodies)
    fp_cpu, cpu_before = cpu_seconds() - cpu_before, cpu_seconds()
    with tempfile.TemporaryDirectory() as tmp:
        path_seconds, new, fetched = whole_path(bodies, Path(tmp), args.fetch_processes)
    path_cpu = cpu_seconds() - cpu_before
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    fp_rate, path_rate = fp_items / fp_seconds, fetched / path_seconds
    ratio = path_rate / fp_rate
    print(f"feedparser alone : {fp_items:6d} items in {fp_seconds:6.2f} s = {fp_rate:7.0f} items/s  (baseline)")
    workers = "default" if args.fetch_processes is None else args.fetch_processes
    print(
        f"whole ingest path: {fetched:6d} items in {path_seconds:6.2f} s = {path_rate:7.0f} items/s  "
        f"({new} stored in the records and indexed; fetch_processes: {workers})"
    )
    print(
        f"ratio            : {ratio:.2f} of feedparser-alone throughput (target >= 0.50) "
        f"{'OK' if ratio >= 0.5 else 'MISSED'}"
    )
    # On a shared machine wall time depends on what else runs; CPU seconds per item much less so.
    print(
        f"CPU time         : feedparser {fp_cpu:.1f} s, whole path {path_cpu:.1f} s (all its processes): "
        f"{(fp_items / fp_cpu) / (fetched / path_cpu) if path_cpu and fp_cpu else 0:.2f}x the CPU per item; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"peak memory      : {peak_mb:.0f} MB in the earful process (target < 500) "
        f"{'OK' if peak_mb < 500 else 'MISSED'}; index server peak {index_mb:.0f} MB"
    )
    if new != fetched:
        print(f"WARNING: {fetched - new} items not indexed")
    if args.small_feeds:
        small_feeds(args.small_feeds)


def small_feeds(n_feeds: int) -> None:
    """One batch over `n_feeds` small feeds with the default fetch workers, and with none (in-process)."""
    bodies = make_feeds(5 * n_feeds, n_feeds, seed=3)
    fp_seconds, _ = feedparser_alone(bodies)
    timings = {}
    for label, processes in (
        ("default", None),
        ("2 fetch workers (fetch_processes: 2)", 2),
        ("in-process (fetch_processes: 0)", 0),
    ):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, new, fetched = whole_path(bodies, Path(tmp), processes)
        timings[label] = seconds
        print(f"{n_feeds} small feeds, {label:36s}: {seconds:6.2f} s ({fetched} items, {new} indexed)")
    default, _, in_process = timings.values()
    print(f"{n_feeds} small feeds, {'feedparser alone':36s}: {fp_seconds:6.2f} s")
    print(
        f"default / in-process: {default / in_process:.2f} (target <= 1.00) "
        f"{'OK' if default <= in_process * 1.0 else 'MISSED'}"
    )


if __name__ == "__main__":
    from bench.report import printed, record

    with printed() as lines:
        main()
    record("ingest", lines, cpu_model())
