"""Near-duplicate detection: MinHash over word shingles, banded for locality-sensitive lookup.

The band keys are stored on each indexed mention (`dup_bands`), so a new mention finds its near-duplicates among
earlier batches with one terms query, and within its own batch through an in-memory band table. A pair counts as
near-duplicate when enough bands agree: with r rows per band, a pair of Jaccard similarity s shares on average
bands * s**r of them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from listeners.topics import tokenize

NUM_PERM = 64
ROWS_PER_BAND = 2
BANDS = NUM_PERM // ROWS_PER_BAND
SHINGLE = 3
MIN_TOKENS = 8  # shorter texts share too many shingles by chance to call them near-duplicates


def min_shared_bands(threshold: float) -> int:
    """Bands two texts must share to count as near-duplicates at Jaccard `threshold`."""
    return max(2, round(BANDS * threshold**ROWS_PER_BAND))


def dup_bands(text: str) -> list[str]:
    """Band keys of a text's MinHash signature; empty for texts too short to compare."""
    from datasketch import MinHash

    tokens = tokenize(text)
    if len(tokens) < MIN_TOKENS:
        return []
    shingles = {" ".join(tokens[i : i + SHINGLE]).encode() for i in range(len(tokens) - SHINGLE + 1)}
    minhash = MinHash(num_perm=NUM_PERM, seed=17)
    minhash.update_batch(list(shingles))
    values = minhash.hashvalues
    keys = []
    for band in range(BANDS):
        chunk = values[band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND].tobytes()
        keys.append(f"{band:02d}{hashlib.blake2b(chunk, digest_size=6).hexdigest()}")
    return keys


@dataclass
class BandIndex:
    """In-memory band table: which earlier items carry each band key."""

    min_shared: int

    def __post_init__(self) -> None:
        self._by_band: dict[str, list[str]] = {}

    def add(self, item_id: str, bands: Iterable[str]) -> None:
        """Remember an item's bands."""
        for key in bands:
            self._by_band.setdefault(key, []).append(item_id)

    def best_match(self, bands: Sequence[str], exclude: str | None = None) -> str | None:
        """The earliest-added item sharing at least `min_shared` bands, or None."""
        shared: dict[str, int] = {}
        order: dict[str, int] = {}
        for key in bands:
            for pos, item_id in enumerate(self._by_band.get(key, ())):
                if item_id != exclude:
                    shared[item_id] = shared.get(item_id, 0) + 1
                    order.setdefault(item_id, pos)
        candidates = [item for item, count in shared.items() if count >= self.min_shared]
        return min(candidates, key=lambda item: (-shared[item], order[item])) if candidates else None
