"""The ISO 10002 process as a state machine: states, the actions between them, their fields and their guards.

Pure: no database. `plan` turns an action on a record into the column changes to write, or refuses it with
TransitionRefused naming the rule. The register (complaints.register) applies the plan and logs the event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from earful_complaints.config import DEPTHS, SEVERITIES, ComplaintsSettings
from earful_complaints.errors import TransitionRefused

STATES = (
    "received",
    "acknowledged",
    "assessed",
    "investigating",
    "decided",
    "communicated",
    "closed",
    "not_a_complaint",
    "merged",
    "escalated_external",
    "reopened",
)
# States in which nothing is owed to the complainant any more.
FINISHED_STATES = frozenset({"closed", "not_a_complaint", "merged"})
# States after which the response deadline has been met (the decision reached the complainant).
RESPONDED_STATES = frozenset({"communicated", "closed", "not_a_complaint", "merged", "escalated_external"})
LEVELS = ("low", "medium", "high")
RESPONSE_CHANNELS = ("public_reply", "direct_message", "email", "phone", "letter", "in_person", "other")
# What a complainant who does not accept the outcome was told they can turn to (ISO 10002 7.9, ISO 10003).
RECOURSES = ("external_dispute_resolution", "iso_10003_provider", "ombudsman", "regulator", "court_or_tribunal")
CORRECTIVE_STATUSES = ("in_progress", "done", "effective", "not_effective")
_ALL = frozenset(STATES)
# An address one can send to: one @, a dot in the domain, nothing that could smuggle in a second recipient.
EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_OPEN = frozenset(STATES) - FINISHED_STATES
# A corrective action may be planned once the cause is being looked into, and followed up after closing too.
_CORRECTIVE = frozenset({"investigating", "decided", "communicated", "escalated_external", "closed", "reopened"})


@dataclass(frozen=True)
class FieldSpec:
    """One input of an action: rendered as a form field in the web app and as an option on the command line."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | select | bool | tristate | score (1-5) | date (YYYY-MM-DD) | email
    required: bool = False
    # severity | level | category | response_channel | depth | recourse | corrective_status | staff (registered users)
    choices: str | None = None


