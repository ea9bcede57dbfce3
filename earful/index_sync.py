"""Keeping the index in step with the mentions store (the system of record): write, verify, replay, rebuild.

Mentions reach the index only after they are stored with their source's cursor. What the index acknowledged is
checked again by the next run (`verify_acknowledged`): the embedded server acknowledges before it persists, and
loses the write if it is killed. What did not land (index down, a crash, a refused document) stays in the
outbox (index state 0) and is replayed (`replay_unindexed`). Ids are deterministic and indexing uses `create`,
so a replay never doubles a mention.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from earful.operational import index_reason
from earful.services import Services
from earful_indexer.bulk import existing_ids, index_documents
from earful_indexer.client import unreachable_errors
from earful_records.mentions import (
    ACKNOWLEDGED,
    UNINDEXED,
    VERIFIED,
    Document,
    count_by_state,
    iter_documents,
    iter_ids,
    set_index_state,
)

log = logging.getLogger(__name__)


def describe_unreachable(exc: Exception) -> str:
    """One line on why the index could not take a request."""
    return f"index unreachable: {index_reason(exc)}"


@dataclass
class IndexWrite:
    """What one write did: how many landed, how many wait in the outbox, and the documents the index refused."""

    indexed: int = 0
    deferred: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # mention id -> reason


@dataclass
class IndexSync:
    """Writes stored mentions to the index and records what landed. Once the index is found unreachable, the rest
    of the batch stores without trying (the reason is in `unreachable`)."""

    services: Services
    unreachable: str | None = None
    replayed: int = 0
    lost_and_requeued: int = 0  # acknowledged by the index in an earlier run, but not there now
    # A batch notes what the index took in its next storing transaction (`take_marks`) instead of one of its own:
    # one commit (an fsync) per source, not two. Until noted, a mention stays in the outbox; if the batch dies
    # first, the next run replays it and the index answers that it has it already.
    defer_marks: bool = False
    _marks: list[str] = field(default_factory=list)

    def _fail(self, exc: Exception) -> None:
        self.unreachable = describe_unreachable(exc)
        log.warning("index unreachable, indexing deferred: %s", self.unreachable)

    def write(self, documents: list[tuple[str, Document]]) -> IndexWrite:
        """Index stored documents; those that did not land stay in the outbox for the next run."""
        if not documents:
            return IndexWrite()
        if self.unreachable is not None or self.services.es is None:
            return IndexWrite(deferred=len(documents))
        try:
            outcome = index_documents(
                self.services.es, self.services.alias, documents, self.services.settings.index.bulk_chunk_size
            )
        except unreachable_errors() as exc:
            self._fail(exc)
            return IndexWrite(deferred=len(documents))
        landed = outcome.created + outcome.already_present  # already there: an earlier write landed after all
        if self.defer_marks:
            self._marks.extend(landed)
        else:
            set_index_state(self.services.engine, landed, ACKNOWLEDGED)
        return IndexWrite(indexed=len(landed), deferred=len(outcome.errors), refused=dict(outcome.errors))

    def take_marks(self) -> list[str]:
        """The mentions the index took that are not noted yet (`defer_marks`); the caller notes them."""
        marks, self._marks = self._marks, []
        return marks

    def keep_marks(self, marks: list[str]) -> None:
        """Marks taken but not noted after all (the transaction failed): noted later."""
        self._marks.extend(marks)

    def flush_marks(self) -> None:
        """Note every deferred mark now, in a transaction of its own."""
        marks = self.take_marks()
        try:
            set_index_state(self.services.engine, marks, ACKNOWLEDGED)
        except Exception:
            self.keep_marks(marks)
            raise

    def verify_acknowledged(self) -> int:
        """Check that every mention the index acknowledged in an earlier run is in it, and put back in the outbox
        those that are not; if the index then holds fewer mentions than the records say it should (its files were
        lost or damaged), check the verified ones too. Returns how many were put back. Run before this run writes
        anything."""
        if self.unreachable is not None or self.services.es is None:
            return 0
        es, alias = self.services.es, self.services.alias
        try:
            es.indices.refresh(index=alias)
            missing = self._check(ACKNOWLEDGED)
            states = count_by_state(self.services.engine)
            if int(es.count(index=alias)["count"]) < states.get(ACKNOWLEDGED, 0) + states.get(VERIFIED, 0):
                missing += self._check(VERIFIED)
        except unreachable_errors() as exc:
            self._fail(exc)
            return 0
        if missing:
            log.warning("%d mentions the index had acknowledged were not in it; indexing them again", missing)
        self.lost_and_requeued += missing
        return missing

    def _check(self, state: int) -> int:
        """Look up every mention in `state` in the index: present ones become VERIFIED, missing ones UNINDEXED."""
        missing_total = 0
        for ids in iter_ids(self.services.engine, state):
            present = existing_ids(self.services.es, self.services.alias, ids)
            missing = [i for i in ids if i not in present]
            if state != VERIFIED:
                set_index_state(self.services.engine, sorted(present), VERIFIED)
            set_index_state(self.services.engine, missing, UNINDEXED)
            missing_total += len(missing)
        return missing_total

    def replay_unindexed(self, progress: Callable[[int], None] | None = None) -> IndexWrite:
        """Index every stored mention still in the outbox (this batch's deferred ones and any earlier run's)."""
        total = IndexWrite()
        self.flush_marks()  # what this batch indexed already is not replayed
        for page in iter_documents(self.services.engine, state=UNINDEXED):
            if self.unreachable is not None:
                break
            done = self.write(page)
            total.indexed += done.indexed
            total.refused.update(done.refused)
            if progress is not None:
                progress(len(page))
        self.replayed += total.indexed
        self.flush_marks()
        total.deferred = self.awaiting()
        return total

    def awaiting(self) -> int:
        """Stored mentions that are not in the index yet."""
        return count_by_state(self.services.engine).get(UNINDEXED, 0)
