"""`earful complaints ...`: everything the review web app does, for people, scripts and Airflow."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from earful.settings import Settings
    from earful_alerts.config import EmailChannel

app = typer.Typer(help="The ISO 10002 complaint register.", no_args_is_help=True)
users_app = typer.Typer(help="Manage the people who may sign in to the review web app.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Config = Annotated[Path | None, typer.Option("--config", "-c", help="YAML configuration file.")]
Actor = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="EARFUL_COMPLAINTS_ACTOR",
        help="Your user name (quality or admin role); or $EARFUL_COMPLAINTS_ACTOR.",
    ),
]
Expect = Annotated[
    int | None, typer.Option("--expect-version", help="Refuse if the record is no longer at this version.")
]
Ref = Annotated[str, typer.Argument(help="Record reference, e.g. C-2026-000123.")]
Note = Annotated[str | None, typer.Option("--note", help="A note for the event log.")]
PASSWORD_ENV = "EARFUL_COMPLAINTS_PASSWORD"  # noqa: S105 - the name of the variable, not a password


def _open(config: Path | None) -> tuple[Settings, Engine]:
    from earful.cli import load
    from earful.services import open_records

    settings = load(config)
    return settings, open_records(settings)


def _console() -> Console:
    from earful.cli import console

    return console()


def _act(config: Path | None, ref: str, action: str, values: dict[str, Any], actor: str, expect: int | None) -> None:
    from earful_complaints.register import apply_action
    from earful_complaints.users import require_writer

    settings, engine = _open(config)
    try:
        require_writer(engine, actor)
        record = apply_action(
            engine,
            settings.complaints,
            ref,
            action,
            {k: v for k, v in values.items() if v is not None},
            actor=actor,
            expected_version=expect,
        )
        _console().print(f"{ref}: {action} done; status {record['status']}, version {record['version']}", markup=False)
    finally:
        engine.dispose()


# ---- reading ------------------------------------------------------------------------------------------------


def _record_title(record: dict) -> str | None:
    """The title of the mention a record came from (its snapshot), if it had one."""
    snapshot = record.get("mention_snapshot") or {}
    title = snapshot.get("title") if isinstance(snapshot, dict) else None
    return title.strip() or None if isinstance(title, str) else None


def _one_line(text: str | None, limit: int) -> str:
    """`text` on one line, cut to `limit` characters."""
    value = " ".join((text or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


@app.command("list")
def list_(
    config: Config = None,
    status: Annotated[str | None, typer.Option(help="Only this state.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only records past a deadline.")] = False,
    severity: Annotated[str | None, typer.Option()] = None,
    language: Annotated[str | None, typer.Option()] = None,
    topic: Annotated[str | None, typer.Option()] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Hide closed, rejected and merged records.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for scripts.")] = False,
) -> None:
    """The work queue, most urgent first."""
    from rich.table import Table
    from rich.text import Text

    from earful_complaints.clock import iso
    from earful_complaints.register import QueueFilter, list_records

    _, engine = _open(config)
    rows, total = list_records(
        engine,
        QueueFilter(
            status=status,
            overdue=overdue,
            severity=severity,
            language=language,
            topic=topic,
            channel=channel,
            open_only=open_only,
        ),
        limit=limit,
    )
    engine.dispose()
    out = _console()
    if as_json:
        for r in rows:
            print(
                json.dumps(
                    {
                        k: r[k]
                        for k in (
                            "ref",
                            "status",
                            "version",
                            "severity",
                            "channel",
                            "language",
                            "topic",
                            "owner",
                            "overdue",
                            "description",
                        )
                    }
                    | {
                        "title": _record_title(r),
                        "received_at": iso(r["received_at"]),
                        "due_response": iso(r["due_response"]),
                    },
                    ensure_ascii=False,
                )
            )
        return
    table = Table(title=f"{len(rows)} of {total} records")
    for col in ("ref", "status", "severity", "channel", "lang", "topic", "what", "owner", "received", "respond by", ""):
        table.add_column(col, overflow="fold" if col == "what" else "ellipsis")
    for r in rows:
        # Text cells: what people typed (owner, topic...) is shown as typed, never read as rich markup.
        what = _one_line(_record_title(r) or r["description"], 70)
        cells = [
            r["ref"],
            r["status"],
            r["severity"] or "-",
            r["channel"],
            r["language"],
            r["topic"] or "-",
            what or "-",
            r["owner"] or "-",
            f"{r['received_at']:%Y-%m-%d %H:%M}",
            f"{r['due_response']:%Y-%m-%d %H:%M}",
        ]
        table.add_row(*(Text(str(c)) for c in cells), Text("OVERDUE", style="red") if r["overdue"] else "")
    out.print(table)


@app.command()
def show(
    ref: Ref,
    config: Config = None,
    as_json: Annotated[bool, typer.Option("--json", help="The record and its events as JSON.")] = False,
) -> None:
    """One record: every field, its links and its event history."""
    from rich.markup import escape

    from earful_complaints.clock import jsonable
    from earful_complaints.register import get_events, get_links, get_record

    _, engine = _open(config)
    record = get_record(engine, ref)
    events = get_events(engine, ref)
    mentions, alerts = get_links(engine, record["id"])
    engine.dispose()
    if as_json:
        doc = {k: jsonable(v) for k, v in record.items()}
        doc.update(
            mentions=mentions,
            alerts=[a["alert_id"] for a in alerts],
            events=[{k: jsonable(v) for k, v in e.items()} for e in events],
        )
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    out = _console()
    out.print(f"[bold]{escape(ref)}[/]  {record['status']}  (version {record['version']})")
    for key, value in record.items():
        if value is not None and key not in ("id", "mention_snapshot", "ref", "status", "version"):
            out.print(f"  {key}: {escape(str(jsonable(value)))}")
    out.print(
        f"  mentions: {', '.join(mentions) or '-'}; alerts: {', '.join(a['alert_id'] for a in alerts) or '-'}",
        markup=False,
    )
    out.print("[bold]events[/]")
    for e in events:
        change = f"{e['from_state'] or ''} -> {e['to_state']}" if e["from_state"] != e["to_state"] else ""
        out.print(
            f"  #{e['seq']} {e['at']:%Y-%m-%d %H:%M:%S} {escape(e['actor'])} {e['action']} {change}"
            + (f": {escape(e['note'])}" if e["note"] else "")
        )


# ---- intake and the process -----------------------------------------------------------------------------------


@app.command()
def new(
    channel: Annotated[str, typer.Option(help="How it arrived: email, phone, web_form, letter, in_person, other.")],
    description: Annotated[str, typer.Option(help="What the complainant says.")],
    actor: Actor,
    config: Config = None,
    complainant: Annotated[str | None, typer.Option(help="Pseudonymous complainant reference.")] = None,
    product: Annotated[str | None, typer.Option(help="Product or service concerned.")] = None,
    category: Annotated[str | None, typer.Option()] = None,
    remedy: Annotated[str | None, typer.Option(help="Remedy sought.")] = None,
    language: Annotated[str | None, typer.Option()] = None,
    topic: Annotated[str | None, typer.Option()] = None,
    received_at: Annotated[str | None, typer.Option(help="ISO date-time it arrived (default: now).")] = None,
    name: Annotated[str | None, typer.Option(help="Complainant's name (optional).")] = None,
    email: Annotated[str | None, typer.Option(help="Complainant's e-mail address (optional).")] = None,
    phone: Annotated[str | None, typer.Option(help="Complainant's phone number (optional).")] = None,
    immediate_action: Annotated[str | None, typer.Option(help="Immediate action taken.")] = None,
) -> None:
    """Manual intake: a complaint that arrived by another channel."""
    from earful_complaints.intake import open_manual
    from earful_complaints.users import require_writer

    settings, engine = _open(config)
    require_writer(engine, actor)
    ref = open_manual(
        engine,
        settings.complaints,
        {
            "channel": channel,
            "description": description,
            "complainant_ref": complainant,
            "product_service": product,
            "category": category,
            "remedy_sought": remedy,
            "language": language,
            "topic": topic,
            "received_at": received_at,
            "complainant_name": name,
            "complainant_email": email,
            "complainant_phone": phone,
            "immediate_action": immediate_action,
        },
        actor=actor,
    )
    engine.dispose()
    _console().print(ref, markup=False)


@app.command()
def ack(
    ref: Ref,
    actor: Actor,
    channel: Annotated[str, typer.Option(help="public_reply, direct_message, email, phone, letter, ...")],
    text: Annotated[str, typer.Option(help="The acknowledgement sent.")],
    owner: Annotated[str | None, typer.Option()] = None,
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Acknowledge: confirm it is a complaint and record the acknowledgement sent."""
    _act(
        config,
        ref,
        "acknowledge",
        {"ack_channel": channel, "ack_text": text, "owner": owner, "note": note},
        actor,
        expect,
    )


