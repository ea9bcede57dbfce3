"""The functions Airflow tasks call: one function per task, small dicts of counts and ids back (one XCom each:
the DAGs declare `multiple_outputs=False`, since a dict return type would otherwise push every key on its own).

Each takes loaded `Settings` and opens what it needs itself, so a task runs on any worker. Mention bodies never
leave a function: the listening tasks hand on mention ids, and the alerts task reads the documents back from
the records database (the system of record).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from earful.settings import Settings
from earful.window import Window
from earful_common.errors import ReportedError, UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from earful.enrich import Enricher

log = logging.getLogger(__name__)

MAX_IDS_PER_SOURCE = 20_000  # XCom stays small (about 0.7 MB at most per source); more is a sign of a backlog


class SourceFailed(ReportedError):
    """A source failed as a whole in this run (the task fails and Airflow retries it)."""


class UnknownSource(UsageError):
    """The source id is not in the configuration (anymore)."""


# ---- listening ---------------------------------------------------------------------------------------------------


def list_sources(settings: Settings) -> dict[str, Any]:
    """The configured source ids (for task mapping) and the lines of source kinds that are skipped."""
    from earful.services import open_records
    from earful.sources import build_listeners

    engine = open_records(settings)
    try:
        plan = build_listeners(settings, engine)
        plan.close()
    finally:
        engine.dispose()
    return {"sources": [listener.source_id for listener in plan.listeners], "skipped": list(plan.skipped)}


def _enricher(settings: Settings, cache: dict[str, Any] = {}) -> Enricher | None:  # noqa: B006 - the per-process cache
    """The classifier, loaded once per worker process; tasks running in the same process share it."""
    if not getattr(settings.nlp, "enabled", False):
        return None
    from rich.console import Console

    from earful.enrich import load_enricher

    key = f"{settings.nlp.model_dump_json()}|{settings.data_dir}"
    if key not in cache:
        cache[key] = load_enricher(settings, Console(quiet=True))
    return cache[key]


class SourceCounts(TypedDict):
    """What one listening task hands on (its XCom): the source id, counts, and the ids of the mentions it indexed,
    which the alerts task reads."""

    source: str
    fetched: int
    new: int
    already_seen: int
    near_duplicates: int
    off_topic: int
    errors: int
    awaiting_index: int  # stored, not indexed yet (the index was away): the alerts task indexes them first
    cursor_committed: bool
    mention_ids: list[str]


def run_source(settings: Settings, source_id: str, window: Window | None = None) -> SourceCounts:
    """Fetch, prepare and store one source end to end (the runner's own stages), by its source id.

    Without `window` it reads since the stored cursor and moves it; with one it reads that interval only and
    leaves the cursor alone (backfills). Raises SourceFailed when the source failed before anything was stored,
    so that the task is retried; a source that stored some mentions and refused others returns normally with
    its errors (its cursor stays put, so the next run fetches the rest).
    """
    from earful.annotate import compile_topics
    from earful.index_sync import IndexSync
    from earful.near_duplicates import NearDuplicateFinder
    from earful.privacy_guard import require_author_secret
    from earful.runner import prepare_source, store_source
    from earful.services import open_services
    from earful.sources import build_listeners

    require_author_secret(settings)  # real posts are never pseudonymised with the public demo secret
    topics = compile_topics(settings.topics)
    enricher = _enricher(settings)  # before fetching: an unusable model fails the task before any API call
    with open_services(settings, index_optional=True) as services:  # stores while the index is away
        sync = IndexSync(services, unreachable=services.index_error)
        plan = build_listeners(settings, services.engine)
        try:
            listener = next((item for item in plan.listeners if item.source_id == source_id), None)
            if listener is None:
                raise UnknownSource(
                    f"source {source_id!r} is not configured (sources: "
                    f"{', '.join(item.source_id for item in plan.listeners) or 'none'})"
                )
            if window is not None:
                from earful.window import WindowedListener

                listener = WindowedListener(listener, window)
            near_dups = NearDuplicateFinder(services, settings.listening.near_duplicate_threshold)
            prepared = prepare_source(services, listener, topics, near_dups)
            indexed = store_source(services, prepared, enricher, sync=sync)
        finally:
            plan.close()
        if indexed and sync.unreachable is None:
            services.es.indices.refresh(index=services.alias)
    result = prepared.result
    for note in result.notes:
        log.info("%s: %s", source_id, note)
    for error in result.errors:
        log.warning("%s: %s", source_id, error)
    if not result.cursor_committed and not indexed:
        raise SourceFailed(f"{source_id}: " + ("; ".join(result.errors) or "failed"))
    ids = [m.id for m in indexed]
    if len(ids) > MAX_IDS_PER_SOURCE:
        log.warning(
            "%s: %d new mentions; the alerts task counts the first %d as this run's",
            source_id,
            len(ids),
            MAX_IDS_PER_SOURCE,
        )
    log.info(
        "%s (%s): read %s", source_id, result.kind, f"window {window.describe()}" if window else "since the cursor"
    )
    return {
        "source": source_id,
        "fetched": result.fetched,
        "new": result.new,
        "already_seen": result.already_seen,
        "near_duplicates": result.near_duplicates,
        "off_topic": result.off_topic,
        "errors": len(result.errors),
        "awaiting_index": result.awaiting_index,
        "cursor_committed": result.cursor_committed and window is None,
        "mention_ids": ids[:MAX_IDS_PER_SOURCE],
    }


def run_post_index_hooks(
    settings: Settings, mention_ids: list[str], started_at: datetime | None = None
) -> dict[str, int]:
    """The post-index hooks (alerts: evaluate the rules, deliver the outbox) over every mention waiting for them.

    The mentions come from the pending list in the records database, which also holds those of a run that died
    between indexing and its hooks; `mention_ids` (this run's, from XCom) tell this run's from those, which are
    counted as "mentions from an unfinished batch".
    """
    from rich.console import Console

    from earful.index_sync import IndexSync
    from earful.runner import run_hooks_over_pending
    from earful.services import open_services

    errors: list[str] = []
    with open_services(settings) as services:
        sync = IndexSync(services)  # first, what the listening tasks could not index (the index was away)
        sync.verify_acknowledged()
        sync.replay_unindexed()
        services.es.indices.refresh(index=services.alias)
        # The mentions of this run, and any that an earlier run indexed but died before its hooks ran.
        counts, errors, found = run_hooks_over_pending(
            services, [], started_at or datetime.now(UTC), Console(quiet=True), batch_ids=mention_ids
        )
        counts = {"mentions": len(set(mention_ids)), "found": found, **counts}
    if errors:
        raise ReportedError("post-index hooks failed: " + "; ".join(errors))
    return counts


def summarize(results: list[dict[str, Any] | None], expected: int) -> dict[str, Any]:
    """Totals over the mapped per-source results (None: a source whose task failed)."""
    done = [r for r in results if r]
    return {
        "sources": expected,
        "failed_sources": expected - len(done),
        "fetched": sum(r["fetched"] for r in done),
        "new": sum(r["new"] for r in done),
        "already_seen": sum(r["already_seen"] for r in done),
    }


# ---- complaints --------------------------------------------------------------------------------------------------


def check_complaint_deadlines(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Record missed deadlines, raise one alert each (idempotent), and deliver the outbox."""
    from earful.services import open_records
    from earful_complaints.deadlines import check_overdue

    now = now or datetime.now(UTC)
    engine = open_records(settings)
    try:
        refs = check_overdue(engine, settings.complaints, now)
        sent = _deliver(settings, engine, now)
    finally:
        engine.dispose()
    return {"overdue": len(refs), "refs": refs, **sent}


def week_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The ISO week (Monday 00:00 UTC to the next Monday) before the week of `moment`."""
    day = moment.astimezone(UTC).date()
    this_monday = datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time(), UTC)
    return this_monday - timedelta(days=7), this_monday


def send_complaints_report(settings: Settings, start: datetime, end: datetime) -> dict[str, Any]:
    """Build the clause 8 report over [start, end), save it as HTML and CSV, and send it as an alert.

    The alert (kind `complaints_report`, one per period by its dedup key) goes through the outbox to the
    channels the routing table gives that kind (e.g. a route with `rules: [complaints_report]`).
    """
    from earful.services import open_records
    from earful_alerts.api import raise_alert
    from earful_complaints.reports import build_report, render_csv, render_html

    engine = open_records(settings)
    try:
        rep = build_report(engine, settings.complaints, start, end)
        folder = settings.data_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"complaints-{start:%Y-%m-%d}-{(end - timedelta(seconds=1)):%Y-%m-%d}"
        (folder / f"{stem}.html").write_text(render_html(rep), encoding="utf-8")
        (folder / f"{stem}.csv").write_text(render_csv(rep), encoding="utf-8")
        timings = "; ".join(
            f"{t.step}: {t.done} done" + (f", {t.share_within:.0%} within target" if t.share_within is not None else "")
            for t in rep.timings
        )
        reopen = "n/a" if rep.reopen_rate is None else f"{rep.reopen_rate:.0%}"
        summary = (
            f"{rep.total} complaints received {start:%Y-%m-%d} to {end - timedelta(seconds=1):%Y-%m-%d}; "
            f"{timings}; reopen rate {reopen}; {rep.missed_deadlines} missed deadlines. "
            f"Full report: {folder / stem}.html"
        )
        alert_id = raise_alert(
            engine,
            kind="complaints_report",
            dedup_key=f"{start:%Y-%m-%d}",
            severity="info",
            title=f"Complaints report (ISO 10002 clause 8), week of {start:%Y-%m-%d}",
            summary=summary,
            details={
                "total": rep.total,
                "missed_deadlines": rep.missed_deadlines,
                "reopened": rep.reopened,
                "html": str(folder / f"{stem}.html"),
                "csv": str(folder / f"{stem}.csv"),
            },
        )
        sent = _deliver(settings, engine, datetime.now(UTC))
    finally:
        engine.dispose()
    return {"alert_id": alert_id, "complaints": rep.total, "report": f"{stem}.html", **sent}


def _deliver(settings: Settings, engine: Engine, now: datetime) -> dict[str, int]:
    from rich.console import Console

    from earful_alerts.channels import build_channels
    from earful_alerts.sender import deliver_pending

    if not settings.alerts.enabled:
        return {}
    report = deliver_pending(engine, settings.alerts, build_channels(settings.alerts, Console(quiet=True)), now)
    return {"sent": report.sent, "failed": report.failed, "parked": report.parked}


# ---- housekeeping ------------------------------------------------------------------------------------------------


def housekeeping_retention(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Delete what is older than `privacy.retention_days` (see earful.housekeeping.apply_retention)."""
    from earful.housekeeping import apply_retention
    from earful.services import open_services

    with open_services(settings) as services:
        return apply_retention(services, now or datetime.now(UTC)).as_dict()


def housekeeping_rollover(settings: Settings) -> dict[str, Any]:
    """Roll the write alias over to a new index when the current one is old or large enough."""
    from earful.housekeeping import rollover_index
    from earful.services import open_services

    with open_services(settings) as services:
        return rollover_index(services)


def housekeeping_outbox(settings: Settings) -> dict[str, Any]:
    """Give parked alert deliveries a fresh set of attempts and send what is due."""
    from earful.housekeeping import retry_outbox
    from earful.services import open_records

    engine = open_records(settings)
    try:
        return retry_outbox(settings, engine)
    finally:
        engine.dispose()
