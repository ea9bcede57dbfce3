"""`earful housekeeping ...`: retention, erasing one author on request, index rollover, outbox retries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from earful.settings import Settings

SOURCE_KINDS = ("rss", "reddit", "x", "mastodon", "bluesky")

app = typer.Typer(help="Retention, erasure of one author, index rollover, alert outbox retries.", no_args_is_help=True)

Config = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML configuration file (default: config/earful.yaml or $EARFUL_CONFIG)."),
]
EsUrl = Annotated[
    str | None, typer.Option("--es-url", help="Use this Elasticsearch cluster instead of the embedded server.")
]


def _settings(config: Path | None, es_url: str | None) -> Settings:
    from earful.cli import load

    return load(config, es_url)


def _console() -> Console:
    from earful.cli import console

    return console()


@app.command()
def retention(config: Config = None, es_url: EsUrl = None) -> None:
    """Delete mentions (and their near-duplicate keys) older than privacy.retention_days."""
    from datetime import UTC, datetime

    from earful.housekeeping import apply_retention
    from earful.services import open_services

    out = _console()
    with open_services(_settings(config, es_url)) as services:
        report = apply_retention(services, datetime.now(UTC))
    if report.complaints_redacted:
        out.print(
            f"redacted the personal data of {len(report.complaints_redacted)} complaint record(s) past "
            f"complaints.retention: {', '.join(report.complaints_redacted)}",
            markup=False,
        )
    if report.skipped:
        out.print(report.skipped)
        return
    out.print(
        f"deleted {report.mentions_deleted} mention(s) older than {report.cutoff} from the index, "
        f"{report.records_deleted} from the records, and {report.bands_deleted} near-duplicate key(s)"
    )


@app.command("erase-author")
def erase_author(
    handle: Annotated[
        str,
        typer.Argument(
            help="The author's account id on the platform (X: the numeric user id; Reddit: the account fullname "
            "t2_...), @user@domain or the actor URL (Mastodon), the DID did:plc:... (Bluesky), or for RSS the "
            "author as the feed writes it. Pseudonyms are keyed on the id, not the handle."
        ),
    ],
    source_kind: Annotated[str, typer.Option("--source-kind", "-s", help="rss, reddit, x, mastodon or bluesky.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    config: Config = None,
    es_url: EsUrl = None,
) -> None:
    """Erase every mention of one author (a data subject's request): found by the author's pseudonym."""
    from earful.housekeeping import erase_author as erase
    from earful.services import open_services

    out = _console()
    if source_kind not in SOURCE_KINDS:
        out.print(
            f"[red]--source-kind must be {', '.join(SOURCE_KINDS[:-1])} or {SOURCE_KINDS[-1]}, not {source_kind!r}[/]"
        )
        raise typer.Exit(2)
    if not handle.strip().lstrip("@"):
        out.print("[red]the handle is empty[/]")
        raise typer.Exit(2)
    if not yes and not typer.confirm(f"Erase every {source_kind} mention by this author?"):
        raise typer.Exit(1)
    with open_services(_settings(config, es_url)) as services:
        report = erase(services, source_kind, handle)
    out.print(
        f"author {report.author_ref}: deleted {report.mentions_deleted} mention(s) from the index, "
        f"{report.records_deleted} from the records, and {report.bands_deleted} near-duplicate key(s)"
    )
    if report.complaint_refs:
        out.print(
            f"[yellow]complaint records naming this complainant (kept: an audit record; handle them in the "
            f"register): {', '.join(report.complaint_refs)}[/]"
        )


@app.command()
def rollover(config: Config = None, es_url: EsUrl = None) -> None:
    """Move the write alias to a new index when the current one meets a housekeeping.rollover condition."""
    from earful.housekeeping import rollover_index
    from earful.services import open_services

    out = _console()
    with open_services(_settings(config, es_url)) as services:
        result = rollover_index(services)
    if result["rolled_over"]:
        out.print(f"rolled over: {result['old_index']} -> {result['new_index']}")
    else:
        out.print(f"not rolled over ({result.get('reason') or 'no condition met: ' + str(result['conditions'])})")


@app.command("retry-outbox")
def retry_outbox(config: Config = None) -> None:
    """Send alert deliveries that are due (and parked ones, with housekeeping.retry_parked). Exit 1 if any fail."""
    from earful.housekeeping import retry_outbox as retry
    from earful.services import open_records

    settings = _settings(config, None)
    engine = open_records(settings)
    try:
        result = retry(settings, engine)
    finally:
        engine.dispose()
    _console().print(
        f"requeued {result['requeued']}, sent {result['sent']}, failed {result['failed']}, parked {result['parked']}"
    )
    if result["failed"] or result["parked"]:
        raise typer.Exit(1)
