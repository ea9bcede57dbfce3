"""Intake from alerts is idempotent per mention, keeps a snapshot of the post, and survives hostile text."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from earful_complaints.audit import verify
from earful_complaints.errors import TransitionRefused
from earful_complaints.intake import RegisterComplaintOpener, open_manual
from earful_complaints.register import get_events, get_links, get_record
from earful_complaints.tables import complaints
from tests.complaints.conftest import make_mention


def test_same_mention_opens_one_record_and_links_each_alert(engine, settings) -> None:
    opener = RegisterComplaintOpener(engine, settings)
    mention = make_mention(7)
    ref = opener.open_from_alert(mention=mention, alert_id="a-1", topic="acme", rule="complaint_detected")
    again = opener.open_from_alert(mention=mention, alert_id="a-1", topic="acme", rule="complaint_detected")
    third = opener.open_from_alert(mention=mention, alert_id="a-2", topic="acme", rule="high_reach_negative")
    assert ref == again == third
    record = get_record(engine, ref)
    assert record["status"] == "received" and record["origin"] == "social_listening"
    assert record["channel"] == "reddit" and record["post_id"] == "t3_7" and record["complainant_ref"] == "a007"
    assert record["complaint_probability"] == 0.93 and record["topic"] == "acme"
    mentions, alerts = get_links(engine, record["id"])
    assert mentions == ["m0007"] and [a["alert_id"] for a in alerts] == ["a-1", "a-2"]
    assert [e["action"] for e in get_events(engine, ref)] == ["receive", "link_alert"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(complaints)).scalar_one() == 1


def test_concurrent_intake_of_one_mention(engine, settings) -> None:
    opener = RegisterComplaintOpener(engine, settings)
    barrier, refs, errors = threading.Barrier(6), [], []

    def intake(i: int) -> None:
        barrier.wait()
        try:
            refs.append(opener.open_from_alert(mention=make_mention(1), alert_id=f"a-{i}", topic="acme", rule="r"))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=intake, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(refs)) == 1 and len(refs) == 6
    _, alerts = get_links(engine, get_record(engine, refs[0])["id"])
    assert len(alerts) == 6
    assert verify(engine).ok


def test_snapshot_keeps_the_post_as_it_was_even_hostile(sqlite_engine, settings) -> None:
    hostile = '<script>alert("x")</script> مرجوعی کالا\u200cها خراب است \u202e\x00 😡' + "x" * 50_000
    ref = RegisterComplaintOpener(sqlite_engine, settings).open_from_alert(
        mention=make_mention(3, text=hostile, language="fa"), alert_id="a", topic="acme", rule="r"
    )
    snap = get_record(sqlite_engine, ref)["mention_snapshot"]
    assert snap["text"] == hostile[: settings.snapshot_max_chars]
    assert snap["text_truncated_from"] == len(hostile)
    assert snap["labels"]["complaint"] == "yes" and snap["url"].startswith("https://")
    assert verify(sqlite_engine).ok


def test_references_count_per_year(sqlite_engine, settings) -> None:
    opener = RegisterComplaintOpener(sqlite_engine, settings)
    refs = [opener.open_from_alert(mention=make_mention(i), alert_id="a", topic="t", rule="r") for i in range(3)]
    year = get_record(sqlite_engine, refs[0])["received_at"].year
    assert refs == [f"C-{year}-{i:06d}" for i in (1, 2, 3)]


def test_manual_intake(engine, settings) -> None:
    ref = open_manual(
        engine,
        settings,
        {"channel": "phone", "description": "Rang about a late delivery", "category": "delivery", "language": "de"},
        actor="dana",
    )
    record = get_record(engine, ref)
    assert record["origin"] == "manual" and record["channel"] == "phone" and record["status"] == "received"
    assert get_events(engine, ref)[0]["actor"] == "dana"


def test_manual_intake_validates(sqlite_engine, settings) -> None:
    import pytest

    with pytest.raises(TransitionRefused, match="needs description"):
        open_manual(sqlite_engine, settings, {"channel": "phone"}, actor="dana")
    with pytest.raises(TransitionRefused, match="channel must be one of"):
        open_manual(sqlite_engine, settings, {"channel": "pigeon", "description": "x"}, actor="dana")
    with pytest.raises(TransitionRefused, match="no field status"):
        open_manual(sqlite_engine, settings, {"channel": "phone", "description": "x", "status": "closed"}, actor="dana")
