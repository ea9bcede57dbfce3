"""The communication log of a record (ISO 10002 7.2-7.8): what went to and came from the complainant, when, how.

Each entry is a row of complaint_communications and an event of the hash chain (its note holds the text), so the
log is as tamper-evident as the rest of the history. `send_email` sends an acknowledgement, a decision or another
message from the register through the configured alerts e-mail channel and logs it as outbound; when it carries
the acknowledgement or the decision, the matching process step is taken with the sent text.
"""

from __future__ import annotations

import ssl
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.audit import append_event
from earful_complaints.clock import now_utc, utc
from earful_complaints.config import ComplaintsSettings
from earful_complaints.errors import ComplaintError, StaleRecord, TransitionRefused
from earful_complaints.tables import complaint_communications

if TYPE_CHECKING:
    from earful_alerts.config import EmailChannel

DIRECTIONS = ("in", "out")
# What a sent message is: the process step it completes (None: a message only).
PURPOSES = {"acknowledgement": "acknowledge", "decision": "communicate", "message": None}


class SendFailed(ComplaintError):
    """The e-mail could not be sent (it is logged as failed; the record is unchanged)."""


def log_communication(
    engine: Engine,
    settings: ComplaintsSettings,
    ref: str,
    *,
    direction: str,
    channel: str,
    text: str,
    actor: str,
    counterpart: str | None = None,
    subject: str | None = None,
    delivery: str = "logged",
    error: str | None = None,
    now: datetime | None = None,
) -> int:
    """Add one entry to the record's communication log (and the chain); returns the entry's id."""
    from earful_complaints.process import RESPONSE_CHANNELS
    from earful_complaints.register import _load

    now = utc(now) or now_utc()
    text = (text or "").strip()
    if direction not in DIRECTIONS:
        raise TransitionRefused("valid-value", f"direction must be in or out, not {direction!r}")
    if channel not in RESPONSE_CHANNELS:
        raise TransitionRefused(
            "valid-value", f"channel must be one of {', '.join(RESPONSE_CHANNELS)}, not {channel!r}"
        )
    if not text:
        raise TransitionRefused("required-field", "a communication needs its text")
    if len(text) > settings.limits.long_text_chars:
        raise TransitionRefused("field-size", f"text is longer than {settings.limits.long_text_chars} characters")
    for name, value in (("counterpart", counterpart), ("subject", subject)):
        if value and len(value) > settings.limits.short_text_chars:
            raise TransitionRefused(
                "field-size", f"{name} is longer than {settings.limits.short_text_chars} characters"
            )
    with engine.begin() as conn:
        record = _load(conn, ref)
        arrow = "from" if direction == "in" else "to"
        head = f"{direction} via {channel}" + (f" {arrow} {counterpart}" if counterpart else "")
        head += f" [{delivery}" + (f": {error}" if error else "") + "]"
        seq = append_event(
            conn,
            complaint_id=record["id"],
            ref=ref,
            at=now,
            actor=actor,
            action="communication",
            from_state=record["status"],
            to_state=record["status"],
            before={},
            after={},
            note=f"{head}\n{subject + chr(10) if subject else ''}{text}",
        )
        return conn.execute(
            sa.insert(complaint_communications)
            .values(
                complaint_id=record["id"],
                at=now,
                direction=direction,
                channel=channel,
                counterpart=counterpart or None,
                subject=subject or None,
                text=text,
                actor=actor,
                delivery=delivery,
                error=error,
                event_seq=seq,
            )
            .returning(complaint_communications.c.id)
        ).scalar_one()


def get_communications(engine: Engine, complaint_id: int) -> list[dict[str, Any]]:
    """The record's communication log, oldest first."""
    c = complaint_communications.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(complaint_communications).where(c.complaint_id == complaint_id).order_by(c.id))
        return [dict(r) for r in rows.mappings()]


def send_email(
    engine: Engine,
    settings: ComplaintsSettings,
    mail: EmailChannel | None,
    ref: str,
    *,
    purpose: str,
    subject: str,
    text: str,
    actor: str,
    expected_version: int | None = None,
    ssl_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """E-mail the complainant from the register; returns the record afterwards.

    The process step the message completes is checked before anything is sent (a refused step sends nothing),
    the message is logged as outbound (sent or failed) whatever happens, and the step is taken only once sent.
    """
    from earful_alerts.channels.smtp import deliver, plain_email
    from earful_complaints.process import plan
    from earful_complaints.register import apply_action, get_record
    from earful_complaints.users import staff_names

    now = utc(now) or now_utc()
    if mail is None:
        raise ComplaintError(
            "no e-mail channel is configured for the register: set complaints.email_channel to the name of an "
            "alerts e-mail channel (alerts.channels.NAME with type: email)"
        )
    if purpose not in PURPOSES:
        raise TransitionRefused("valid-value", f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    subject, text = " ".join((subject or "").split()), (text or "").strip()
    if not subject or not text:
        raise TransitionRefused("required-field", "an e-mail needs a subject and a text")
    record = get_record(engine, ref)
    if expected_version is not None and record["version"] != expected_version:
        raise StaleRecord(
            f"{ref} was changed by someone else meanwhile (now version {record['version']}, you edited version "
            f"{expected_version}); nothing was sent: reload the record and try again"
        )
    to = record.get("complainant_email")
    if not to:
        raise TransitionRefused(
            "complainant-email", f"{ref} has no complainant e-mail address; add it under contact details first"
        )
    step = PURPOSES[purpose]
    values = _step_values(step, text)
    if step:  # dry run: a step the process refuses sends nothing
        plan(step, record, values, actor=actor, now=now, settings=settings, staff=staff_names(engine))
    outcome = deliver(plain_email(mail, to, subject, text, message_id=ref), mail, ssl_context)
    log_communication(
        engine,
        settings,
        ref,
        direction="out",
        channel="email",
        text=text,
        subject=subject,
        counterpart=to,
        actor=actor,
        delivery="sent" if outcome.ok else "failed",
        error=None if outcome.ok else (outcome.error or "not sent")[:300],
        now=now,
    )
    if not outcome.ok:
        raise SendFailed(f"the e-mail to the complainant of {ref} was not sent ({outcome.error}); logged as failed")
    if step:
        return apply_action(engine, settings, ref, step, values, actor=actor, now=now)
    return get_record(engine, ref)


def _step_values(step: str | None, text: str) -> dict[str, str]:
    if step == "acknowledge":
        return {"ack_channel": "email", "ack_text": text}
    if step == "communicate":
        return {"communicated_channel": "email", "communication_text": text}
    return {}