@dataclass(frozen=True)
class Action:
    """A step of the process: allowed from some states, leading to one (or staying when `to_state` is None)."""

    name: str
    label: str
    from_states: frozenset[str]
    to_state: str | None
    fields: tuple[FieldSpec, ...] = field(default_factory=tuple)
    needs_one_of: tuple[str, ...] = ()  # at least one of these fields must be given


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "acknowledge",
            "Acknowledge (confirm it is a complaint)",
            frozenset({"received"}),
            "acknowledged",
            (
                FieldSpec("ack_channel", "Acknowledged via", "select", True, "response_channel"),
                FieldSpec("ack_text", "Acknowledgement sent", "textarea", True),
                FieldSpec("immediate_action", "Immediate action taken", "textarea"),
                FieldSpec("owner", "Owner (default: you)", "select", choices="staff"),
            ),
        ),
        Action(
            "set_owner",
            "Change owner",
            _OPEN,
            None,
            (FieldSpec("owner", "Owner", "select", True, "staff"),),
        ),
        Action(
            "immediate_action",
            "Record immediate action",
            _OPEN,
            None,
            (FieldSpec("immediate_action", "Immediate action taken", "textarea", True),),
        ),
        Action(
            "contact",
            "Complainant contact details",
            _OPEN,
            None,
            (
                FieldSpec("complainant_name", "Name"),
                FieldSpec("complainant_email", "E-mail", "email"),
                FieldSpec("complainant_phone", "Phone"),
            ),
            needs_one_of=("complainant_name", "complainant_email", "complainant_phone"),
        ),
        Action(
            "reject",
            "Not a complaint",
            frozenset({"received", "acknowledged", "assessed"}),
            "not_a_complaint",
            (FieldSpec("rejection_reason", "Justification", "textarea", True),),
        ),
        Action(
            "assess",
            "Initial assessment",
            frozenset({"acknowledged"}),
            "assessed",
            (
                FieldSpec("severity", "Severity", "select", True, "severity"),
                FieldSpec("impact", "Impact", "select", True, "level"),
                FieldSpec("complexity", "Complexity", "select", True, "level"),
                FieldSpec("urgency", "Urgency", "select", True, "level"),
                FieldSpec("safety", "Safety issue", "bool"),
                FieldSpec("category", "Category", "select", True, "category"),
                FieldSpec("product_service", "Product or service"),
            ),
        ),
        Action(
            "assign",
            "Assign investigator",
            frozenset({"assessed", "investigating", "reopened"}),
            "investigating",
            (
                FieldSpec("investigator", "Investigator", "select", True, "staff"),
                FieldSpec("owner", "Owner", "select", choices="staff"),
            ),
        ),
        Action(
            "investigate",
            "Record findings",
            frozenset({"investigating"}),
            None,
            (
                FieldSpec("investigation_notes", "Investigation notes", "textarea"),
                FieldSpec("root_cause", "Root cause"),
                FieldSpec("evidence", "Evidence", "textarea"),
                FieldSpec("investigation_depth", "Depth of the investigation", "select", choices="depth"),
            ),
            needs_one_of=("investigation_notes", "root_cause", "evidence"),
        ),
        Action(
            "escalate_internal",
            "Escalate internally",
            frozenset({"acknowledged", "assessed", "investigating", "decided", "reopened"}),
            None,
            (
                FieldSpec("escalated_to", "Escalate to (becomes owner)", "select", True, "staff"),
                FieldSpec("escalation_reason", "Why", "textarea", True),
            ),
        ),
        Action(
            "decide",
            "Decide",
            frozenset({"investigating"}),
            "decided",
            (
                FieldSpec("decision", "Decision", "textarea", True),
                FieldSpec("resolution", "Resolution (remedy offered)", "textarea", True),
                FieldSpec("root_cause", "Root cause"),
                FieldSpec("corrective_action_ref", "Corrective action reference (ISO 9001 10.2)"),
            ),
        ),
        Action(
            "communicate",
            "Communicate the decision",
            frozenset({"decided"}),
            "communicated",
            (
                FieldSpec("communicated_channel", "Communicated via", "select", True, "response_channel"),
                FieldSpec("communication_text", "What was communicated", "textarea", True),
            ),
        ),
        Action(
            "escalate",
            "Escalate to an external body",
            frozenset({"decided", "communicated"}),
            "escalated_external",
            (FieldSpec("external_dispute_ref", "External dispute reference", required=True),),
        ),
        Action(
            "close",
            "Close",
            frozenset({"communicated", "escalated_external"}),
            "closed",
            (
                FieldSpec("closure_reason", "Closure reason", "textarea", True),
                FieldSpec("complainant_accepted", "Complainant accepted the outcome", "tristate"),
                FieldSpec("satisfaction_score", "Satisfaction (1 = very dissatisfied, 5 = very satisfied)", "score"),
                FieldSpec(
                    "recourse_offered", "Recourse offered (needed when not accepted)", "select", choices="recourse"
                ),
                FieldSpec("external_dispute_ref", "External dispute reference"),
            ),
        ),
        Action(
            "plan_corrective",
            "Plan a corrective action",
            _CORRECTIVE,
            None,
            (
                FieldSpec("corrective_action", "Corrective action (ISO 9001 10.2)", "textarea", True),
                FieldSpec("corrective_due", "Follow up by (YYYY-MM-DD)", "date", True),
                FieldSpec("corrective_owner", "Responsible", "select", choices="staff"),
            ),
        ),
        Action(
            "follow_up_corrective",
            "Follow up the corrective action",
            _CORRECTIVE,
            None,
            (
                FieldSpec("corrective_status", "Status", "select", True, "corrective_status"),
                FieldSpec("corrective_followup", "What was checked", "textarea", True),
            ),
        ),
        Action(
            "merge",
            "Merge into another record",
            frozenset({"received", "acknowledged", "assessed", "investigating"}),
            "merged",
            (FieldSpec("merged_into", "Merge into (reference)", required=True),),
        ),
        Action(
            "reopen",
            "Reopen",
            frozenset({"closed"}),
            "reopened",
            (FieldSpec("reopen_reason", "Why it is reopened", "textarea", True),),
        ),
        Action("note", "Add a note", _ALL, None, (FieldSpec("note", "Note", "textarea", True),)),
    )
}

# Who did it and when, stamped by the action itself (never typed in).
_STAMPS: dict[str, tuple[str | None, str | None]] = {
    "acknowledge": ("acknowledged_by", "ack_at"),
    "reject": ("rejected_by", "rejected_at"),
    "assess": ("assessed_by", "assessed_at"),
    "decide": ("decided_by", "decided_at"),
    "communicate": ("communicated_by", "communicated_at"),
    "close": ("closed_by", "closed_at"),
    "reopen": (None, "reopened_at"),
    "escalate_internal": ("escalated_by", "escalated_at"),
    "follow_up_corrective": (None, "corrective_checked_at"),
}


