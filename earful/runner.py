"""One listening batch: fetch -> topics -> language -> dedupe -> classify -> store with cursor -> index -> hooks.

Every source runs on its own: a source that fails is reported and the others go on. A source's new mentions
and its cursor are written to the records database in one transaction (the system of record): a crash before
it refetches the same items next time; after it, they are durable, and whatever the index did not take is
replayed into it (earful.index_sync). Deterministic ids and `create` keep a mention from being indexed twice.

The batch is a pipeline: with many feeds, worker processes fetch and parse a few sources ahead (CPU-bound
Python that would otherwise hold the GIL); the main thread prepares source n+1 (language, topics,
near-duplicates) while a worker thread stores source n (look-ups, classification, the records commit, bulk
indexing: work that waits on the databases or runs in torch without the GIL). Sources are stored in the order they
were prepared, so the outcome does not depend on timing.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from earful.annotate import annotate, compile_topics
from earful.enrich import Enricher, load_enricher
from earful.fetch_pool import fetch_in_worker, fetch_pool
from earful.hooks import BatchContext, post_index_hooks
from earful.index_sync import IndexSync, describe_unreachable
from earful.near_duplicates import NearDuplicateFinder
from earful.operational import first_line
from earful.progress import count_progress
from earful.services import Services, open_services
from earful.settings import Settings
from earful.sources import build_listeners
from earful.summary import BatchSummary, SourceResult
from earful_indexer.client import unreachable_errors
from earful_indexer.search import read_mentions
from earful_listeners.base import FetchResult, Listener, SourceError
from earful_listeners.mention import Mention
from earful_listeners.topics import CompiledTopic
from earful_records.batch_runs import record_batch
from earful_records.cursors import load_cursor
from earful_records.mentions import commit_source, known_ids, stored_documents
from earful_records.pending import clear_pending, drop_stale, ready_for_hooks

log = logging.getLogger(__name__)


@dataclass
class PreparedSource:
    """A source after the first stage: its mentions ready to store, and the cursor to commit once stored."""

    result: SourceResult
    mentions: list[Mention] = field(default_factory=list)
    cursor: dict[str, Any] | None = None
    fetched_ok: bool = False


def prepare_source(
    services: Services,
    listener: Listener,
    topics: list[CompiledTopic],
    near_dups: NearDuplicateFinder,
    fetch: Callable[[], FetchResult] | None = None,
) -> PreparedSource:
    """Stage one: fetch since the cursor (or take `fetch`'s result), normalize, detect language, match topics,
    mark near-duplicates."""
    settings = services.settings
    prepared = PreparedSource(SourceResult(source=listener.source_id, kind=listener.source_kind))
    result = prepared.result
    try:
        fetched = fetch() if fetch else listener.fetch(load_cursor(services.engine, listener.source_id))
    except SourceError as exc:
        result.errors.append(exc.message)
        return prepared
    prepared.fetched_ok, prepared.cursor = True, fetched.cursor
    result.notes.extend(fetched.notes)
    result.errors.extend(fetched.item_errors)
    result.fetched = len(fetched.mentions)
    unique: dict[str, Mention] = {}
    for mention in fetched.mentions:
        unique.setdefault(mention.id, mention)  # a source listing one item twice
    candidates = list(unique.values())
    if not fetched.annotated:
        annotate(candidates, topics, settings.listening.min_chars_for_language, fingerprinter=None)
    if not settings.listening.keep_unmatched:
        result.off_topic = sum(1 for m in candidates if not m.topics)
        candidates = [m for m in candidates if m.topics]
    result.near_duplicates = near_dups.mark(candidates)
    prepared.mentions = candidates
    return prepared


def records_failure(exc: Exception, what: str) -> str:
    """One line for a records database that failed while doing `what` (full disk, read-only...), no traceback."""
    text = first_line(str(getattr(exc, "orig", None) or exc))
    full = any(word in text.lower() for word in ("disk is full", "no space left", "disk full", "database or disk"))
    return f"records database {'full' if full else 'failed'} while {what} ({text})"


def storage_failure(exc: Exception) -> str:
    """The line of a source whose mentions could not be stored."""
    return records_failure(exc, "storing") + ": not stored, cursor kept (fetched again next run)"


def store_source(
    services: Services,
    prepared: PreparedSource,
    enricher: Enricher | None,
    sync: IndexSync | None = None,
) -> list[Mention]:
    """Stage two: classify what is not stored yet, store it and move the cursor in one transaction, then index it.

    The records database is the system of record: once the transaction commits, the mentions are durable whatever
    happens to the index; what the index does not take now stays in the outbox and is replayed (`IndexSync`).
    The near-duplicate band keys of the new mentions go in the same transaction. Returns the mentions stored for
    the first time."""
    result = prepared.result
    if not prepared.fetched_ok:
        return []
    sync = sync or IndexSync(services)
    candidates = prepared.mentions
    seen = known_ids(services.engine, [m.id for m in candidates])  # stored by an earlier batch: not new
    candidates = [m for m in candidates if m.id not in seen]
    result.already_seen = len(seen)
    if enricher is not None:  # classified before storing: the record keeps the labels, so a re-index needs no model
        enricher.enrich(candidates)
    documents = [(m.id, m.to_document()) for m in candidates]
    marks = sync.take_marks()  # what the index took of earlier sources, noted in this transaction
    try:
        stored_ids = set(
            commit_source(
                services.engine,
                result.source,
                prepared.cursor,
                documents,
                [(m.id, m.dup_bands) for m in candidates],
                acknowledged=marks,
            )
        )
    except SQLAlchemyError as exc:  # the summary says it in one line; nothing moved
        sync.keep_marks(marks)
        result.errors.append(storage_failure(exc))
        result.store_failed = True
        return []
    result.cursor_committed = True
    stored = [m for m in candidates if m.id in stored_ids]
    result.already_seen += len(candidates) - len(stored)  # stored meanwhile by another batch
    result.new = len(stored)
    result.topics = Counter(topic for m in stored for topic in m.topics)
    result.languages = Counter(m.language for m in stored)
    try:
        written = sync.write([doc for doc in documents if doc[0] in stored_ids])
    except SQLAlchemyError as exc:  # stored, and maybe indexed: left in the outbox, a replay finds them there
        result.errors.append(records_failure(exc, "noting what the index took") + ": stored; checked next run")
        result.awaiting_index = len(stored)
        return stored
    result.indexed, result.awaiting_index = written.indexed, written.deferred
    result.errors.extend(
        f"mention {doc_id}: index refused it (stored; indexed again next run): {reason}"
        for doc_id, reason in written.refused.items()
    )
    return stored


T = TypeVar("T")


def _guarded(stage: str, result: SourceResult, work: Callable[..., T], *args: object) -> T | None:
    """Run one stage of one source; an unexpected error is reported on that source, not raised."""
    try:
        return work(*args)
    except Exception as exc:  # one broken source must not stop the others
        log.exception("source %s failed while %s", result.source, stage)
        result.errors.append(f"unexpected error while {stage}: {type(exc).__name__}: {exc}")
        return None


EARLIER_HOOKS_PER_BATCH = 10_000


def run_hooks_over_pending(
    services: Services,
    batch_mentions: list[Mention],
    started: datetime,
    console: Console,
    batch_ids: Collection[str] = (),
) -> tuple[dict[str, int], list[str], int]:
    """Run the post-index hooks over every indexed mention waiting for them: this batch's, and any an earlier batch
    stored but did not finish. A mention the index does not have yet keeps waiting. Marks are cleared only when
    every hook succeeded.

    `batch_ids`: this batch's mentions that are not in `batch_mentions` (an Airflow run hands on ids only; they
    are read back from the index), so that only the others count as "mentions from an unfinished batch".
    Returns the hooks' counts, their errors, and how many mentions they ran over."""
    ready = ready_for_hooks(services.engine)
    known = {m.id: m for m in batch_mentions}
    this_batch = set(known) | set(batch_ids)
    # Every one of this batch's; of earlier batches' (read back from the records) the oldest, up to a bound.
    earlier = [mention_id for mention_id in ready if mention_id not in known][:EARLIER_HOOKS_PER_BATCH]
    found = {
        mention_id: mention_from_document(mention_id, doc)
        for mention_id, doc in stored_documents(services.engine, earlier).items()
    }
    legacy = [mention_id for mention_id in earlier if mention_id not in found]  # marked by an earlier version
    if legacy and services.es is not None:
        try:
            found.update((m.id, m) for m in read_mentions(services.es, services.alias, legacy))
        except unreachable_errors():  # they wait for the next batch
            pass
    mentions = [
        known.get(mention_id) or found[mention_id] for mention_id in ready if mention_id in known or mention_id in found
    ]
    context = BatchContext(services=services, new_mentions=mentions, started_at=started, console=console)
    counts: Counter[str] = Counter()
    errors: list[str] = []
    for name, hook in post_index_hooks(services):
        try:
            counts.update(hook(context) or {})
        except Exception as exc:  # the mentions are stored; a failing hook is reported, and runs again next batch
            log.exception("post-index hook %s failed", name)
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    if not errors:
        clear_pending(services.engine, [m.id for m in mentions])
        drop_stale(services.engine)
    if unfinished := sum(1 for m in mentions if m.id not in this_batch):
        counts["mentions from an unfinished batch"] = unfinished
    return dict(counts), errors, len(mentions)


