"""`earful alerts ...`: look at the outbox, retry parked deliveries, try a channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from earful_common.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from earful.settings import Settings

app = typer.Typer(help="Alerts: the outbox, deliveries and channels.", no_args_is_help=True)

Config = Annotated[Path | None, typer.Option("--config", "-c", help="YAML configuration file.")]


def _open(config: Path | None) -> tuple[Settings, Engine]:
    from earful.cli import load
    from earful.services import open_records

    settings = load(config)
    return settings, open_records(settings)


def _console() -> Console:
    from earful.cli import console

    return console()


def _delivery_state(deliveries: list[dict]) -> str:
    if not deliveries:
        return "not routed"
    return ", ".join(
        f"{d['channel']}:{d['status']}"
        + (" (sender gone)" if d.get("abandoned") else "")
        + (f"({d['attempts']})" if d["attempts"] > 1 or d["status"] in ("parked", "pending") and d["attempts"] else "")
        for d in deliveries
    )


@app.command("list")
def list_(
    config: Config = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only alerts with parked or failing deliveries.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts.")] = False,
) -> None:
    """The newest alerts with the state of their deliveries."""
    from rich.markup import escape
    from rich.table import Table

    from earful_alerts.queries import list_alerts

    _, engine = _open(config)
    try:
        rows = list_alerts(engine, failed=failed, limit=limit)
    finally:
        engine.dispose()
    out = _console()
    if as_json:
        for row in rows:
            out.print_json(json.dumps(row, default=str), indent=None)
        return
    if not rows:
        out.print("no failed deliveries" if failed else "no alerts yet")
        return
    table = Table(title="failed alert deliveries" if failed else "alerts")
    for column in ("id", "updated (UTC)", "severity", "rule", "topic", "title", "seen", "deliveries"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row["id"],
            row["updated_at"].strftime("%Y-%m-%d %H:%M"),
            row["severity"],
            escape(row["rule"]),
            escape(row["topic"] or ""),
            escape(row["title"][:80]),
            str(row["occurrences"]),
            escape(_delivery_state(row["deliveries"])),
        )
    out.print(table)


@app.command()
def show(alert_id: Annotated[str, typer.Argument(help="Alert id or a unique prefix.")], config: Config = None) -> None:
    """One alert: why it fired (numbers, examples) and every delivery attempt."""
    from rich.markup import escape

    from earful_alerts.queries import alert_detail, resolve_id

    _, engine = _open(config)
    out = _console()
    try:  # an unknown id raises AlertNotFound: earful's handler prints it as one line (exit 1)
        detail = alert_detail(engine, resolve_id(engine, alert_id))
    finally:
        engine.dispose()
    out.print(f"[bold]{escape(detail['title'])}[/]  ({detail['id']}, {detail['severity']})")
    out.print(escape(detail["summary"]))
    out.print(
        f"rule {escape(detail['rule'])} · kind {detail['kind']} · topic {escape(detail['topic'] or '-')} · "
        f"seen {detail['occurrences']}x · created {detail['created_at']:%Y-%m-%d %H:%M} UTC"
    )
    details = detail["details"] or {}
    for key, value in (details.get("numbers") or {}).items():
        out.print(f"  {escape(str(key))}: {escape(str(value))}")
    for ex in details.get("examples", []):
        out.print(
            f"  - {escape(str(ex.get('title') or ex.get('text') or '')[:120])} {escape(str(ex.get('url') or ''))}"
        )
    for d in detail["deliveries"]:
        out.print(
            f"[bold]{escape(d['channel'])}[/]: {d['status']} ({d['mode']}), {d['attempts']} attempt(s)"
            + (f", next {d['next_attempt_at']:%Y-%m-%d %H:%M:%S}" if d["status"] == "pending" else "")
        )
        for a in d["attempt_log"]:
            result = "ok" if a["ok"] else escape(a["error"] or "failed")
            out.print(f"    {a['at']:%Y-%m-%d %H:%M:%S} {a['status_code'] or '-'} {result} ({a['duration_ms']} ms)")


@app.command()
def retry(
    alert_id: Annotated[str | None, typer.Argument(help="Alert id or unique prefix; or --all.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Retry every parked delivery.")] = False,
    config: Config = None,
) -> None:
    """Give parked deliveries a fresh set of attempts and send them now. Exit 1 if any still fail."""
    from earful_alerts.channels import build_channels
    from earful_alerts.queries import resolve_id
    from earful_alerts.sender import deliver_pending, retry_parked

    out = _console()
    if (alert_id is None) == (not all_):
        raise UsageError("give an alert id or --all (not both)")
    settings, engine = _open(config)
    try:
        target = None if alert_id is None else resolve_id(engine, alert_id)
        now = datetime.now(UTC)
        count = retry_parked(engine, target, now)
        report = deliver_pending(engine, settings.alerts, build_channels(settings.alerts, out), now)
    finally:
        engine.dispose()
    out.print(
        f"{count} parked deliver{'y' if count == 1 else 'ies'} queued again; sent {report.sent}, "
        f"failed {report.failed}, parked {report.parked}"
    )
    if report.failed or report.parked:
        raise typer.Exit(1)


@app.command("test-channel")
def test_channel(
    name: Annotated[str, typer.Argument(help="Channel name from alerts.channels.")], config: Config = None
) -> None:
    """Send a test alert straight to one channel (not through the outbox) and report the answer."""
    from rich.markup import escape

    from earful.cli import load
    from earful_alerts.channels import build_channel
    from earful_alerts.message import AlertMessage

    settings = load(config)
    out = _console()
    if name not in settings.alerts.channels:
        raise UsageError(f"no channel {name}; configured: {', '.join(settings.alerts.channels) or 'none'}")
    channel = build_channel(name, settings.alerts.channels[name], out)
    message = AlertMessage(
        id="al-test",
        kind="test",
        rule="test-channel",
        severity="info",
        title="earful test alert",
        summary=f"If you read this, channel {name} works.",
        created_at=datetime.now(UTC),
        details={"numbers": {"test": 1}},
    )
    outcome = channel.send(message)
    if outcome.ok:
        out.print(
            f"[green]{escape(name)}: delivered[/]" + (f" (status {outcome.status_code})" if outcome.status_code else "")
        )
        return
    out.print(
        f"[red]{escape(name)}: failed[/] {escape(outcome.error or '')}"
        + (" (permanent)" if outcome.permanent else " (temporary)")
    )
    raise typer.Exit(1)