@app.command()
def reject(
    ref: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option(help="Why it is not a complaint.")],
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Not a complaint (the justification is required; it becomes a training label)."""
    _act(config, ref, "reject", {"rejection_reason": reason}, actor, expect)


@app.command()
def assess(
    ref: Ref,
    actor: Actor,
    severity: Annotated[str, typer.Option(help="low, medium, high, critical")],
    category: Annotated[str, typer.Option()],
    impact: Annotated[str, typer.Option(help="low, medium, high")] = "medium",
    complexity: Annotated[str, typer.Option(help="low, medium, high")] = "medium",
    urgency: Annotated[str, typer.Option(help="low, medium, high")] = "medium",
    safety: Annotated[bool, typer.Option("--safety/--no-safety")] = False,
    product: Annotated[str | None, typer.Option()] = None,
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Initial assessment: severity, impact, complexity, urgency, safety (sets the response deadline)."""
    _act(
        config,
        ref,
        "assess",
        {
            "severity": severity,
            "category": category,
            "impact": impact,
            "complexity": complexity,
            "urgency": urgency,
            "safety": safety,
            "product_service": product,
            "note": note,
        },
        actor,
        expect,
    )


@app.command()
def assign(
    ref: Ref,
    actor: Actor,
    investigator: Annotated[str, typer.Option()],
    owner: Annotated[str | None, typer.Option()] = None,
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Assign the investigator, a registered quality or admin user (starts or restarts the investigation)."""
    _act(config, ref, "assign", {"investigator": investigator, "owner": owner, "note": note}, actor, expect)


@app.command()
def investigate(
    ref: Ref,
    actor: Actor,
    notes: Annotated[str | None, typer.Option()] = None,
    root_cause: Annotated[str | None, typer.Option()] = None,
    evidence: Annotated[str | None, typer.Option()] = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Record investigation findings: notes, root cause, evidence (only the assigned investigator may)."""
    _act(
        config,
        ref,
        "investigate",
        {"investigation_notes": notes, "root_cause": root_cause, "evidence": evidence},
        actor,
        expect,
    )


@app.command()
def decide(
    ref: Ref,
    actor: Actor,
    decision: Annotated[str, typer.Option()],
    resolution: Annotated[str, typer.Option(help="The remedy offered.")],
    root_cause: Annotated[str | None, typer.Option()] = None,
    corrective_action: Annotated[str | None, typer.Option(help="ISO 9001 10.2 reference.")] = None,
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Decide (not the investigator, nor anyone who recorded findings on the record)."""
    _act(
        config,
        ref,
        "decide",
        {
            "decision": decision,
            "resolution": resolution,
            "root_cause": root_cause,
            "corrective_action_ref": corrective_action,
            "note": note,
        },
        actor,
        expect,
    )


@app.command()
def communicate(
    ref: Ref,
    actor: Actor,
    channel: Annotated[str, typer.Option()],
    text: Annotated[str, typer.Option(help="What was communicated.")],
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Record that the decision was communicated to the complainant."""
    _act(
        config,
        ref,
        "communicate",
        {"communicated_channel": channel, "communication_text": text, "note": note},
        actor,
        expect,
    )


@app.command()
def escalate(
    ref: Ref,
    actor: Actor,
    external_ref: Annotated[str, typer.Option()],
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Escalate to an external dispute resolution body."""
    _act(config, ref, "escalate", {"external_dispute_ref": external_ref, "note": note}, actor, expect)


@app.command()
def close(
    ref: Ref,
    actor: Actor,
    reason: Annotated[str, typer.Option()],
    accepted: Annotated[str, typer.Option(help="Did the complainant accept: yes, no, unknown.")] = "unknown",
    external_ref: Annotated[str | None, typer.Option()] = None,
    satisfaction: Annotated[str | None, typer.Option(help="Satisfaction score 1-5.")] = None,
    recourse: Annotated[
        str | None, typer.Option(help="Recourse offered when not accepted, e.g. iso_10003_provider.")
    ] = None,
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Close (only after the decision was communicated; 'not accepted' needs the recourse offered)."""
    _act(
        config,
        ref,
        "close",
        {
            "closure_reason": reason,
            "complainant_accepted": accepted,
            "external_dispute_ref": external_ref,
            "satisfaction_score": satisfaction,
            "recourse_offered": recourse,
            "note": note,
        },
        actor,
        expect,
    )


@app.command()
def merge(
    ref: Ref,
    actor: Actor,
    into: Annotated[str, typer.Option(help="Reference of the record to keep.")],
    note: Note = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Merge a duplicate into another record."""
    _act(config, ref, "merge", {"merged_into": into, "note": note}, actor, expect)


@app.command()
def reopen(
    ref: Ref, actor: Actor, reason: Annotated[str, typer.Option()], expect: Expect = None, config: Config = None
) -> None:
    """Reopen a closed record."""
    _act(config, ref, "reopen", {"reopen_reason": reason}, actor, expect)


@app.command()
def note(ref: Ref, text: Annotated[str, typer.Argument()], actor: Actor, config: Config = None) -> None:
    """Add a note to the event log."""
    _act(config, ref, "note", {"note": text}, actor, None)


@app.command()
def contact(
    ref: Ref,
    actor: Actor,
    name: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Record the complainant's contact details (optional; needed to e-mail them from the register)."""
    values = {"complainant_name": name, "complainant_email": email, "complainant_phone": phone}
    _act(config, ref, "contact", values, actor, expect)


@app.command("immediate-action")
def immediate_action(
    ref: Ref, actor: Actor, text: Annotated[str, typer.Argument()], expect: Expect = None, config: Config = None
) -> None:
    """Record the immediate action taken (ISO 10002 7.3)."""
    _act(config, ref, "immediate_action", {"immediate_action": text}, actor, expect)


@app.command("set-owner")
def set_owner(
    ref: Ref, actor: Actor, owner: Annotated[str, typer.Option()], expect: Expect = None, config: Config = None
) -> None:
    """Give the record another owner."""
    _act(config, ref, "set_owner", {"owner": owner}, actor, expect)


@app.command("escalate-internal")
def escalate_internal(
    ref: Ref,
    actor: Actor,
    to: Annotated[str, typer.Option(help="The person who takes it over (becomes owner).")],
    reason: Annotated[str, typer.Option()],
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Escalate inside the organisation."""
    _act(config, ref, "escalate_internal", {"escalated_to": to, "escalation_reason": reason}, actor, expect)


@app.command()
def corrective(
    ref: Ref,
    actor: Actor,
    action: Annotated[str, typer.Option(help="The corrective action (ISO 9001 10.2).")],
    due: Annotated[str, typer.Option(help="Follow-up date, YYYY-MM-DD.")],
    owner: Annotated[str | None, typer.Option()] = None,
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Plan a corrective action with its follow-up date."""
    values = {"corrective_action": action, "corrective_due": due, "corrective_owner": owner}
    _act(config, ref, "plan_corrective", values, actor, expect)


@app.command("follow-up")
def follow_up(
    ref: Ref,
    actor: Actor,
    status: Annotated[str, typer.Option(help="in_progress, done, effective or not_effective.")],
    checked: Annotated[str, typer.Option(help="What was checked.")],
    expect: Expect = None,
    config: Config = None,
) -> None:
    """Follow up the corrective action."""
    values = {"corrective_status": status, "corrective_followup": checked}
    _act(config, ref, "follow_up_corrective", values, actor, expect)


@app.command("log-communication")
def log_comm(
    ref: Ref,
    actor: Actor,
    text: Annotated[str, typer.Argument()],
    direction: Annotated[str, typer.Option(help="in (from the complainant) or out (to them).")] = "in",
    channel: Annotated[str, typer.Option()] = "phone",
    counterpart: Annotated[str | None, typer.Option("--with", help="Address or number.")] = None,
    config: Config = None,
) -> None:
    """Log a communication with the complainant that happened elsewhere."""
    from earful_complaints.communications import log_communication
    from earful_complaints.users import require_writer

    settings, engine = _open(config)
    try:
        require_writer(engine, actor)
        log_communication(
            engine,
            settings.complaints,
            ref,
            direction=direction,
            channel=channel,
            text=text,
            counterpart=counterpart,
            actor=actor,
        )
    finally:
        engine.dispose()
    _console().print(f"{ref}: communication logged", markup=False)


def mail_channel(settings: Settings) -> EmailChannel | None:
    """The alerts e-mail channel named by complaints.email_channel (None when unset); ComplaintError when the
    name is not an e-mail channel."""
    from earful_alerts.config import EmailChannel
    from earful_complaints.errors import ComplaintError

    name = settings.complaints.email_channel
    if not name:
        return None
    channel = settings.alerts.channels.get(name)
    if not isinstance(channel, EmailChannel):
        raise ComplaintError(
            f"complaints.email_channel names {name!r}, which is not an e-mail channel in alerts.channels"
        )
    return channel


@app.command("send-email")
def send_email_cmd(
    ref: Ref,
    actor: Actor,
    subject: Annotated[str, typer.Option()],
    text: Annotated[str, typer.Option()],
    purpose: Annotated[str, typer.Option(help="acknowledgement, decision or message.")] = "message",
    expect: Expect = None,
    config: Config = None,
) -> None:
    """E-mail the complainant through the configured channel (an acknowledgement or decision takes that step)."""
    from earful_complaints.communications import send_email
    from earful_complaints.users import require_writer

    settings, engine = _open(config)
    try:
        require_writer(engine, actor)
        record = send_email(
            engine,
            settings.complaints,
            mail_channel(settings),
            ref,
            purpose=purpose,
            subject=subject,
            text=text,
            actor=actor,
            expected_version=expect,
        )
    finally:
        engine.dispose()
    _console().print(f"{ref}: e-mail sent; status {record['status']}, version {record['version']}", markup=False)


@app.command()
def retention(
    apply: Annotated[bool, typer.Option("--apply", help="Redact them (default: only list).")] = False,
    config: Config = None,
) -> None:
    """Finished records past their retention period (retention.years): list them, or redact their personal data."""
    from earful_complaints.clock import now_utc
    from earful_complaints.retention import expired, redact_expired

    _, engine = _open(config)
    try:
        refs = redact_expired(engine, now_utc()) if apply else expired(engine, now_utc())
    finally:
        engine.dispose()
    verb = "redacted" if apply else "past their retention period (run with --apply to redact)"
    _console().print(f"{len(refs)} record(s) {verb}" + (f": {', '.join(refs)}" if refs else ""), markup=False)


# ---- audit, deadlines, reports, labels --------------------------------------------------------------------------


@app.command()
def verify(config: Config = None) -> None:
    """Check the hash chain of the event log and every record against its events (exit 1 when tampered)."""
    from rich.markup import escape

    from earful_complaints.audit import verify as verify_chain

    _, engine = _open(config)
    report = verify_chain(engine)
    engine.dispose()
    out = _console()
    if report.ok:
        out.print(f"ok: {report.events} events, {report.records} records; chain head {report.head_hash}")
        return
    for problem in report.problems:
        out.print(f"[red]TAMPERED[/] {escape(problem)}")
    out.print(f"{len(report.problems)} problem(s) in {report.events} events, {report.records} records")
    raise typer.Exit(1)


@app.command("check-deadlines")
def check_deadlines(config: Config = None) -> None:
    """Record missed deadlines as events and raise an alert for each (run hourly)."""
    from earful_complaints.clock import now_utc
    from earful_complaints.deadlines import check_overdue

    settings, engine = _open(config)
    refs = check_overdue(engine, settings.complaints, now_utc())
    engine.dispose()
    _console().print(f"{len(refs)} record(s) newly overdue" + (f": {', '.join(refs)}" if refs else ""))


@app.command()
def report(
    from_: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD).")],
    to: Annotated[datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included.")],
    fmt: Annotated[str, typer.Option("--format", help="html or csv")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    config: Config = None,
) -> None:
    """Clause 8 analysis for a period: volumes, times to acknowledge/respond/close, reopen rate, root causes."""
    from earful_common.errors import UsageError
    from earful_complaints.clock import now_utc
    from earful_complaints.reports import build_report, check_period, period_bounds, render_csv, render_html

    if fmt not in ("html", "csv"):
        raise UsageError("--format must be html or csv")
    if to < from_:
        raise UsageError("--to must not be before --from")
    first, last = check_period(from_.date(), to.date(), today=now_utc().date())
    settings, engine = _open(config)
    start, end = period_bounds(first, last)
    rep = build_report(engine, settings.complaints, start, end)
    engine.dispose()
    text = render_html(rep) if fmt == "html" else render_csv(rep)
    if output:
        output.write_text(text, encoding="utf-8")
        _console().print(f"wrote {output} ({rep.total} records)", markup=False)
    else:
        print(text, end="")


@app.command("export-labels")
def export_labels(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.jsonl or .csv).")],
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only decisions from this day.")] = None,
    config: Config = None,
) -> None:
    """Confirmed and rejected social-listening records as labeled data for retraining the complaint model."""
    from earful_complaints.labels import write_labels

    _, engine = _open(config)
    counts = write_labels(engine, output, since=since)
    engine.dispose()
    _console().print(
        f"wrote {output}: {counts['complaint']} complaint, {counts['not_complaint']} not a complaint", markup=False
    )


@app.command()
def serve(
    config: Config = None,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Start the web app: the complaint register and the listening dashboard (also `earful web`)."""
    import uvicorn

    from earful.cli import load
    from earful.services import open_services
    from earful_complaints.web.app import create_app
    from earful_complaints.web.dash_deps import DashboardIndex

    settings = load(config)
    web = settings.complaints.web
    # The index (the embedded noida-db attached for as long as the app runs) is optional: when it does not answer,
    # the register still works and the dashboard's pages say why they cannot.
    with open_services(settings, index_optional=True) as services:
        dashboard = DashboardIndex(
            es=None if services.index_error else services.es,
            alias=services.alias,
            labels_dir=settings.data_dir / "labels",
            topics=[t.name for t in settings.topics],
            error=services.index_error,
        )
        if services.index_error:
            _console().print(f"warning: {services.index_error}; the dashboard is off", markup=False)
        # Proxy headers are the app's business (web.trusted_proxies), not the server's.
        uvicorn.run(
            create_app(services.engine, settings.complaints, dashboard=dashboard, mail=mail_channel(settings)),
            host=host or web.host,
            port=port or web.port,
            proxy_headers=False,
            server_header=False,
        )


# ---- users ------------------------------------------------------------------------------------------------------


def _password(confirm: bool) -> str:
    """From $EARFUL_COMPLAINTS_PASSWORD (scripts) or a hidden prompt, never from an argument."""
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str, typer.Option(help="viewer, comms, quality or admin")],
    config: Config = None,
) -> None:
    """Add a user; the password comes from a prompt or $EARFUL_COMPLAINTS_PASSWORD."""
    from earful_complaints.users import add_user

    settings, engine = _open(config)
    user = add_user(engine, username, _password(confirm=True), role, limits=settings.complaints.limits)
    engine.dispose()
    _console().print(f"added {user.username} ({user.role})", markup=False)


@users_app.command("set")
def users_set(
    username: Annotated[str, typer.Argument()],
    role: Annotated[str | None, typer.Option()] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    password: Annotated[bool, typer.Option("--password", help="Set a new password (prompted).")] = False,
    config: Config = None,
) -> None:
    """Change a user's role, deactivate or reactivate them, or set a new password."""
    from earful_complaints.users import set_user

    settings, engine = _open(config)
    user = set_user(
        engine,
        username,
        limits=settings.complaints.limits,
        role=role,
        active=active,
        password=_password(True) if password else None,
    )
    engine.dispose()
    # Changing the password, role or active flag signed the user out everywhere.
    _console().print(f"{user.username}: {user.role}, {'active' if user.active else 'inactive'}", markup=False)


@users_app.command("list")
def users_list(config: Config = None) -> None:
    """Every user with role and status."""
    from rich.table import Table
    from rich.text import Text

    from earful_complaints.users import list_users

    _, engine = _open(config)
    table = Table()
    for col in ("user", "role", "active"):
        table.add_column(col)
    for user in list_users(engine):
        table.add_row(Text(user.username), user.role, "yes" if user.active else "no")
    engine.dispose()
    _console().print(table)
