"""The append-only, hash-chained event log of the register, and its verification.

Every event stores the hash of the event before it (one chain across the register, ordered by `seq`), and a
one-row chain head holds the newest hash, so an edited, inserted, removed or reordered event is evident. Each
event's `after` holds the new values of the columns it changed (the creation event holds them all), so replaying
the events rebuilds every record; a record row edited behind the log's back no longer matches its replay.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from earful_complaints.clock import iso, jsonable, utc
from earful_complaints.tables import complaint_chain_head, complaint_events, complaints

GENESIS = "0" * 64


def event_hash(event: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an event's content and its predecessor's hash."""
    content = {
        "seq": event["seq"],
        "ref": event["ref"],
        "at": iso(event["at"]),
        "actor": event["actor"],
        "action": event["action"],
        "from_state": event["from_state"],
        "to_state": event["to_state"],
        "before": event["before"],
        "after": event["after"],
        "note": event["note"],
        "prev_hash": event["prev_hash"],
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_event(
    conn: Connection,
    *,
    complaint_id: int,
    ref: str,
    at: datetime,
    actor: str,
    action: str,
    from_state: str | None,
    to_state: str | None,
    before: dict[str, Any],
    after: dict[str, Any],
    note: str | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its sequence number.

    The chain head is updated first: its row lock (PostgreSQL) or the write lock (SQLite) serializes appends.
    """
    conn.execute(
        sa.update(complaint_chain_head).where(complaint_chain_head.c.id == 1).values(seq=complaint_chain_head.c.seq + 1)
    )
    head = conn.execute(
        sa.select(complaint_chain_head.c.seq, complaint_chain_head.c.hash).where(complaint_chain_head.c.id == 1)
    ).one()
    event = {
        "seq": head.seq,
        "complaint_id": complaint_id,
        "ref": ref,
        "at": utc(at),
        "actor": actor,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "before": {k: jsonable(v) for k, v in before.items()},
        "after": {k: jsonable(v) for k, v in after.items()},
        "note": note,
        "prev_hash": head.hash,
    }
    event["hash"] = event_hash(event)
    conn.execute(sa.insert(complaint_events).values(**event))
    conn.execute(sa.update(complaint_chain_head).where(complaint_chain_head.c.id == 1).values(hash=event["hash"]))
    return head.seq


@dataclass
class VerifyReport:
    """What `verify` found: the number of events and records checked, the head hash, and every problem."""

    events: int = 0
    records: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(engine: Engine) -> VerifyReport:
    """Check the whole chain, the chain head, and that every record equals the replay of its events."""
    report = VerifyReport()
    replayed: dict[int, dict[str, Any]] = {}
    prev_hash, expected_seq = GENESIS, 1
    with engine.connect() as conn:
        for row in conn.execute(sa.select(complaint_events).order_by(complaint_events.c.seq)).mappings():
            event = dict(row)
            report.events += 1
            if event["seq"] != expected_seq:
                report.problems.append(f"event {expected_seq} is missing (next found: {event['seq']})")
            if event["prev_hash"] != prev_hash:
                report.problems.append(f"event {event['seq']} ({event['ref']}): does not follow the previous event")
            if event_hash(event) != event["hash"]:
                report.problems.append(f"event {event['seq']} ({event['ref']}): content does not match its hash")
            replayed.setdefault(event["complaint_id"], {}).update(event["after"])
            prev_hash, expected_seq = event["hash"], event["seq"] + 1
        head = conn.execute(sa.select(complaint_chain_head).where(complaint_chain_head.c.id == 1)).one()
        if head.hash != prev_hash or head.seq != expected_seq - 1:
            report.problems.append(
                f"chain head (event {head.seq}) does not match the last event found ({expected_seq - 1}):"
                " events were removed or added outside the register"
            )
        report.head_hash = head.hash
        for row in conn.execute(sa.select(complaints).order_by(complaints.c.id)).mappings():
            report.records += 1
            state = replayed.pop(row["id"], None)
            if state is None:
                report.problems.append(f"{row['ref']}: record has no events (created outside the register)")
                continue
            changed = sorted(k for k in row.keys() if k != "id" and jsonable(_as_stored(row[k])) != state.get(k))
            if changed:
                report.problems.append(f"{row['ref']}: record differs from its event log in {', '.join(changed)}")
        for complaint_id in replayed:
            report.problems.append(f"record #{complaint_id} has events but no longer exists (deleted)")
    return report


def _as_stored(value: object) -> object:
    return utc(value) if isinstance(value, datetime) else value