def mention_from_document(mention_id: str, doc: dict[str, Any]) -> Mention:
    """A Mention rebuilt from its stored (or indexed) document."""
    return Mention(id=mention_id, **{k: v for k, v in doc.items() if k in Mention.model_fields})


def fetch_processes(settings: Settings, listeners: list[Listener]) -> int:
    """How many processes fetch and parse beside the batch (0: all in this process)."""
    movable = sum(1 for listener in listeners if getattr(listener, "fetch_in_subprocess", False))
    configured = settings.listening.fetch_processes
    if configured is None:
        # One worker already pipelines parsing against the batch's storing and indexing: on two cores it made
        # 2,000 small feeds 1.2x and 40 large ones 1.15x as fast as parsing in the batch's process (bench/ingest.py),
        # while two workers on two cores competed with the storing thread and the index server (1.5x slower).
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(2, cores - 2)) if movable >= 8 and cores >= 2 else 0
    return min(configured, movable)


class Prefetcher:
    """Fetches sources ahead of the batch in worker processes (those that allow it), a few sources in advance.

    When the batch reaches a source no worker has started yet, it fetches that source itself instead of waiting
    (work stealing): with small feeds the batch is never slower than without workers, with large ones the workers
    parse ahead while it stores."""

    def __init__(self, services: Services, listeners: list[Listener], processes: int, ahead: int | None = None) -> None:
        # Far enough ahead that a worker always has a source queued; the batch takes back any not started yet.
        self.services, self.listeners, self.ahead = services, listeners, ahead or 4 * max(processes, 1)
        self.futures: dict[int, Future[FetchResult]] = {}
        listening = services.settings.listening
        self.pool = (
            fetch_pool(processes, services.settings.topics, listening.min_chars_for_language) if processes else None
        )

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, index: int) -> None:
        listener = self.listeners[index]
        if self.pool is None or index in self.futures or not getattr(listener, "fetch_in_subprocess", False):
            return
        cursor = load_cursor(self.services.engine, listener.source_id)
        self.futures[index] = self.pool.submit(fetch_in_worker, listener, cursor)

    def fetch_for(self, index: int) -> Callable[[], FetchResult] | None:
        """The fetch of source `index` (already running in a worker process), or None to fetch in-process.

        A worker that died (killed, out of memory) breaks the pool: its sources, and the rest, are fetched in
        this process instead."""
        try:
            for ahead in range(index, min(index + self.ahead, len(self.listeners))):
                self._submit(ahead)
        except BrokenProcessPool:
            self._drop_pool()
        future = self.futures.pop(index, None)
        if future is None:
            return None
        if not future.done() and future.cancel():  # no worker has started it: fetching it here beats waiting
            return None
        listener = self.listeners[index]

        def result() -> FetchResult:
            try:
                return future.result()
            except BrokenProcessPool:
                log.warning("a fetch worker process died; fetching %s in the batch's process", listener.source_id)
                self._drop_pool()
                return listener.fetch(load_cursor(self.services.engine, listener.source_id))

        return result

    def _drop_pool(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


def run_batch(settings: Settings, console: Console | None = None) -> BatchSummary:
    """Run one batch over every configured source and the post-index hooks; returns the summary."""
    console = console or Console(quiet=True)
    started = datetime.now(UTC)
    topics = compile_topics(settings.topics)
    enricher = load_enricher(settings, console)  # fails at start-up, not mid-batch, if a model is unusable
    with open_services(settings, index_optional=True) as services:
        plan = build_listeners(settings, services.engine)
        summary = BatchSummary(started_at=started, skipped=list(plan.skipped))
        sync = IndexSync(services, unreachable=services.index_error, defer_marks=True)
        try:  # before this batch writes: what an earlier run's index lost goes back to the outbox
            sync.verify_acknowledged()
        except SQLAlchemyError as exc:
            summary.batch_errors.append(records_failure(exc, "checking the index against the records"))
        near_dups = NearDuplicateFinder(services, settings.listening.near_duplicate_threshold)
        new_mentions: list[Mention] = []
        progress = count_progress(console)
        prefetch = Prefetcher(services, plan.listeners, fetch_processes(settings, plan.listeners))
        with progress, prefetch, ThreadPoolExecutor(max_workers=1, thread_name_prefix="earful-store") as store:
            task = progress.add_task("sources", total=len(plan.listeners))
            pending: list[tuple[SourceResult, Future[list[Mention] | None]]] = []
            for index, listener in enumerate(plan.listeners):
                progress.update(task, description=f"[cyan]{listener.source_id}")
                result = SourceResult(listener.source_id, listener.source_kind)
                prepared = _guarded(
                    "fetching", result, prepare_source, services, listener, topics, near_dups, prefetch.fetch_for(index)
                )
                if prepared is None:
                    prepared = PreparedSource(result)
                future = store.submit(
                    _guarded, "storing", prepared.result, store_source, services, prepared, enricher, sync
                )
                future.add_done_callback(lambda _f: progress.advance(task))
                pending.append((prepared.result, future))
            for result, future in pending:
                summary.sources.append(result)
                new_mentions.extend(future.result() or [])
        plan.close()
        finish_batch(services, sync, summary, new_mentions, console)
    return summary


def finish_batch(
    services: Services, sync: IndexSync, summary: BatchSummary, new_mentions: list[Mention], console: Console
) -> None:
    """After the sources: replay what the index does not have yet, run the hooks, record the batch."""
    summary.awaiting_index = sum(s.awaiting_index for s in summary.sources)
    try:
        summary.awaiting_index = sync.replay_unindexed().deferred
        if sync.unreachable is None:
            services.es.indices.refresh(index=services.alias)  # searchable for the hooks and the next batch
    except unreachable_errors() as exc:
        sync.unreachable = describe_unreachable(exc)
    except SQLAlchemyError as exc:
        summary.batch_errors.append(records_failure(exc, "replaying unindexed mentions"))
    summary.index_unreachable, summary.replayed = sync.unreachable, sync.replayed
    summary.lost_by_index = sync.lost_and_requeued
    try:
        counts, errors, _ = run_hooks_over_pending(services, new_mentions, summary.started_at, console)
        summary.hook_counts.update(counts)
        summary.hook_errors.extend(errors)
    except SQLAlchemyError as exc:  # the hooks' marks stay: they run next batch
        summary.batch_errors.append(records_failure(exc, "running the post-index hooks"))
    summary.finished_at = datetime.now(UTC)
    try:
        record_batch(services.engine, summary.started_at, summary.finished_at, summary.status, summary.counts())
    except SQLAlchemyError as exc:
        summary.batch_errors.append(records_failure(exc, "recording the batch"))
