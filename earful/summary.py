"""The batch summary: counts per source, topic and language, errors per source; printed as tables."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table


@dataclass
class SourceResult:
    """What one source did in a batch."""

    source: str
    kind: str
    fetched: int = 0
    new: int = 0
    already_seen: int = 0
    near_duplicates: int = 0
    off_topic: int = 0
    cursor_committed: bool = False  # the new mentions are stored (durable) and the cursor moved
    indexed: int = 0  # of the new mentions, how many the index took in this batch
    awaiting_index: int = 0  # stored, not in the index yet (indexed by a later batch)
    store_failed: bool = False  # the records database could not store this source's mentions
    topics: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the source produced nothing because it failed as a whole."""
        return bool(self.errors) and not self.cursor_committed and self.fetched == 0


@dataclass
class BatchSummary:
    """What a whole batch did."""

    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    hook_counts: Counter[str] = field(default_factory=Counter)
    hook_errors: list[str] = field(default_factory=list)
    batch_errors: list[str] = field(default_factory=list)  # the records database failed after the sources
    index_unreachable: str | None = None  # why the index could not be written to in this batch
    awaiting_index: int = 0  # stored mentions (of any batch) not in the index after this batch
    replayed: int = 0  # mentions of earlier batches indexed now
    lost_by_index: int = 0  # acknowledged by the index in an earlier batch but missing: indexed again

    @property
    def not_durable(self) -> bool:
        """True when something fetched could not be stored, or the index could not be written: the run did not
        do its job, though nothing is lost (the command exits 1)."""
        return bool(self.index_unreachable or self.batch_errors or any(s.store_failed for s in self.sources))

    @property
    def status(self) -> str:
        """failed (no source ran), partial (something failed or is not indexed yet) or ok."""
        if self.sources and not self.ok_sources:
            return "failed"
        if (
            self.failed_sources
            or self.hook_errors
            or self.not_durable
            or self.awaiting_index
            or any(not s.cursor_committed for s in self.sources)
        ):
            return "partial"
        return "ok"

    @property
    def new(self) -> int:
        """New mentions stored (durably) in this batch."""
        return sum(s.new for s in self.sources)

    @property
    def failed_sources(self) -> list[SourceResult]:
        """Sources that failed as a whole."""
        return [s for s in self.sources if s.failed]

    @property
    def ok_sources(self) -> list[SourceResult]:
        """Sources that ran."""
        return [s for s in self.sources if not s.failed]

    def counts(self) -> dict[str, int]:
        """Totals, for XCom, logs and the batch record."""
        return {
            "sources": len(self.sources),
            "failed_sources": len(self.failed_sources),
            "fetched": sum(s.fetched for s in self.sources),
            "new": self.new,
            "already_seen": sum(s.already_seen for s in self.sources),
            "near_duplicates": sum(s.near_duplicates for s in self.sources),
            "off_topic": sum(s.off_topic for s in self.sources),
            "errors": sum(len(s.errors) for s in self.sources) + len(self.hook_errors) + len(self.batch_errors),
            "awaiting_index": self.awaiting_index,
            "replayed": self.replayed,
            **self.hook_counts,
        }


def _counter_table(title: str, column: str, counter: Counter[str]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(column)
    table.add_column("new mentions", justify="right")
    for key, count in counter.most_common():
        table.add_row(escape(key), str(count))
    return table


# What each count means, for the person who reads the summary (printed under the tables).
COUNT_LEGEND = (
    "fetched: items the source returned · new: indexed in this batch (near-dup ones included: they are indexed, "
    "marked as copies of an earlier mention) · seen: already indexed, by an earlier batch or, on a first run, by "
    "another source that carries the same item · off-topic: matched no topic, not indexed · errors: items "
    "skipped or refused, listed below. A mention can match several topics, so the topic counts can add up to "
    "more than the new mentions."
)
HOOK_LEGEND = {
    "alerts updated": "an alert already open counted the new mentions (a repeat or a spike still firing); not re-sent",
    "alerts raised": "new alerts",
    "alerts sent": "deliveries made to the alert channels",
}


def print_summary(summary: BatchSummary, console: Console) -> None:
    """Print the batch as tables: sources, topics, languages, what the counts mean, then problems."""
    sources = Table(title="Sources", title_justify="left")
    sources.add_column("source", no_wrap=True)
    for col in ("fetched", "new", "seen", "near-dup", "off-topic", "errors"):
        sources.add_column(col, justify="right")
    sources.add_column("status")
    for s in summary.sources:
        status = (
            "[red]failed[/]"
            if s.failed
            else (
                "[yellow]partial[/]"
                if not s.cursor_committed
                else "[yellow]stored, not indexed[/]"
                if s.awaiting_index
                else "ok"
            )
        )
        sources.add_row(
            escape(s.source),
            str(s.fetched),
            str(s.new),
            str(s.already_seen),
            str(s.near_duplicates),
            str(s.off_topic),
            str(len(s.errors)),
            status,
        )
    console.print(sources)
    topics: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for s in summary.sources:
        topics.update(s.topics)
        languages.update(s.languages)
    if topics:
        console.print(_counter_table("Topics", "topic", topics))
    if languages:
        console.print(_counter_table("Languages", "language", languages))
    console.print(f"[dim]{escape(COUNT_LEGEND)}[/]", soft_wrap=False)
    explained = [f"{name}: {meaning}" for name, meaning in HOOK_LEGEND.items() if summary.hook_counts.get(name)]
    if explained:
        console.print(f"[dim]{escape(' · '.join(explained))}[/]")
    for line in summary.skipped:
        console.print(f"[dim]skipped:[/] {escape(line)}")
    for s in summary.sources:
        for note in s.notes:
            console.print(f"[dim]{escape(s.source)}:[/] {escape(note)}")
        for error in s.errors:
            console.print(f"[red]{escape(s.source)}:[/] {escape(error)}")
    for error in summary.hook_errors:
        console.print(f"[red]after indexing:[/] {escape(error)}")
    for error in summary.batch_errors:
        console.print(f"[red]batch:[/] {escape(error)}")
    if summary.index_unreachable:
        console.print(f"[yellow]index not written:[/] {escape(summary.index_unreachable)}")
    if summary.lost_by_index:
        console.print(
            f"[yellow]index:[/] {summary.lost_by_index} mentions an earlier batch indexed were not in the "
            "index (lost before it saved them); indexed again from the records"
        )
    if summary.awaiting_index:
        console.print(
            f"[yellow]{summary.awaiting_index} stored mentions await indexing[/]: they are safe in the "
            "records database and indexed by the next run (or `earful reindex`)"
        )
    extra = ", ".join(f"{escape(k)}: {v}" for k, v in sorted(summary.hook_counts.items()))
    failed = len(summary.failed_sources)
    console.print(
        f"[bold]{summary.new} new mentions[/] from {len(summary.sources)} sources"
        + (f", [red]{failed} failed[/]" if failed else "")
        + (f", {summary.replayed} from earlier batches indexed now" if summary.replayed else "")
        + (f"; [yellow]{summary.awaiting_index} await indexing[/]" if summary.awaiting_index else "")
        + (f"; {extra}" if extra else "")
    )
