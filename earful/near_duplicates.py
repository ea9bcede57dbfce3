"""Near-duplicate marking across sources and batches (listeners.dedupe, with earlier bands from the records DB)."""

from __future__ import annotations

from dataclasses import dataclass, field

from earful.services import Services
from earful_listeners.dedupe import BandTable, Fingerprinter, jaccard, shingles
from earful_listeners.mention import Mention
from earful_records.mentions import stored_documents
from earful_records.near_dups import find_band_owners


def mention_text(mention: Mention) -> str:
    """The text near-duplicates are judged on."""
    return f"{mention.title}\n{mention.text}"


@dataclass
class NearDuplicateFinder:
    """Marks a mention `duplicate_of` the most similar earlier mention at or above the threshold.

    Band keys propose candidates (mentions that already carry `dup_bands`, computed where they were fetched,
    keep them); shingle sets are computed only for mentions that have candidates, and kept for the batch.
    """

    services: Services
    threshold: float
    fingerprinter: Fingerprinter = field(default_factory=Fingerprinter)
    batch_table: BandTable = field(default_factory=BandTable)
    texts: dict[str, str] = field(default_factory=dict)  # this batch's mentions and earlier candidates
    _shingles: dict[str, frozenset[int]] = field(default_factory=dict)

    def _shingles_of(self, mention_id: str) -> frozenset[int]:
        if mention_id not in self._shingles:
            self._shingles[mention_id] = shingles(self.texts.get(mention_id, ""))
        return self._shingles[mention_id]

    def mark(self, mentions: list[Mention]) -> int:
        """Mark near-duplicates among `mentions` (in order) against earlier ones; returns how many."""
        unbanded = [m for m in mentions if not m.dup_bands]
        for mention, bands in zip(
            unbanded, self.fingerprinter.bands_many([mention_text(m) for m in unbanded]), strict=True
        ):
            mention.dup_bands = bands
        stored = BandTable()
        for band, owner in find_band_owners(self.services.engine, (b for m in mentions for b in m.dup_bands)):
            stored.add(owner, [band])
        earlier = {c for m in mentions for c in stored.candidates(m.dup_bands, exclude=m.id)} - self.texts.keys()
        # From the records (the system of record), so marking works while the index is away.
        self.texts.update(
            (i, f"{doc.get('title', '')}\n{doc.get('text', '')}")
            for i, doc in stored_documents(self.services.engine, sorted(earlier)).items()
        )
        count = 0
        for mention in mentions:
            if not mention.dup_bands:
                continue
            self.texts[mention.id] = mention_text(mention)
            candidates = stored.candidates(mention.dup_bands, exclude=mention.id) + self.batch_table.candidates(
                mention.dup_bands, exclude=mention.id
            )
            best_score, best = 0.0, None
            for candidate in candidates:
                score = jaccard(self._shingles_of(mention.id), self._shingles_of(candidate))
                if score > best_score:
                    best_score, best = score, candidate
            if best is not None and best_score >= self.threshold:
                mention.duplicate_of = best
                count += 1
            self.batch_table.add(mention.id, mention.dup_bands)
        return count
