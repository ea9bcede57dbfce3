"""The rest of ISO 10002 on a real database (issue 17): the safety flag's deadlines and alert, internal escalation
and corrective follow-up in the chain, the view log, and the retention rule (housekeeping) with `verify` holding."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from earful_alerts.tables import alerts
from earful_complaints.audit import verify
from earful_complaints.register import apply_action, get_events, get_links, get_record
from earful_complaints.retention import REDACTED, expired, redact_expired
from earful_complaints.viewlog import log_view, recent_views, views_of
from tests.complaints.conftest import HAPPY_PATH, T0, open_one, work_to

ASSESS = dict(HAPPY_PATH[1][2])


def test_safety_issue_shortens_the_deadline_and_raises_an_alert(engine, settings) -> None:
    plain, unsafe = open_one(engine, settings, 1), open_one(engine, settings, 2)
    for ref, safety in ((plain, ""), (unsafe, "on")):
        work_to(engine, settings, ref, 1)
        apply_action(engine, settings, ref, "assess", {**ASSESS, "severity": "low", "safety": safety}, actor="dana")
    low, critical = settings.targets["low"].respond_hours, settings.targets["critical"].respond_hours
    for ref, hours in ((plain, low), (unsafe, critical)):
        record = get_record(engine, ref)
        assert record["due_response"] - record["received_at"] == timedelta(hours=hours)
    with engine.connect() as conn:
        kinds = list(conn.execute(sa.select(alerts.c.kind, alerts.c.severity)).all())
    assert ("complaint_safety", "critical") in [tuple(k) for k in kinds]
    _, linked = get_links(engine, get_record(engine, unsafe)["id"])
    assert [a["rule"] for a in linked if a["rule"] == "complaint_safety"] == ["complaint_safety"]
    assert verify(engine).ok


def test_escalation_and_corrective_follow_up_are_events(engine, settings) -> None:
    ref = open_one(engine, settings)
    work_to(engine, settings, ref, 3)
    apply_action(
        engine, settings, ref, "escalate_internal", {"escalated_to": "erik", "escalation_reason": "Big"}, actor="dana"
    )
    work_to_rest = HAPPY_PATH[3:]
    from earful_complaints.register import apply_action as act

    for action, actor, values in work_to_rest:
        act(engine, settings, ref, action, values, actor=actor)
    due = (T0 + timedelta(days=400)).date().isoformat()
    act(engine, settings, ref, "plan_corrective", {"corrective_action": "New box", "corrective_due": due}, actor="dana")
    act(
        engine,
        settings,
        ref,
        "follow_up_corrective",
        {"corrective_status": "effective", "corrective_followup": "No breakage since"},
        actor="erik",
    )
    record = get_record(engine, ref)
    assert record["owner"] == "erik" and record["escalated_by"] == "dana"
    assert record["corrective_status"] == "effective" and record["status"] == "closed"
    actions = [e["action"] for e in get_events(engine, ref)]
    assert "escalate_internal" in actions and actions[-2:] == ["plan_corrective", "follow_up_corrective"]
    assert verify(engine).ok, verify(engine).problems


def test_view_log(engine, settings) -> None:
    ref = open_one(engine, settings)
    record = get_record(engine, ref)
    log_view(engine, record["id"], "dana", T0)
    log_view(engine, record["id"], "vera", T0 + timedelta(minutes=1))
    log_view(engine, record["id"], "dana", T0 + timedelta(minutes=2))
    assert [(v["username"], v["views"]) for v in recent_views(engine, record["id"])] == [("dana", 2), ("vera", 1)]
    assert [v["username"] for v in views_of(engine, record["id"])] == ["dana", "vera", "dana"]
    assert get_record(engine, ref)["version"] == record["version"]  # reading changes nothing


def test_retention_redacts_expired_records_and_the_chain_still_verifies(engine, settings) -> None:
    old, kept = open_one(engine, settings, 1), open_one(engine, settings, 2)
    work_to(engine, settings, old, len(HAPPY_PATH))
    retain_until = get_record(engine, old)["retain_until"]
    assert retain_until is not None and get_record(engine, kept)["retain_until"] is None
    assert expired(engine, retain_until - timedelta(days=1)) == []
    later = retain_until + timedelta(days=1)
    assert expired(engine, later) == [old]
    assert redact_expired(engine, later) == [old]
    record = get_record(engine, old)
    assert (
        record["description"] == REDACTED and record["complainant_ref"] is None and record["mention_snapshot"] is None
    )
    assert record["root_cause"] == "packaging" and record["severity"] == "high"  # analysis figures stay
    assert get_events(engine, old)[-1]["action"] == "retention_redact"
    assert redact_expired(engine, later) == []  # once
    assert get_record(engine, kept)["description"] != REDACTED
    assert verify(engine).ok, verify(engine).problems
