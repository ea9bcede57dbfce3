"""One listening batch: fetch -> topics -> language -> dedupe -> classify -> index -> commit cursors -> hooks.

Every source runs on its own: a source that fails is reported and the others go on. A source's cursor moves
only after the index accepted all of its new mentions, so a crash anywhere before that refetches the same items
next time, and their deterministic ids keep them from being indexed twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from earful.enrich import Enricher, load_enricher
from earful.hooks import BatchContext, post_index_hooks
from earful.services import Services, open_services
from earful.settings import Settings
from earful.sources import build_listeners
from earful.summary import BatchSummary, SourceResult
from indexer.bulk import existing_ids, index_mentions, near_duplicate_candidates
from listeners.base import Listener, SourceError
from listeners.dedupe import BandIndex, dup_bands, min_shared_bands
from listeners.mention import Mention
from listeners.topics import CompiledTopic, MatchTarget, compile_topic
from nlp.language import UNDETERMINED, detect_language
from records.cursors import load_cursor, save_cursor

log = logging.getLogger(__name__)


def compile_topics(settings: Settings) -> list[CompiledTopic]:
    """The configured topics, compiled once per batch."""
    return [compile_topic(t.name, t.query, t.exclude, t.languages) for t in settings.topics]


def assign_language(mention: Mention, min_letters: int) -> None:
    """Detect the mention's language; a feed's language hint fills in when detection is unsure but text exists."""
    lang, score = detect_language(f"{mention.title}\n{mention.text}", min_letters=min_letters)
    hint = mention.extra.get("language_hint")
    if lang == UNDETERMINED and hint and score is not None:
        lang = hint
    mention.language, mention.language_score = lang, score


def match_topics(mention: Mention, topics: list[CompiledTopic]) -> None:
    """Set the names of the topics the mention belongs to."""
    target = MatchTarget.build(mention.title, mention.text, mention.language)
    mention.topics = [topic.name for topic in topics if topic.matches(target)]


def mark_near_duplicates(services: Services, mentions: list[Mention], threshold: float) -> int:
    """Set `duplicate_of` on mentions whose text nearly repeats an indexed or earlier mention; returns the count."""
    band_index = BandIndex(min_shared=min_shared_bands(threshold))
    for mention in mentions:
        mention.dup_bands = dup_bands(f"{mention.title}\n{mention.text}")
    all_bands = [key for m in mentions for key in m.dup_bands]
    if all_bands:
        for doc_id, bands in near_duplicate_candidates(services.es, services.alias, all_bands).items():
            band_index.add(doc_id, bands)
    count = 0
    for mention in mentions:
        if not mention.dup_bands:
            continue
        original = band_index.best_match(mention.dup_bands, exclude=mention.id)
        if original is not None:
            mention.duplicate_of = original
            count += 1
        band_index.add(mention.id, mention.dup_bands)
    return count


def process_source(
    services: Services, listener: Listener, topics: list[CompiledTopic], enricher: Enricher | None
) -> tuple[SourceResult, list[Mention]]:
    """Run one source through the whole pipeline; returns its result and the mentions it indexed anew."""
    settings = services.settings
    result = SourceResult(source=listener.source_id, kind=listener.source_kind)
    cursor = load_cursor(services.engine, listener.source_id)
    try:
        fetched = listener.fetch(cursor)
    except SourceError as exc:
        result.errors.append(exc.message)
        return result, []
    result.notes.extend(fetched.notes)
    result.errors.extend(fetched.item_errors)
    result.fetched = len(fetched.mentions)

    unique: dict[str, Mention] = {}
    for mention in fetched.mentions:
        unique.setdefault(mention.id, mention)  # a feed listing one item twice
    candidates = list(unique.values())
    for mention in candidates:
        assign_language(mention, settings.listening.min_chars_for_language)
        match_topics(mention, topics)
    if not settings.listening.keep_unmatched:
        result.off_topic = sum(1 for m in candidates if not m.topics)
        candidates = [m for m in candidates if m.topics]

    seen = existing_ids(services.es, services.alias, [m.id for m in candidates])
    result.already_seen = len(seen)
    new = [m for m in candidates if m.id not in seen]
    result.near_duplicates = mark_near_duplicates(services, new, settings.listening.near_duplicate_threshold)
    if enricher is not None:
        enricher.enrich(new)

    outcome = index_mentions(services.es, services.alias, new, settings.index.bulk_chunk_size)
    result.already_seen += len(outcome.already_present)
    result.errors.extend(f"mention {doc_id}: index refused it: {reason}" for doc_id, reason in outcome.errors.items())
    created = set(outcome.created)
    indexed = [m for m in new if m.id in created]
    result.new = len(indexed)
    result.topics = Counter(topic for m in indexed for topic in m.topics)
    result.languages = Counter(m.language for m in indexed)

    if outcome.errors:
        result.notes.append("cursor kept: some mentions were not indexed and will be fetched again")
        return result, indexed
    if services.embedded:
        services.es.indices.flush(index=services.alias)  # the embedded server persists on flush
    if fetched.cursor is not None:
        save_cursor(services.engine, listener.source_id, fetched.cursor)
    result.cursor_committed = True
    return result, indexed


def run_batch(settings: Settings, console: Console | None = None) -> BatchSummary:
    """Run one batch over every configured source and the post-index hooks; returns the summary."""
    console = console or Console(quiet=True)
    started = datetime.now(UTC)
    topics = compile_topics(settings)
    enricher = load_enricher(settings, console)  # fails at start-up, not mid-batch, if a model is unusable
    with open_services(settings) as services:
        plan = build_listeners(settings, services.engine)
        summary = BatchSummary(started_at=started, skipped=list(plan.skipped))
        new_mentions: list[Mention] = []
        progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=console, transient=True, disable=not console.is_terminal)
        with progress:
            task = progress.add_task("sources", total=len(plan.listeners))
            for listener in plan.listeners:
                progress.update(task, description=f"[cyan]{listener.source_id}")
                try:
                    result, indexed = process_source(services, listener, topics, enricher)
                except Exception as exc:  # one broken source must not stop the others; the error is reported
                    log.exception("source %s failed", listener.source_id)
                    result, indexed = SourceResult(listener.source_id, listener.source_kind), []
                    result.errors.append(f"unexpected error: {type(exc).__name__}: {exc}")
                summary.sources.append(result)
                new_mentions.extend(indexed)
                progress.advance(task)
        context = BatchContext(services=services, new_mentions=new_mentions, started_at=started, console=console)
        for name, hook in post_index_hooks(services):
            try:
                summary.hook_counts.update(hook(context) or {})
            except Exception as exc:  # the index is written; a failing hook is reported, and retried next run
                log.exception("post-index hook %s failed", name)
                summary.hook_errors.append(f"{name}: {type(exc).__name__}: {exc}")
    summary.finished_at = datetime.now(UTC)
    return summary
