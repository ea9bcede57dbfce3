"""The register on a real database (SQLite and PostgreSQL): a whole case, guards, optimistic locking."""

from __future__ import annotations

import threading

import pytest

from earful_complaints.audit import verify
from earful_complaints.errors import RecordNotFound, StaleRecord, TransitionRefused
from earful_complaints.register import QueueFilter, apply_action, get_events, get_record, list_records
from tests.complaints.conftest import HAPPY_PATH, open_one, work_to


def test_received_to_closed_and_reopened(engine, settings) -> None:
    ref = open_one(engine, settings)
    assert ref.startswith("C-") and ref.endswith("-000001")
    work_to(engine, settings, ref, len(HAPPY_PATH))
    record = get_record(engine, ref)
    assert record["status"] == "closed"
    assert record["decided_by"] == "dana" and record["investigator"] == "ivan"
    assert record["complainant_accepted"] is True and record["closed_by"] == "dana"
    apply_action(engine, settings, ref, "reopen", {"reopen_reason": "It broke again"}, actor="dana")
    apply_action(engine, settings, ref, "assign", {"investigator": "ivan"}, actor="dana")
    assert get_record(engine, ref)["status"] == "investigating"
    events = get_events(engine, ref)
    assert [e["action"] for e in events] == ["receive", *[s[0] for s in HAPPY_PATH], "reopen", "assign"]
    closing = events[len(HAPPY_PATH)]
    assert closing["before"]["status"] == "communicated" and closing["after"]["status"] == "closed"
    assert verify(engine).ok, verify(engine).problems


def test_guards_are_enforced_with_the_rule_named(engine, settings) -> None:
    ref = open_one(engine, settings)
    with pytest.raises(TransitionRefused, match="legal-transition.*'close' is not allowed from state 'received'"):
        apply_action(engine, settings, ref, "close", {"closure_reason": "x"}, actor="dana")
    work_to(engine, settings, ref, 1)
    with pytest.raises(TransitionRefused, match="assessment-needs-severity"):
        apply_action(
            engine,
            settings,
            ref,
            "assess",
            {"impact": "low", "complexity": "low", "urgency": "low", "category": "product"},
            actor="dana",
        )
    work_to_from = HAPPY_PATH[1:4]
    for action, actor, values in work_to_from:
        apply_action(engine, settings, ref, action, values, actor=actor)
    with pytest.raises(TransitionRefused, match="decider-not-investigator"):
        apply_action(engine, settings, ref, "decide", {"decision": "ok", "resolution": "ok"}, actor="ivan")
    assert get_record(engine, ref)["status"] == "investigating"  # nothing saved by refusals
    assert verify(engine).ok


def test_merge_checks_its_target(engine, settings) -> None:
    first, second = open_one(engine, settings, 1), open_one(engine, settings, 2)
    with pytest.raises(TransitionRefused, match="merge-target"):
        apply_action(engine, settings, first, "merge", {"merged_into": first}, actor="dana")
    with pytest.raises(TransitionRefused, match="no record"):
        apply_action(engine, settings, first, "merge", {"merged_into": "C-1999-000001"}, actor="dana")
    apply_action(engine, settings, second, "merge", {"merged_into": first}, actor="dana")
    with pytest.raises(TransitionRefused, match="cannot merge into a record in state 'merged'"):
        apply_action(engine, settings, first, "merge", {"merged_into": second}, actor="dana")
    assert get_record(engine, second)["merged_into"] == first


def test_unknown_reference(engine, settings) -> None:
    with pytest.raises(RecordNotFound):
        apply_action(engine, settings, "C-2026-999999", "note", {"note": "x"}, actor="dana")


def test_stale_update_is_refused(engine, settings) -> None:
    """Two people opened version 1; the second to save is refused, and the first one's change is kept."""
    ref = open_one(engine, settings)
    seen = get_record(engine, ref)["version"]
    apply_action(
        engine,
        settings,
        ref,
        "acknowledge",
        {"ack_channel": "email", "ack_text": "first"},
        actor="dana",
        expected_version=seen,
    )
    with pytest.raises(StaleRecord, match="changed by someone else.*reload"):
        apply_action(
            engine, settings, ref, "reject", {"rejection_reason": "second"}, actor="erik", expected_version=seen
        )
    record = get_record(engine, ref)
    assert record["status"] == "acknowledged" and record["ack_text"] == "first" and record["rejection_reason"] is None


def test_concurrent_edits_lose_nothing(engine, settings) -> None:
    """Eight saves of the same version at once (the investigator's eight tabs; only the assigned investigator may
    record findings): exactly one wins, the others are told, the log stays intact."""
    ref = open_one(engine, settings)
    work_to(engine, settings, ref, 4)
    seen = get_record(engine, ref)["version"]
    barrier, results = threading.Barrier(8), []

    def edit(i: int) -> None:
        barrier.wait()
        try:
            apply_action(
                engine, settings, ref, "investigate", {"root_cause": f"cause {i}"}, actor="ivan", expected_version=seen
            )
            results.append(("ok", i))
        except StaleRecord:
            results.append(("stale", i))

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for kind, i in results if kind == "ok"]
    assert len(winners) == 1 and len(results) == 8
    record = get_record(engine, ref)
    assert record["root_cause"] == f"cause {winners[0]}" and record["version"] == seen + 1
    assert verify(engine).ok


def test_queue_filters(engine, settings) -> None:
    from datetime import timedelta

    a = open_one(engine, settings, 1)
    b = open_one(engine, settings, 2, language="fa", source_kind="x")
    work_to(engine, settings, a, 2)
    rows, total = list_records(engine, QueueFilter(status="received"))
    assert total == 1 and rows[0]["ref"] == b
    assert [r["ref"] for r in list_records(engine, QueueFilter(language="fa"))[0]] == [b]
    assert [r["ref"] for r in list_records(engine, QueueFilter(channel="x"))[0]] == [b]
    assert [r["ref"] for r in list_records(engine, QueueFilter(severity="high"))[0]] == [a]
    later = get_record(engine, b)["due_ack"] + timedelta(minutes=1)
    overdue = list_records(engine, QueueFilter(overdue=True), now=later)[0]
    assert [r["ref"] for r in overdue] == [b] and overdue[0]["overdue"]
