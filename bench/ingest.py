"""Ingest benchmark: generated feeds through fetch, parse, topics, language, dedupe and bulk indexing.

Prints items per second and peak memory of the whole ingest path (no classification), next to the time
feedparser alone needs to parse the same feeds, measured in the same run. Targets: at least half of
feedparser-alone throughput, peak memory under 500 MB.

    .venv/bin/python bench/ingest.py [--items 20000] [--feeds 40]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers.feeds import rss  # noqa: E402
from tests.helpers.http_server import Route, scripted_server  # noqa: E402

PHRASES = {
    "en": ["Acme boots fell apart after two weeks", "the support team of Acme never answered my refund request",
           "NordPeak jackets are warm and cheap", "great hike today with friends in the mountains",
           "delivery from Acme took three weeks again", "the new store opened downtown with a climbing wall"],
    "de": ["Die Stiefel von Acme sind nach zwei Wochen kaputt", "der Kundenservice von Acme antwortet nicht",
           "schöne Wanderung heute bei Sonnenschein", "die Lieferung von Acme kam viel zu spät"],
    "it": ["gli scarponi Acme si sono rotti dopo due settimane", "l'assistenza clienti di Acme non risponde",
           "bellissima escursione oggi in montagna", "il rimborso di Acme non è mai arrivato"],
    "sv": ["kängorna från Acme gick sönder efter två veckor", "Acme kundtjänst svarar inte på mina mejl",
           "fin vandring idag i fjällen", "leveransen från Acme är försenad igen"],
    "fa": ["پوتین‌های Acme بعد از دو هفته خراب شد", "پشتیبانی Acme به درخواست بازپرداخت پاسخ نمی‌دهد",
           "امروز کوهپیمایی خیلی خوبی داشتیم", "ارسال سفارش از Acme خیلی طول کشید"],
}


def make_feeds(n_items: int, n_feeds: int, seed: int = 7) -> list[bytes]:
    """Feeds of generated multilingual items (some repeated across feeds, as syndication does)."""
    rng = random.Random(seed)
    langs = list(PHRASES)
    feeds: list[list[dict[str, str]]] = [[] for _ in range(n_feeds)]
    for n in range(n_items):
        lang = langs[n % len(langs)]
        words = " ".join(rng.choice(PHRASES[lang]) for _ in range(rng.randint(2, 4)))
        html = f"<p>{words}.</p><p>Post {n} <b>#{rng.randint(1, 10**6)}</b></p>"
        feeds[n % n_feeds].append({
            "title": f"{PHRASES[lang][n % len(PHRASES[lang])][:40]} ({n})",
            "link": f"https://bench.example/{lang}/{n}", "guid": f"bench-{n}", "description": html,
            "pubDate": f"Thu, 19 Nov 2026 {n % 24:02d}:{n % 60:02d}:00 GMT",
        })
    return [rss(items, title=f"bench feed {i}") for i, items in enumerate(feeds)]


def feedparser_alone(bodies: list[bytes]) -> tuple[float, int]:
    """Seconds feedparser needs to parse all bodies, and the number of items it found."""
    import feedparser

    start = time.perf_counter()
    items = sum(len(feedparser.parse(body).entries) for body in bodies)
    return time.perf_counter() - start, items


def whole_path(bodies: list[bytes], data_dir: Path) -> tuple[float, int, int]:
    """Seconds for one batch over all feeds served on 127.0.0.1 (embedded index), new and fetched counts."""
    from earful.runner import run_batch
    from earful.settings import load_settings
    from tests.conftest import write_config

    with scripted_server() as srv:
        for i, body in enumerate(bodies):
            srv.routes[f"/feed{i}"] = Route(body=body)
        config = write_config(data_dir / "earful.yaml", {
            "data_dir": str(data_dir / "data"),
            "sources": {"rss": {"feeds": [{"name": f"feed{i}", "url": srv.url(f"/feed{i}")}
                                          for i in range(len(bodies))], "max_bytes": 50_000_000}},
            "topics": [{"name": "acme", "query": "acme OR nordpeak"},
                       {"name": "service", "query": "acme AND (support OR kundenservice OR assistenza OR kundtjänst "
                                                    "OR پشتیبانی OR refund* OR rimborso)"},
                       {"name": "outdoors", "query": "hike OR wanderung OR escursione OR vandring OR کوهپیمایی"}],
            "listening": {"keep_unmatched": True},
            "nlp": {"enabled": False},
        })
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
    args = parser.parse_args()
    bodies = make_feeds(args.items, args.feeds)
    print(f"{args.items} items in {args.feeds} feeds, {sum(map(len, bodies)) / 1e6:.1f} MB of XML")
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports and caches, so both sides measure steady state
        whole_path(make_feeds(200, 2, seed=1), Path(tmp))
        feedparser_alone(bodies[:2])

    fp_seconds, fp_items = feedparser_alone(bodies)
    with tempfile.TemporaryDirectory() as tmp:
        path_seconds, new, fetched = whole_path(bodies, Path(tmp))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    fp_rate, path_rate = fp_items / fp_seconds, fetched / path_seconds
    ratio = path_rate / fp_rate
    print(f"feedparser alone : {fp_items:6d} items in {fp_seconds:6.2f} s = {fp_rate:7.0f} items/s  (baseline)")
    print(f"whole ingest path: {fetched:6d} items in {path_seconds:6.2f} s = {path_rate:7.0f} items/s  "
          f"({new} indexed)")
    print(f"ratio            : {ratio:.2f} of feedparser-alone throughput (target >= 0.50) "
          f"{'OK' if ratio >= 0.5 else 'MISSED'}")
    print(f"peak memory      : {peak_mb:.0f} MB in the earful process (target < 500) "
          f"{'OK' if peak_mb < 500 else 'MISSED'}; index server peak {index_mb:.0f} MB")
    if new != fetched:
        print(f"WARNING: {fetched - new} items not indexed")


if __name__ == "__main__":
    main()
