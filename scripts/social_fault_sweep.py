"""Fault sweep of the Mastodon and Bluesky listeners: many batches against the fake APIs with random faults.

Each batch, new posts arrive (overdispersed: a negative binomial count, some Bluesky posts indexed late within the
overlap) and the fake answers some requests with a 429 (reset headers), a 5xx, a timeout or a malformed body. A
batch stores what it fetched and commits the cursor only when the fetch returned (a SourceError keeps the old
cursor), as the runner does. After the faulty batches, clean batches drain the rest; then every post that was
added must be stored (lost = 0). Re-reads (the same id fetched again after a failed or deferred batch) are counted:
they are harmless, ids are deterministic and the index only creates.

    .venv/bin/python scripts/social_fault_sweep.py [--batches 200] [--seed 7]
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model
from earful_listeners.base import SourceError
from earful_listeners.bluesky import BlueskyListener
from earful_listeners.bluesky_client import BlueskySession
from earful_listeners.bluesky_config import BlueskySettings
from earful_listeners.config import PrivacySettings
from earful_listeners.mastodon import build_mastodon_listeners
from earful_listeners.mastodon_client import make_mastodon_client
from earful_listeners.mastodon_config import MastodonSettings
from earful_listeners.mention import mention_id
from tests.fakes.fake_bluesky import IDENTIFIER, PASSWORD, FakeBluesky, post
from tests.fakes.fake_mastodon import FakeMastodon, status

OPTIONS = {"timeout": 0.2, "retries": 1, "backoff_seconds": 0.0, "max_wait_seconds": 0.0, "on_rate_limit": "defer"}


def arrivals(rng: random.Random) -> int:
    """New posts per batch: negative binomial (mean 6, variance about 40), like bursty social volume."""
    p = 0.15
    return sum(1 for _ in range(rng.randint(0, 2)) for _ in iter(lambda: rng.random() > p, False))


def script_fault(api: Any, rng: random.Random, path: str, reset_header: dict[str, str]) -> str | None:
    roll = rng.random()
    after = rng.randint(0, 2)
    if roll < 0.08:
        api.fail(429, path=path, after=after, headers=reset_header)
        return "429"
    if roll < 0.14:
        api.fail(503, path=path, after=after, times=rng.choice([1, 3]))
        return "5xx"
    if roll < 0.18:
        api.fail(200, path=path, after=after, delay=0.3, times=rng.choice([1, 3]))
        return "timeout"
    if roll < 0.21:
        api.fail(200, path=path, after=after, body='{"posts": [', headers={"content-type": "application/json"})
        return "malformed"
    return None


def sweep(
    name: str, batches: int, rng: random.Random, add, listener, api: Any, path: str, reset: dict[str, str]
) -> dict[str, Any]:
    added: set[str] = set()
    stored: set[str] = set()
    reads = rereads = failed = 0
    faults: dict[str, int] = {}
    cursor: dict[str, Any] | None = None
    n = 0
    started = time.perf_counter()
    for _batch in range(batches):
        for _ in range(arrivals(rng)):
            n += 1
            added.add(add(n, rng))
        fault = script_fault(api, rng, path, reset)
        if fault:
            faults[fault] = faults.get(fault, 0) + 1
        try:
            result = listener.fetch(cursor)
        except SourceError:
            failed += 1
            api._faults.clear()  # noqa: SLF001 - an unused scripted fault must not leak into the next batch
            continue
        api._faults.clear()  # noqa: SLF001
        for mention in result.mentions:
            reads += 1
            if mention.id in stored:
                rereads += 1
            stored.add(mention.id)
        cursor = result.cursor  # committed after "storing"
    drain = empty = 0
    for drain in range(1, 300):  # noqa: B007 - reported after the loop; clean batches drain what was deferred, until 10 batches in a row find nothing
        result = listener.fetch(cursor)
        stored |= {m.id for m in result.mentions}
        empty = 0 if result.mentions else empty + 1
        cursor = result.cursor
        if empty >= 10:
            break
    return {
        "network": name,
        "batches": batches,
        "posts": len(added),
        "stored": len(stored & added),
        "lost": len(added - stored),
        "foreign": len(stored - added),
        "re-reads": rereads,
        "reads": reads,
        "failed batches": failed,
        "drain batches": drain,
        "faults": faults,
        "requests": len(api.requests),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"cpu: {cpu_model()}, python {platform.python_version()}")
    privacy = PrivacySettings()

    rng = random.Random(args.seed)
    masto = FakeMastodon(access_token="t")
    with masto.serve() as url:
        settings = MastodonSettings(
            instances={"ex": {"url": url}}, topics={"t": {"hashtags": ["acme"]}}, page_size=5, max_pages=3, **OPTIONS
        )
        client = make_mastodon_client(url, "t", settings)
        [listener], _ = build_mastodon_listeners(settings, privacy, {"ex": (client, True)}, {})

        def add_status(n: int, rng: random.Random) -> str:
            item = status(n, author=1 + rng.randint(0, 5))
            masto.add_status(item)
            return mention_id("mastodon", item["uri"])

        reset = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"}
        print(sweep("mastodon", args.batches, rng, add_status, listener, masto, "/api/v1/timelines/tag/acme", reset))

    rng = random.Random(args.seed)
    sky = FakeBluesky(IDENTIFIER, PASSWORD)
    with sky.serve() as url:
        settings = BlueskySettings(
            service_url=url,
            public_url=url,
            identifier=IDENTIFIER,
            topics={"t": ["acme"]},
            page_size=5,
            max_pages=3,
            overlap_seconds=120,
            **OPTIONS,
        )
        listener = BlueskyListener("acme", None, BlueskySession(settings, PASSWORD), settings, privacy)

        def add_post(n: int, rng: random.Random) -> str:
            # one in five is indexed late: created up to 60 s before the posts already there
            item = post(
                n, author=1 + rng.randint(0, 5), minute=max(0, n - rng.randint(0, 60)) if rng.random() < 0.2 else n
            )
            sky.add_post(item)
            return mention_id("bluesky", item["uri"])

        reset = {"ratelimit-remaining": "0", "ratelimit-reset": "4070908800"}
        print(sweep("bluesky", args.batches, rng, add_post, listener, sky, "/xrpc/app.bsky.feed.searchPosts", reset))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