def choices_for(spec: FieldSpec, settings: ComplaintsSettings, *, staff: Sequence[str] = ()) -> tuple[str, ...]:
    """The allowed values of a select field; `staff` are the users who may change records (for owners and
    investigators)."""
    return {
        "severity": SEVERITIES,
        "level": LEVELS,
        "category": tuple(settings.categories),
        "response_channel": RESPONSE_CHANNELS,
        "depth": DEPTHS,
        "recourse": RECOURSES,
        "corrective_status": CORRECTIVE_STATUSES,
        "staff": tuple(staff),
    }.get(spec.choices or "", ())


def allowed_actions(status: str) -> list[Action]:
    """The actions a person may take on a record in this state, in process order."""
    return [a for a in ACTIONS.values() if status in a.from_states]


# A submitted value of any field type in, the field's own type out.
def _clean(spec: FieldSpec, raw: Any, settings: ComplaintsSettings, staff: Sequence[str] | None) -> Any:  # noqa: ANN401
    """Normalize one submitted value (forms send strings); empty means not given."""
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        return str(raw or "").strip().lower() in {"1", "true", "yes", "on"}
    if raw is None:
        return None
    if spec.kind == "tristate":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"", "unknown"}:
            return None
        if text in {"yes", "true", "1"}:
            return True
        if text in {"no", "false", "0"}:
            return False
        raise TransitionRefused("valid-value", f"{spec.name} must be yes, no or unknown, not {raw!r}")
    text = str(raw).strip()
    if not text:
        return None
    if spec.kind == "score":
        if text not in {"1", "2", "3", "4", "5"}:
            raise TransitionRefused("valid-value", f"{spec.name} must be a whole number from 1 to 5, not {text[:20]!r}")
        return int(text)
    if spec.kind == "date":
        try:
            return datetime.combine(date.fromisoformat(text), time.min, UTC)
        except ValueError:
            raise TransitionRefused(
                "valid-value", f"{spec.name} must be a date as YYYY-MM-DD, not {text[:20]!r}"
            ) from None
    if spec.kind == "email" and not EMAIL.match(text):
        raise TransitionRefused("valid-value", f"{spec.name} must be an e-mail address, not {text[:100]!r}")
    if spec.kind == "select" and spec.choices == "staff":
        if staff is not None and text not in staff:
            some = ", ".join(staff[:10]) + (", ..." if len(staff) > 10 else "")
            raise TransitionRefused(
                "registered-user",
                f"{spec.name} must be a registered user who may change "
                f"records (such as: {some or 'none yet'}), not {text[:100]!r}",
            )
    elif spec.kind == "select":
        allowed = choices_for(spec, settings)
        if text not in allowed:
            raise TransitionRefused(
                "valid-value", f"{spec.name} must be one of {', '.join(allowed)}, not {text[:100]!r}"
            )
    limit = settings.limits.long_text_chars if spec.kind == "textarea" else settings.limits.short_text_chars
    if len(text) > limit:
        raise TransitionRefused("field-size", f"{spec.name} is longer than {limit} characters ({len(text)})")
    return text


