"""One listening batch: fetch -> topics -> language -> dedupe -> classify -> index -> commit cursors -> hooks.

Every source runs on its own: a source that fails is reported and the others go on. A source's cursor moves
only after the index accepted all of its new mentions, so a crash anywhere before that refetches the same items
next time, and their deterministic ids keep them from being indexed twice.

The batch is a pipeline: with many feeds, worker processes fetch and parse a few sources ahead (CPU-bound
Python that would otherwise hold the GIL); the main thread prepares source n+1 (language, topics,
near-duplicates) while a worker thread stores source n (index look-ups, classification, bulk indexing, cursor
commit: work that waits on the index or runs in torch without the GIL). Sources are stored in the order they
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
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from earful.annotate import annotate, compile_topics
from earful.enrich import Enricher, load_enricher
from earful.fetch_pool import fetch_in_worker, fetch_pool
from earful.hooks import BatchContext, post_index_hooks
from earful.near_duplicates import NearDuplicateFinder
from earful.services import Services, open_services
from earful.settings import Settings
from earful.sources import build_listeners
from earful.summary import BatchSummary, SourceResult
from indexer.bulk import existing_ids, index_mentions
from indexer.search import read_mentions
from listeners.base import FetchResult, Listener, SourceError
from listeners.mention import Mention
from listeners.topics import CompiledTopic
from records.batch_runs import record_batch
from records.cursors import load_cursor, save_cursor
from records.pending import add_pending, clear_pending, drop_stale, pending_ids
from records.near_dups import store_bands

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


def store_source(
    services: Services, prepared: PreparedSource, enricher: Enricher | None, remember_bands: bool = True
) -> list[Mention]:
    """Stage two: classify what is not indexed yet, index it, then commit the cursor.

    `remember_bands=False` leaves storing the near-duplicate band keys of the indexed mentions to the caller."""
    result = prepared.result
    if not prepared.fetched_ok:
        return []
    candidates = prepared.mentions
    if enricher is not None:  # classifying is costly: look up which mentions the index has already
        seen = existing_ids(services.es, services.alias, [m.id for m in candidates])
        candidates = [m for m in candidates if m.id not in seen]
        result.already_seen = len(seen)
        enricher.enrich(candidates)
    # Marked before indexing, so a crash after it cannot skip the post-index hooks (they are idempotent).
    marked = set(add_pending(services.engine, [m.id for m in candidates]))
    outcome = index_mentions(services.es, services.alias, candidates, services.settings.index.bulk_chunk_size)
    # Indexed by an earlier batch, so not new here (a mark left by an unfinished batch stays).
    clear_pending(services.engine, [i for i in outcome.already_present if i in marked])
    result.already_seen += len(outcome.already_present)
    result.errors.extend(f"mention {doc_id}: index refused it: {reason}" for doc_id, reason in outcome.errors.items())
    created = set(outcome.created)
    indexed = [m for m in candidates if m.id in created]
    result.new = len(indexed)
    result.topics = Counter(topic for m in indexed for topic in m.topics)
    result.languages = Counter(m.language for m in indexed)
    if remember_bands:
        store_bands(services.engine, [(m.id, m.dup_bands) for m in indexed])
    if outcome.errors:
        result.notes.append("cursor kept: some mentions were not indexed and will be fetched again")
        return indexed
    if services.embedded and indexed:
        services.es.indices.flush(index=services.alias)  # the embedded server persists on flush
    if prepared.cursor is not None:
        save_cursor(services.engine, result.source, prepared.cursor)
    result.cursor_committed = True
    return indexed


def remember_stored_bands(
    services: Services, futures: list[Future[list[Mention] | None]], stored: set[int], wait: bool
) -> None:
    """Store the band keys of the sources whose indexing finished (`stored`: their positions, updated).

    Runs in the batch's main thread, which otherwise waits for fetches, so the storing thread only indexes.
    With `wait`, it waits for every source."""
    for position, future in enumerate(futures):
        if position in stored or not (wait or future.done()):
            continue
        store_bands(services.engine, [(m.id, m.dup_bands) for m in future.result() or []])
        stored.add(position)


def _guarded(stage: str, result: SourceResult, work: Any, *args: Any) -> Any:
    """Run one stage of one source; an unexpected error is reported on that source, not raised."""
    try:
        return work(*args)
    except Exception as exc:  # one broken source must not stop the others
        log.exception("source %s failed while %s", result.source, stage)
        result.errors.append(f"unexpected error while {stage}: {type(exc).__name__}: {exc}")
        return None


def run_hooks_over_pending(
    services: Services, batch_mentions: list[Mention], started: datetime, console: Console,
    batch_ids: Collection[str] = (),
) -> tuple[dict[str, int], list[str], int]:
    """Run the post-index hooks over every mention waiting for them: this batch's, and any an earlier batch
    indexed but did not finish. Marks are cleared only when every hook succeeded.

    `batch_ids`: this batch's mentions that are not in `batch_mentions` (an Airflow run hands on ids only; they
    are read back from the index), so that only the others count as "mentions from an unfinished batch".
    Returns the hooks' counts, their errors, and how many mentions they ran over."""
    waiting = pending_ids(services.engine)
    known = {m.id: m for m in batch_mentions}
    this_batch = set(known) | set(batch_ids)
    earlier = [mention_id for mention_id in waiting if mention_id not in known]
    mentions = list(known.values()) + read_mentions(services.es, services.alias, earlier)
    context = BatchContext(services=services, new_mentions=mentions, started_at=started, console=console)
    counts: Counter[str] = Counter()
    errors: list[str] = []
    for name, hook in post_index_hooks(services):
        try:
            counts.update(hook(context) or {})
        except Exception as exc:  # the index is written; a failing hook is reported, and runs again next batch
            log.exception("post-index hook %s failed", name)
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
    if not errors:
        clear_pending(services.engine, [m.id for m in mentions])
        drop_stale(services.engine)
    if unfinished := sum(1 for m in mentions if m.id not in this_batch):
        counts["mentions from an unfinished batch"] = unfinished
    return dict(counts), errors, len(mentions)


