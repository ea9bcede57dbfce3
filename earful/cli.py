"""The `earful` command line: for people (progress bars, tables, clear exit codes) and for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from earful.alerts_cli import app as alerts_app
from earful.complaints_cli import app as complaints_app
from earful.complaints_cli import serve as complaints_serve
from earful.housekeeping_cli import app as housekeeping_app
from earful_common.errors import ReportedError
from earful_nlp import cli as nlp_cli

if TYPE_CHECKING:
    from earful.settings import Settings

app = typer.Typer(
    help="earful: self-hosted multilingual social listening.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(complaints_app, name="complaints")
app.add_typer(alerts_app, name="alerts")
app.add_typer(housekeeping_app, name="housekeeping")
app.command("train")(nlp_cli.train)
app.command("eval")(nlp_cli.evaluate)
app.command("build-model")(nlp_cli.build_model)
app.command("split-data")(nlp_cli.split_data)
app.command("train-default")(nlp_cli.train_default)
# The web app serves the listening dashboard and the complaint register; `earful complaints serve` stays.
app.command("web", help="Start the web app: listening dashboard and complaint register.")(complaints_serve)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML configuration file (default: config/earful.yaml or $EARFUL_CONFIG)."),
]
EsUrlOption = Annotated[
    str | None, typer.Option("--es-url", help="Use this Elasticsearch cluster instead of the embedded server.")
]


def console() -> Console:
    """The console every command prints to."""
    import sys

    # Logs and pipes get a width that fits the summary tables; a terminal keeps its own.
    return Console(highlight=False, width=None if sys.stdout.isatty() else 132)


def load(config: Path | None, es_url: str | None = None) -> Settings:
    """Load settings, applying command-line overrides."""
    from earful.settings import load_settings

    overrides = {"index": {"url": es_url}} if es_url else None
    return load_settings(config, overrides)


WaitOption = Annotated[
    float,
    typer.Option(
        "--wait", min=0, help="If another run is using the data folder, wait up to this many seconds (default: refuse)."
    ),
]


@app.command()
def run(config: ConfigOption = None, es_url: EsUrlOption = None, wait: WaitOption = 0.0) -> None:
    """Run one listening batch: fetch, match topics, detect language, classify, index, alert."""
    from earful.operational import check_data_folder
    from earful.privacy_guard import require_author_secret
    from earful.run_lock import run_lock
    from earful.runner import run_batch
    from earful.summary import print_summary

    settings = load(config, es_url)
    require_author_secret(settings)
    check_data_folder(settings, create=True)
    out = console()
    with run_lock(settings.data_dir, wait):
        summary = run_batch(settings, out)
    print_summary(summary, out)
    if summary.failed_sources and not summary.ok_sources:
        raise typer.Exit(3)
    if summary.index_unreachable:  # stored what it fetched; the one line says why it is not searchable yet
        from earful.operational import OperationalFailure

        raise OperationalFailure(
            f"{summary.index_unreachable}; {summary.awaiting_index} stored mentions await "
            "indexing (the next run indexes them)"
        )
    if summary.not_durable:  # the records database could not store everything: the summary says what
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Query in topic syntax, e.g. 'acme AND (refund OR broken)'.")],
    config: ConfigOption = None,
    es_url: EsUrlOption = None,
    topic: Annotated[str | None, typer.Option(help="Only mentions of this topic.")] = None,
    lang: Annotated[str | None, typer.Option(help="Only mentions in this language (ISO code).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
) -> None:
    """Search the indexed mentions, newest first."""
    from earful.operational import check_data_folder
    from earful.queries import print_search

    settings = load(config, es_url)
    check_data_folder(settings, create=False)
    print_search(settings, console(), query=query, topic=topic, lang=lang, limit=limit)


@app.command()
def stats(config: ConfigOption = None, es_url: EsUrlOption = None) -> None:
    """Counts of indexed mentions per topic, language, source and day."""
    from earful.operational import check_data_folder
    from earful.queries import print_stats

    settings = load(config, es_url)
    check_data_folder(settings, create=False)
    print_stats(settings, console())


@app.command()
def reindex(
    config: ConfigOption = None,
    es_url: EsUrlOption = None,
    recreate: Annotated[
        bool,
        typer.Option(
            "--recreate",
            help="Delete the indices behind the alias first and make "
            "them again from the current template (a mapping change).",
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --recreate: even if the index holds mentions the records do not.")
    ] = False,
) -> None:
    """Rebuild the index from the records database (after a mapping change or a lost index); safe to repeat."""
    from earful.reindex import print_reindex

    report = print_reindex(load(config, es_url), console(), recreate=recreate, force=force)
    if report.refused:
        raise typer.Exit(1)


def main() -> None:
    """Entry point: run the app, turning expected errors into one clear line and an exit code."""
    from earful.operational import log_one_line

    log_one_line()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:  # in this mode click returns, not raises, a typer.Exit's code
            raise SystemExit(code)
    except ReportedError as exc:
        _fail(exc)
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except Exception as exc:
        # Usage errors (bad option, missing argument) carry their own exit code (2). Typer ships its own copy of
        # click, so they are recognised by shape, not by class.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            raise SystemExit(exit_code) from None
        from earful.operational import as_reported

        reported = as_reported(exc)  # the disk, the records database or the index failed: say which, in one line
        if reported is None:
            raise  # a bug: keep its traceback
        _fail(reported)


def _fail(exc: ReportedError) -> None:
    """Print `exc` as one line on stderr and exit with its code."""
    from rich.markup import escape

    Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
    raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main()
