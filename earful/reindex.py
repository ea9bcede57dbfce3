"""`earful reindex`: rebuild the mention index from the records database, the system of record.

Every stored mention is created in the index where it is missing (ids are deterministic and indexing uses
`create`, so running it twice changes nothing). With `recreate`, the indices behind the alias are deleted first
and made again from the current template: the way to apply a mapping change. No model runs: the records keep
each mention's language and labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from earful.progress import count_progress
from earful.services import Services, open_services
from earful.settings import Settings
from earful_common.errors import ReportedError
from earful_indexer.bulk import index_documents
from earful_indexer.template import ensure_index
from earful_records.mentions import ACKNOWLEDGED, UNINDEXED, count_by_state, iter_documents, set_index_state


class ReindexRefused(ReportedError):
    """Recreating the index would drop mentions the records do not have."""

    exit_code = 1


@dataclass
class ReindexReport:
    """What a re-index did."""

    stored: int = 0
    created: int = 0
    already_present: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # mention id -> reason
    recreated: list[str] = field(default_factory=list)  # indices deleted and made again


def _recreate(services: Services, force: bool, stored: int) -> list[str]:
    es, alias = services.es, services.alias
    exists = bool(es.indices.exists_alias(name=alias))
    in_index = int(es.count(index=alias)["count"]) if exists else 0
    if in_index > stored and not force:
        raise ReindexRefused(
            f"index {alias}: holds {in_index} mentions, the records {stored}; recreating it would drop "
            f"{in_index - stored} that only the index has (indexed before the records kept mentions). "
            "Run without --recreate, or add --force to drop them"
        )
    indices = sorted(es.indices.get_alias(name=alias)) if exists else []
    for index in indices:
        es.indices.delete(index=index)
    ensure_index(es, services.settings.index)
    return indices


def reindex(
    services: Services, *, recreate: bool = False, force: bool = False, progress: Progress | None = None
) -> ReindexReport:
    """Create every stored mention in the index where it is missing; with `recreate`, rebuild the indices first."""
    report = ReindexReport(stored=sum(count_by_state(services.engine).values()))
    if recreate:
        report.recreated = _recreate(services, force, report.stored)
    task = progress.add_task("re-indexing", total=report.stored) if progress is not None else None
    for page in iter_documents(services.engine):
        outcome = index_documents(services.es, services.alias, page, services.settings.index.bulk_chunk_size)
        set_index_state(services.engine, outcome.created + outcome.already_present, ACKNOWLEDGED)
        set_index_state(services.engine, list(outcome.errors), UNINDEXED)
        report.created += len(outcome.created)
        report.already_present += len(outcome.already_present)
        report.refused.update(outcome.errors)
        if progress is not None and task is not None:
            progress.advance(task, len(page))
    services.es.indices.refresh(index=services.alias)
    return report


def print_reindex(settings: Settings, console: Console, *, recreate: bool, force: bool) -> ReindexReport:
    """Re-index with a progress bar and print what happened."""
    progress = count_progress(console)
    with open_services(settings) as services, progress:
        report = reindex(services, recreate=recreate, force=force, progress=progress)
    if report.recreated:
        console.print(f"recreated {', '.join(escape(i) for i in report.recreated)} from the current template")
    console.print(
        f"{report.stored} stored mentions: {report.created} indexed now, "
        f"{report.already_present} already in the index"
        + (f", [red]{len(report.refused)} refused[/]" if report.refused else "")
    )
    for doc_id, reason in list(report.refused.items())[:10]:
        console.print(f"[red]mention {doc_id}:[/] {escape(reason)}")
    return report