def fetch_processes(settings: Settings, listeners: list[Listener]) -> int:
    """How many processes fetch and parse beside the batch (0: all in this process)."""
    movable = sum(1 for listener in listeners if getattr(listener, "fetch_in_subprocess", False))
    configured = settings.listening.fetch_processes
    if configured is None:
        # Workers pay off only with cores to spare: the batch's thread, its storing thread and the embedded index
        # server keep two busy, and on two cores 2,000 small feeds took 1.5x as long with workers as without.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return min(2, cores - 2) if movable >= 8 and cores >= 4 else 0
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
        self.pool = (fetch_pool(processes, services.settings.topics, listening.min_chars_for_language)
                     if processes else None)

    def __enter__(self) -> "Prefetcher":
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
    with open_services(settings) as services:
        plan = build_listeners(settings, services.engine)
        summary = BatchSummary(started_at=started, skipped=list(plan.skipped))
        near_dups = NearDuplicateFinder(services, settings.listening.near_duplicate_threshold)
        new_mentions: list[Mention] = []
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
        prefetch = Prefetcher(services, plan.listeners, fetch_processes(settings, plan.listeners))
        with progress, prefetch, ThreadPoolExecutor(max_workers=1, thread_name_prefix="earful-store") as store:
            task = progress.add_task("sources", total=len(plan.listeners))
            pending: list[tuple[SourceResult, Future[list[Mention] | None]]] = []
            bands_stored: set[int] = set()
            for index, listener in enumerate(plan.listeners):
                progress.update(task, description=f"[cyan]{listener.source_id}")
                result = SourceResult(listener.source_id, listener.source_kind)
                prepared = _guarded("fetching", result, prepare_source, services, listener, topics, near_dups,
                                    prefetch.fetch_for(index))
                if prepared is None:
                    prepared = PreparedSource(result)
                future = store.submit(_guarded, "indexing", prepared.result, store_source, services, prepared,
                                      enricher, False)
                future.add_done_callback(lambda _f: progress.advance(task))
                pending.append((prepared.result, future))
                remember_stored_bands(services, [f for _, f in pending], bands_stored, wait=False)
            remember_stored_bands(services, [f for _, f in pending], bands_stored, wait=True)
            for result, future in pending:
                summary.sources.append(result)
                new_mentions.extend(future.result() or [])
        plan.close()
        services.es.indices.refresh(index=services.alias)  # searchable for the hooks and the next batch
        counts, errors, _ = run_hooks_over_pending(services, new_mentions, started, console)
        summary.hook_counts.update(counts)
        summary.hook_errors.extend(errors)
        summary.finished_at = datetime.now(UTC)
        status = "failed" if summary.sources and not summary.ok_sources else (
            "partial" if summary.failed_sources or summary.hook_errors else "ok")
        record_batch(services.engine, started, summary.finished_at, status, summary.counts())
    return summary
