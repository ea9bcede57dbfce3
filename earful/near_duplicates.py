"""Near-duplicate marking across sources and batches (listeners.dedupe, with earlier bands from the records DB)."""

from __future__ import annotations

from dataclasses import dataclass, field

from earful.services import Services
from indexer.search import mention_texts
from listeners.dedupe import BandTable, Fingerprint, Fingerprinter, jaccard
from listeners.mention import Mention
from records.near_dups import find_band_owners


def _text(mention: Mention) -> str:
    return f"{mention.title}\n{mention.text}"


@dataclass
class NearDuplicateFinder:
    """Marks a mention `duplicate_of` the most similar earlier mention at or above the threshold."""

    services: Services
    threshold: float
    fingerprinter: Fingerprinter = field(default_factory=Fingerprinter)
    batch_table: BandTable = field(default_factory=BandTable)
    known: dict[str, Fingerprint] = field(default_factory=dict)  # this batch's mentions and fetched earlier ones

    def mark(self, mentions: list[Mention]) -> int:
        """Mark near-duplicates among `mentions` (in order) against earlier ones; returns how many."""
        prints = {m.id: fp for m in mentions if (fp := self.fingerprinter.fingerprint(_text(m))) is not None}
        stored = BandTable()
        for band, owner in find_band_owners(self.services.engine, (b for fp in prints.values() for b in fp.bands)):
            stored.add(owner, [band])
        earlier = {c for mid, fp in prints.items() for c in stored.candidates(fp.bands, exclude=mid)} - self.known.keys()
        for doc_id, text in mention_texts(self.services.es, self.services.alias, sorted(earlier)).items():
            fingerprint = self.fingerprinter.fingerprint(text)
            if fingerprint is not None:
                self.known[doc_id] = fingerprint
        count = 0
        for mention in mentions:
            fp = prints.get(mention.id)
            if fp is None:
                continue
            mention.dup_bands = list(fp.bands)
            candidates = stored.candidates(fp.bands, exclude=mention.id) + self.batch_table.candidates(
                fp.bands, exclude=mention.id
            )
            best_score, best = 0.0, None
            for candidate in candidates:
                other = self.known.get(candidate)
                score = jaccard(fp.shingles, other.shingles) if other else 0.0
                if score > best_score:
                    best_score, best = score, candidate
            if best is not None and best_score >= self.threshold:
                mention.duplicate_of = best
                count += 1
            self.batch_table.add(mention.id, fp.bands)
            self.known[mention.id] = fp
        return count
