"""The retention rule for complaint records (ISO 10002 8.1; GDPR storage limitation): housekeeping.

A record that is finished (closed, not a complaint, merged) gets `retain_until` = finishing time plus
retention.years (set by the process, cleared on reopening). Once that date has passed, `redact_expired` replaces
the complainant's personal data on the record and blanks its communication log, each as an event of the chain,
so the analysis figures (dates, severity, category, root cause) stay and `verify` still holds. Earlier events keep
the values they recorded: the chain is evidence and is not rewritten (see docs/complaints-iso10002.md).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Engine

from earful_complaints.clock import utc
from earful_complaints.process import FINISHED_STATES
from earful_complaints.tables import complaint_communications, complaints

REDACTED = "[redacted: retention period over]"
# Columns that can identify the complainant; the rest of the record is what clause 8 analyses.
PERSONAL = (
    "complainant_ref",
    "complainant_name",
    "complainant_email",
    "complainant_phone",
    "source",
    "source_url",
    "post_id",
    "mention_snapshot",
    "description",
    "remedy_sought",
    "ack_text",
    "communication_text",
)


def expired(engine: Engine, now: datetime) -> list[str]:
    """References of finished records past their retention date and not yet redacted."""
    c = complaints.c
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(c.ref)
                .where(
                    c.status.in_(FINISHED_STATES),
                    c.retain_until.is_not(None),
                    c.retain_until < utc(now),
                    c.redacted_at.is_(None),
                )
                .order_by(c.id)
            ).scalars()
        )


def redact_expired(engine: Engine, now: datetime, *, actor: str = "system") -> list[str]:
    """Redact every expired record (one `retention_redact` event each); returns their references."""
    from earful_complaints.register import _load, _write

    done = []
    for ref in expired(engine, now):
        with engine.begin() as conn:
            record = _load(conn, ref)
            changes: dict[str, object] = {
                k: (REDACTED if k == "description" else None) for k in PERSONAL if record.get(k) is not None
            }
            changes["description"] = REDACTED
            changes["redacted_at"] = utc(now)
            _write(
                conn,
                record,
                changes,
                actor=actor,
                action="retention_redact",
                now=now,
                note=f"retention period ended {utc(record['retain_until']):%Y-%m-%d}",
            )
            conn.execute(
                sa.update(complaint_communications)
                .where(complaint_communications.c.complaint_id == record["id"])
                .values(text=REDACTED, counterpart=None, subject=None)
            )
        done.append(ref)
    return done
