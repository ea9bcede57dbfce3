"""The hash chain makes tampering evident: edited, removed or forged events and records edited behind its back."""

from __future__ import annotations

import sqlalchemy as sa

from earful_complaints.audit import verify
from earful_complaints.tables import complaint_chain_head, complaint_events, complaints
from tests.complaints.conftest import open_one, work_to


def _setup(engine, settings) -> str:
    ref = open_one(engine, settings, 1)
    open_one(engine, settings, 2)
    work_to(engine, settings, ref, 5)
    report = verify(engine)
    assert report.ok and report.events == 7 and report.records == 2
    return ref


def test_edited_event_is_detected(engine, settings) -> None:
    _setup(engine, settings)
    with engine.begin() as conn:
        conn.execute(sa.update(complaint_events).where(complaint_events.c.seq == 5).values(actor="mallory"))
    problems = verify(engine).problems
    assert any("event 5" in p and "does not match its hash" in p for p in problems), problems


def test_rehashed_edit_breaks_the_next_link(engine, settings) -> None:
    """Recomputing the edited event's own hash does not help: the next event points at the old one."""
    from earful_complaints.audit import event_hash

    _setup(engine, settings)
    with engine.begin() as conn:
        row = dict(conn.execute(sa.select(complaint_events).where(complaint_events.c.seq == 4)).mappings().one())
        row["actor"] = "mallory"
        conn.execute(
            sa.update(complaint_events).where(complaint_events.c.seq == 4).values(actor="mallory", hash=event_hash(row))
        )
    problems = verify(engine).problems
    assert any("event 5" in p and "does not follow" in p for p in problems), problems


def test_deleted_event_is_detected(engine, settings) -> None:
    _setup(engine, settings)
    with engine.begin() as conn:
        conn.execute(sa.delete(complaint_events).where(complaint_events.c.seq == 3))
    problems = verify(engine).problems
    assert any("event 3 is missing" in p for p in problems), problems


def test_removed_tail_is_detected(engine, settings) -> None:
    _setup(engine, settings)
    with engine.begin() as conn:
        conn.execute(sa.delete(complaint_events).where(complaint_events.c.seq == 7))
    assert any("chain head" in p for p in verify(engine).problems)


def test_record_edited_outside_the_register_is_detected(engine, settings) -> None:
    ref = _setup(engine, settings)
    with engine.begin() as conn:
        conn.execute(sa.update(complaints).where(complaints.c.ref == ref).values(decided_by="ivan"))
    problems = verify(engine).problems
    assert problems == [f"{ref}: record differs from its event log in decided_by"]


def test_chain_head_is_reported(engine, settings) -> None:
    _setup(engine, settings)
    with engine.connect() as conn:
        head = conn.execute(sa.select(complaint_chain_head.c.hash)).scalar_one()
    assert verify(engine).head_hash == head and len(head) == 64