def plan(
    action_name: str,
    record: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    actor: str,
    now: datetime,
    settings: ComplaintsSettings,
    staff: Sequence[str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """The column changes `action_name` makes to `record` (status included) and the event note.

    `staff` are the registered users owners and investigators must be chosen from (the register always passes
    them; None leaves that check to the caller). Raises TransitionRefused when the transition is illegal, a
    required field is missing or malformed, or a guard fails.
    """
    action = ACTIONS.get(action_name)
    if action is None:
        raise TransitionRefused("known-action", f"unknown action {action_name!r} (known: {', '.join(ACTIONS)})")
    status = record["status"]
    if status not in action.from_states:
        allowed = ", ".join(s for s in STATES if s in action.from_states)
        raise TransitionRefused(
            "legal-transition", f"'{action.name}' is not allowed from state '{status}' (allowed from: {allowed})"
        )
    unknown = sorted(set(values) - {f.name for f in action.fields} - {"note"})
    if unknown:
        raise TransitionRefused("known-field", f"'{action.name}' takes no field {', '.join(unknown)}")
    cleaned = {spec.name: _clean(spec, values.get(spec.name), settings, staff) for spec in action.fields}
    for spec in action.fields:
        if spec.required and cleaned.get(spec.name) in (None, ""):
            rule = "assessment-needs-severity" if spec.name == "severity" else "required-field"
            raise TransitionRefused(rule, f"'{action.name}' needs {spec.name} ({spec.label})")
    if action.needs_one_of and not any(cleaned.get(n) for n in action.needs_one_of):
        raise TransitionRefused("required-field", f"'{action.name}' needs one of {', '.join(action.needs_one_of)}")

    note = _clean(FieldSpec("note", "", "textarea"), values.get("note"), settings, staff)
    if action.name == "note":
        return {}, note
    changes = {k: v for k, v in cleaned.items() if v is not None or k == "complainant_accepted"}
    _guards(action.name, record, changes, actor, now, settings)

    by_field, at_field = _STAMPS.get(action.name, (None, None))
    if by_field:
        changes[by_field] = actor
    if at_field:
        changes[at_field] = now
    if action.name == "acknowledge" and not changes.get("owner"):
        changes["owner"] = record.get("owner") or actor
    if action.name == "reopen":
        changes.update(
            reopen_count=(record.get("reopen_count") or 0) + 1, closed_at=None, closed_by=None, retain_until=None
        )
    if action.name == "escalate_internal":
        changes["owner"] = changes["escalated_to"]
    if action.name == "plan_corrective":
        changes["corrective_status"] = "planned"
    if action.to_state in FINISHED_STATES:
        # The retention period runs from the day nothing more is owed to the complainant.
        changes["retain_until"] = _years_later(now, settings.retention.years)
    if action.to_state:
        changes["status"] = action.to_state
    return changes, note


def _years_later(moment: datetime, years: int) -> datetime:
    """The same day `years` later (29 February becomes 28 February in a common year)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def required_depth(record: Mapping[str, Any], settings: ComplaintsSettings) -> str:
    """The least investigation depth a decision on this record needs (by its severity; a safety issue: full)."""
    if record.get("safety"):
        return "full"
    return settings.investigation_depth[record.get("severity") or settings.intake_severity]


def _guards(
    action: str,
    record: Mapping[str, Any],
    changes: Mapping[str, Any],
    actor: str,
    now: datetime,
    settings: ComplaintsSettings,
) -> None:
    """The process rules beyond 'which state may follow which'."""
    if action == "decide":
        investigator = record.get("investigator")
        if not investigator:
            raise TransitionRefused("investigator-assigned", "a decision needs an assigned investigator first")
        if actor == investigator:
            raise TransitionRefused(
                "decider-not-investigator",
                f"decided_by ({actor}) must differ from the investigator ({investigator}); ask another person to decide",
            )
        if not (changes.get("root_cause") or record.get("root_cause")):
            raise TransitionRefused("root-cause-recorded", "a decision needs the root cause (give root_cause)")
        needed, done = required_depth(record, settings), record.get("investigation_depth")
        if done not in DEPTHS or DEPTHS.index(done) < DEPTHS.index(needed):
            raise TransitionRefused(
                "investigation-depth",
                f"severity {record.get('severity') or settings.intake_severity}"
                f"{' with a safety issue' if record.get('safety') else ''} needs a {needed} investigation before a "
                f"decision (recorded: {done or 'none'}); the investigator records findings with that depth",
            )
        if needed == "full" and not record.get("evidence"):
            raise TransitionRefused("investigation-depth", "a full investigation needs evidence recorded")
    not_accepted = action == "close" and changes.get("complainant_accepted") is False
    if not_accepted and not (changes.get("recourse_offered") or record.get("external_dispute_ref")):
        raise TransitionRefused(
            "recourse-offered",
            "the complainant did not accept the outcome: record the recourse offered (external dispute "
            "resolution, ISO 10003) or keep the record open",
        )
    if action == "escalate_internal" and changes.get("escalated_to") in (actor, record.get("owner")):
        raise TransitionRefused("escalation-target", "escalate to someone other than yourself and the current owner")
    if action == "plan_corrective" and changes["corrective_due"].date() < now.date():
        raise TransitionRefused("valid-value", "corrective_due lies in the past; give a follow-up date from today on")
    if action == "follow_up_corrective" and not record.get("corrective_action"):
        raise TransitionRefused("corrective-planned", "plan the corrective action before following it up")
    if action == "close" and not record.get("communicated_at"):
        raise TransitionRefused(
            "close-needs-communication",
            "a record cannot be closed before the decision was communicated to the complainant",
        )
    if action == "merge" and changes.get("merged_into") == record.get("ref"):
        raise TransitionRefused("merge-target", "a record cannot be merged into itself")


# The main line of the process: the step a record page offers first (the others are secondary).
_MAIN_LINE = ("acknowledge", "assess", "assign", "investigate", "decide", "communicate", "close", "reopen")


def primary_action(record: Mapping[str, Any]) -> str | None:
    """The next step on the main line for this record (None when finished or nothing is on the main line)."""
    status = record["status"]
    if status == "investigating":
        return "decide" if record.get("root_cause") and record.get("investigation_depth") else "investigate"
    if status == "reopened":
        return "assign"
    return next((name for name in _MAIN_LINE if status in ACTIONS[name].from_states), None)
