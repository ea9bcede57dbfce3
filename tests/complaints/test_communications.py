"""The communication log end to end: entries in and out, and e-mails sent from the register through the alerts
e-mail channel to a real local SMTP server (aiosmtpd with STARTTLS and login), logged as outbound."""

from __future__ import annotations

import pytest

from earful_alerts.config import EmailChannel
from earful_complaints.audit import verify
from earful_complaints.communications import SendFailed, get_communications, log_communication, send_email
from earful_complaints.errors import TransitionRefused
from earful_complaints.intake import open_manual
from earful_complaints.register import apply_action, get_events, get_record
from tests.alerts.conftest import smtp_server  # noqa: F401 - the real SMTP server fixture
from tests.complaints.conftest import HAPPY_PATH, ensure_staff


def _mail(server, **overrides) -> EmailChannel:
    values = {
        "type": "email",
        "host": server.host,
        "port": server.port,
        "security": "starttls",
        "username": "alerts",
        "password": "s3cret",
        "sender": "complaints@example.org",
    }
    return EmailChannel(**{**values, **overrides})


def _manual(engine, settings, email: str | None = "kim@example.org") -> str:
    values = {"channel": "phone", "description": "Kettle leaks.", "complainant_name": "Kim"}
    if email:
        values["complainant_email"] = email
    return open_manual(engine, settings, values, actor="dana")


def test_log_in_and_out(engine, settings) -> None:
    ref = _manual(engine, settings)
    log_communication(
        engine, settings, ref, direction="in", channel="phone", text="Called, still waiting.", actor="dana"
    )
    log_communication(
        engine, settings, ref, direction="out", channel="letter", text="Letter with the form.", actor="dana"
    )
    log = get_communications(engine, get_record(engine, ref)["id"])
    assert [(c["direction"], c["channel"], c["delivery"]) for c in log] == [
        ("in", "phone", "logged"),
        ("out", "letter", "logged"),
    ]
    events = get_events(engine, ref)
    assert [e["action"] for e in events[-2:]] == ["communication", "communication"]
    assert "Called, still waiting." in events[-2]["note"] and log[0]["event_seq"] == events[-2]["seq"]
    with pytest.raises(TransitionRefused, match="direction"):
        log_communication(engine, settings, ref, direction="sideways", channel="phone", text="x", actor="dana")
    assert verify(engine).ok


def test_acknowledgement_and_decision_sent_by_email(engine, settings, smtp_server) -> None:
    ensure_staff(engine)
    ref = _manual(engine, settings)
    mail = _mail(smtp_server)
    ack = "Dear Kim, we received your complaint and are looking into it."
    record = send_email(
        engine,
        settings,
        mail,
        ref,
        purpose="acknowledgement",
        subject=f"Your complaint {ref}",
        text=ack,
        actor="dana",
        ssl_context=smtp_server.client_tls,
    )
    assert record["status"] == "acknowledged" and record["ack_channel"] == "email" and record["ack_text"] == ack
    received = smtp_server.messages[0]
    assert received["To"] == "kim@example.org" and received["From"] == "complaints@example.org"
    assert received["Subject"] == f"Your complaint {ref}" and ack in received.get_content()
    for action, actor, values in HAPPY_PATH[1:5]:
        apply_action(engine, settings, ref, action, values, actor=actor)
    decision = "We will replace the kettle."
    record = send_email(
        engine,
        settings,
        mail,
        ref,
        purpose="decision",
        subject="Our decision\r\nBcc: eve@evil.example",  # a line break cannot add a header
        text=decision,
        actor="dana",
        ssl_context=smtp_server.client_tls,
    )
    assert record["status"] == "communicated" and record["communicated_channel"] == "email"
    assert len(smtp_server.messages) == 2 and smtp_server.messages[1]["Bcc"] is None
    log = get_communications(engine, record["id"])
    assert [(c["direction"], c["channel"], c["delivery"], c["counterpart"]) for c in log] == [
        ("out", "email", "sent", "kim@example.org"),
        ("out", "email", "sent", "kim@example.org"),
    ]
    assert verify(engine).ok, verify(engine).problems


def test_refused_step_sends_nothing_and_failure_is_logged(engine, settings, smtp_server) -> None:
    ref = _manual(engine, settings)
    mail = _mail(smtp_server)
    with pytest.raises(TransitionRefused, match="legal-transition"):
        send_email(
            engine, settings, mail, ref, purpose="decision", subject="s", text="t", actor="dana",
            ssl_context=smtp_server.client_tls,
        )  # fmt: skip
    assert smtp_server.messages == [] and get_communications(engine, get_record(engine, ref)["id"]) == []
    with pytest.raises(SendFailed, match="not sent"):
        send_email(
            engine, settings, _mail(smtp_server, password="wrong"), ref, purpose="acknowledgement", subject="s",
            text="t", actor="dana", ssl_context=smtp_server.client_tls,
        )  # fmt: skip
    record = get_record(engine, ref)
    assert record["status"] == "received"  # not acknowledged: nothing reached the complainant
    [entry] = get_communications(engine, record["id"])
    assert entry["delivery"] == "failed" and "login refused" in entry["error"] and "wrong" not in entry["error"]
    no_address = _manual(engine, settings, email=None)
    with pytest.raises(TransitionRefused, match="complainant-email"):
        send_email(engine, settings, mail, no_address, purpose="message", subject="s", text="t", actor="dana")
