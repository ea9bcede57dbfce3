"""Near-duplicate detection: MinHash LSH finds candidates, the exact Jaccard similarity of word shingles decides.

Each text gets BANDS band keys (ROWS_PER_BAND MinHash values each). Two texts that share any band key are
candidates; a candidate is a near-duplicate when the Jaccard similarity of their 3-word shingle sets reaches the
threshold. With 8 bands of 3 rows, a pair at similarity 0.6 becomes a candidate with probability 0.86, at 0.7 with
0.98. Band keys of indexed mentions are kept by the caller (records.near_dups) for later batches.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from earful_listeners.topics import tokenize

ROWS_PER_BAND = 3
BANDS = 8
NUM_PERM = ROWS_PER_BAND * BANDS
SHINGLE = 3
MIN_TOKENS = 8  # shorter texts share too many shingles by chance to call them near-duplicates
MAX_CANDIDATES_PER_BAND = 10  # bounds the work on a very repetitive stream (a bot wave); earliest items win
BAND_POSITION_SHIFT = 56  # above the 7-byte hash of the band's rows
_PRIME = (1 << 31) - 1


def shingles(text: str) -> frozenset[int]:
    """CRC-32 hashes of the text's 3-word shingles; empty for texts too short to compare."""
    tokens = tokenize(text)
    if len(tokens) < MIN_TOKENS:
        return frozenset()
    return frozenset(zlib.crc32(" ".join(tokens[i : i + SHINGLE]).encode()) for i in range(len(tokens) - SHINGLE + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class Fingerprinter:
    """Computes band keys: MinHash with universal hashing over CRC-32 shingle hashes, vectorised with NumPy.

    Hand-written rather than datasketch's per-shingle SHA-1: this runs on every fetched item, and the ingest path
    must keep up with feedparser.
    """

    def __init__(self, seed: int = 17) -> None:
        import numpy as np

        rng = np.random.default_rng(seed)
        self._a = rng.integers(1, _PRIME, size=NUM_PERM, dtype=np.uint64)
        self._b = rng.integers(0, _PRIME, size=NUM_PERM, dtype=np.uint64)

    def bands(self, text: str) -> list[int]:
        """The band keys of a text (the band's position in the bits from 56 up, a 56-bit hash of its rows below:
        records.near_dups stores them as integers); empty for texts too short to compare."""
        return self.bands_many([text])[0]

    def bands_many(self, texts: list[str]) -> list[list[int]]:
        """`bands` of many texts, with one NumPy pass over all their shingles: per-text NumPy calls cost more
        than the arithmetic on ingest-sized batches. The keys are the same as one text at a time."""
        import numpy as np

        hashed = [shingles(text) for text in texts]
        sizes = [len(h) for h in hashed]
        keys: list[list[int]] = [[] for _ in texts]
        if not any(sizes):
            return keys
        values = np.fromiter((x for h in hashed for x in h), dtype=np.uint64, count=sum(sizes))
        # (a*x + b) mod p with x < 2**32 and a, b < 2**31: the product stays below 2**63, no overflow.
        hashes = (values[:, None] * self._a[None, :] + self._b[None, :]) % _PRIME
        filled = [i for i, size in enumerate(sizes) if size]
        starts = np.cumsum([0] + [sizes[i] for i in filled[:-1]])
        signatures = np.minimum.reduceat(hashes, starts, axis=0)
        blake2b, from_bytes = hashlib.blake2b, int.from_bytes
        for i, signature in zip(filled, signatures, strict=True):
            rows = np.ascontiguousarray(signature.reshape(BANDS, ROWS_PER_BAND))
            keys[i] = [
                (b << BAND_POSITION_SHIFT) | from_bytes(blake2b(rows[b].tobytes(), digest_size=7).digest())
                for b in range(BANDS)
            ]
        return keys


@dataclass
class BandTable:
    """In-memory band table: which earlier items carry each band key, in the order they were added."""

    _by_band: dict[int, list[str]] = field(default_factory=dict)

    def add(self, item_id: str, bands: Iterable[int]) -> None:
        """Remember an item's bands; a band keeps only its earliest items (the originals of later copies)."""
        for key in bands:
            items = self._by_band.setdefault(key, [])
            if len(items) < MAX_CANDIDATES_PER_BAND and item_id not in items:
                items.append(item_id)

    def candidates(self, bands: Iterable[int], exclude: str | None = None) -> list[str]:
        """Items sharing any band, earliest first."""
        found: dict[str, None] = {}
        for key in bands:
            for item_id in self._by_band.get(key, ()):
                if item_id != exclude:
                    found.setdefault(item_id)
        return list(found)
