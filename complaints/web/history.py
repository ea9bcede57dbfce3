"""The record history as people read it: action and field labels instead of names, minute timestamps, and each
record's own event numbers (1, 2, 3 ...) next to the register-wide sequence the chain uses."""

from __future__ import annotations

import re
from datetime import datetime

from jinja2 import Environment

from earful_complaints.clock import utc
from earful_complaints.process import ACTIONS

EVENT_LABELS = {
    "receive": "Received",
    "deadline_missed": "Deadline missed",
    "link_alert": "Alert linked",
    "communication": "Communication",
    "retention_redact": "Personal data redacted (retention)",
    **{name: action.label for name, action in ACTIONS.items()},
}
# Columns that no form names (stamps and derived values); the rest take their form label.
_COLUMN_LABELS = {
    "owner": "Owner",
    "status": "State",
    "ack_at": "Acknowledged at",
    "acknowledged_by": "Acknowledged by",
    "assessed_by": "Assessed by",
    "assessed_at": "Assessed at",
    "decided_by": "Decided by",
    "decided_at": "Decided at",
    "communicated_by": "Communicated by",
    "communicated_at": "Communicated at",
    "closed_by": "Closed by",
    "closed_at": "Closed at",
    "rejected_by": "Rejected by",
    "rejected_at": "Rejected at",
    "reopened_at": "Reopened at",
    "reopen_count": "Times reopened",
    "due_ack": "Acknowledge by",
    "due_response": "Respond by",
    "ack_overdue_at": "Acknowledgement overdue since",
    "response_overdue_at": "Response overdue since",
    "escalated_by": "Escalated by",
    "escalated_at": "Escalated at",
    "corrective_status": "Corrective action status",
    "corrective_checked_at": "Corrective action checked at",
    "retain_until": "Keep personal data until",
    "redacted_at": "Redacted at",
}
FIELD_LABELS = {
    **{spec.name: spec.label for action in ACTIONS.values() for spec in action.fields},
    **_COLUMN_LABELS,
}
# Changes not worth a line in the history (bookkeeping every event carries).
HIDDEN = frozenset({"version", "updated_at", "status"})
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def minute(value: object) -> object:
    """A timestamp (datetime or the ISO text events store) to the minute, in UTC; other values unchanged."""
    if isinstance(value, datetime):
        return utc(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and _ISO.match(value):
        try:
            return utc(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")
        except ValueError:
            return value
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "–" if value is None or value == "" else str(value)


def install(env: Environment) -> None:
    """Make the history helpers available to the templates."""
    env.filters["minute"] = minute
    env.filters["event_label"] = lambda name: EVENT_LABELS.get(name, name.replace("_", " "))
    env.filters["field_label"] = lambda name: FIELD_LABELS.get(name, name.replace("_", " "))
    env.globals["HIDDEN_CHANGES"] = HIDDEN
