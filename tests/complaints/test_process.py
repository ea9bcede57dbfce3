"""The state machine alone: every (state, action) pair is either allowed or refused with the rule named."""

from __future__ import annotations

import pytest

from earful_complaints.config import ComplaintsSettings
from earful_complaints.errors import TransitionRefused
from earful_complaints.process import ACTIONS, STATES, allowed_actions, plan
from tests.complaints.conftest import T0

GOOD_VALUES = {
    "acknowledge": {"ack_channel": "public_reply", "ack_text": "Thank you, we are looking into it."},
    "reject": {"rejection_reason": "A question about opening hours, not a complaint."},
    "assess": {
        "severity": "high",
        "impact": "medium",
        "complexity": "low",
        "urgency": "high",
        "safety": "on",
        "category": "product",
    },
    "assign": {"investigator": "ivan"},
    "investigate": {"root_cause": "packaging"},
    "decide": {"decision": "Replace the item.", "resolution": "Free replacement", "root_cause": "packaging"},
    "communicate": {"communicated_channel": "email", "communication_text": "We will replace it."},
    "escalate": {"external_dispute_ref": "ODR-77"},
    "close": {"closure_reason": "Replacement delivered", "complainant_accepted": "yes"},
    "merge": {"merged_into": "C-2026-000999"},
    "reopen": {"reopen_reason": "Replacement broken too"},
    "note": {"note": "Called the courier."},
}
# The legal transitions, written out independently of the implementation's table.
LEGAL = {
    "acknowledge": {"received": "acknowledged"},
    "reject": {"received": "not_a_complaint", "acknowledged": "not_a_complaint", "assessed": "not_a_complaint"},
    "assess": {"acknowledged": "assessed"},
    "assign": {"assessed": "investigating", "investigating": "investigating", "reopened": "investigating"},
    "investigate": {"investigating": "investigating"},
    "decide": {"investigating": "decided"},
    "communicate": {"decided": "communicated"},
    "escalate": {"decided": "escalated_external", "communicated": "escalated_external"},
    "close": {"communicated": "closed", "escalated_external": "closed"},
    "merge": {s: "merged" for s in ("received", "acknowledged", "assessed", "investigating")},
    "reopen": {"closed": "reopened"},
    "note": {s: s for s in STATES},
}


def _record(status: str) -> dict:
    return {
        "id": 1,
        "ref": "C-2026-000001",
        "status": status,
        "investigator": "ivan",
        "communicated_at": T0,
        "owner": None,
        "root_cause": None,
        "reopen_count": 0,
    }


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_state_action_pair(state: str, action: str) -> None:
    settings = ComplaintsSettings()
    record = _record(state)
    if state in LEGAL[action]:
        changes, _ = plan(action, record, GOOD_VALUES[action], actor="dana", now=T0, settings=settings)
        assert changes.get("status", state) == LEGAL[action][state]
    else:
        with pytest.raises(TransitionRefused) as err:
            plan(action, record, GOOD_VALUES[action], actor="dana", now=T0, settings=settings)
        assert err.value.rule == "legal-transition"
        assert f"'{action}' is not allowed from state '{state}'" in str(err.value)


def test_allowed_actions_match_the_table() -> None:
    for state in STATES:
        assert {a.name for a in allowed_actions(state)} == {a for a, frm in LEGAL.items() if state in frm}


def test_assessment_needs_severity() -> None:
    values = {**GOOD_VALUES["assess"], "severity": ""}
    with pytest.raises(TransitionRefused) as err:
        plan("assess", _record("acknowledged"), values, actor="dana", now=T0, settings=ComplaintsSettings())
    assert err.value.rule == "assessment-needs-severity"
    assert "needs severity" in str(err.value)


def test_decider_must_differ_from_investigator() -> None:
    with pytest.raises(TransitionRefused) as err:
        plan(
            "decide",
            _record("investigating"),
            GOOD_VALUES["decide"],
            actor="ivan",
            now=T0,
            settings=ComplaintsSettings(),
        )
    assert err.value.rule == "decider-not-investigator"
    assert "must differ from the investigator (ivan)" in str(err.value)


def test_close_needs_communication() -> None:
    record = {**_record("escalated_external"), "communicated_at": None}
    with pytest.raises(TransitionRefused) as err:
        plan("close", record, GOOD_VALUES["close"], actor="dana", now=T0, settings=ComplaintsSettings())
    assert err.value.rule == "close-needs-communication"


@pytest.mark.parametrize(
    "action,state,field",
    [
        ("acknowledge", "received", "ack_text"),
        ("reject", "received", "rejection_reason"),
        ("assign", "assessed", "investigator"),
        ("decide", "investigating", "decision"),
        ("communicate", "decided", "communicated_channel"),
        ("close", "communicated", "closure_reason"),
        ("merge", "received", "merged_into"),
        ("reopen", "closed", "reopen_reason"),
        ("note", "closed", "note"),
    ],
)
def test_missing_required_field_is_refused(action: str, state: str, field: str) -> None:
    values = {**GOOD_VALUES[action], field: "   "}
    with pytest.raises(TransitionRefused) as err:
        plan(action, _record(state), values, actor="dana", now=T0, settings=ComplaintsSettings())
    assert err.value.rule == "required-field" and field in str(err.value)


def test_values_outside_the_choices_are_refused() -> None:
    with pytest.raises(TransitionRefused) as err:
        plan(
            "assess",
            _record("acknowledged"),
            {**GOOD_VALUES["assess"], "severity": "apocalyptic"},
            actor="dana",
            now=T0,
            settings=ComplaintsSettings(),
        )
    assert err.value.rule == "valid-value"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(TransitionRefused) as err:
        plan(
            "acknowledge",
            _record("received"),
            {**GOOD_VALUES["acknowledge"], "status": "closed"},
            actor="dana",
            now=T0,
            settings=ComplaintsSettings(),
        )
    assert err.value.rule == "known-field"


def test_decision_needs_root_cause_and_investigator() -> None:
    values = {k: v for k, v in GOOD_VALUES["decide"].items() if k != "root_cause"}
    with pytest.raises(TransitionRefused) as err:
        plan("decide", _record("investigating"), values, actor="dana", now=T0, settings=ComplaintsSettings())
    assert err.value.rule == "root-cause-recorded"
    with pytest.raises(TransitionRefused) as err:
        plan(
            "decide",
            {**_record("investigating"), "investigator": None},
            GOOD_VALUES["decide"],
            actor="dana",
            now=T0,
            settings=ComplaintsSettings(),
        )
    assert err.value.rule == "investigator-assigned"


def test_stamps_who_and_when() -> None:
    changes, _ = plan(
        "acknowledge",
        _record("received"),
        GOOD_VALUES["acknowledge"],
        actor="dana",
        now=T0,
        settings=ComplaintsSettings(),
    )
    assert changes["acknowledged_by"] == "dana" and changes["ack_at"] == T0 and changes["owner"] == "dana"
    changes, _ = plan(
        "reopen",
        {**_record("closed"), "reopen_count": 1},
        GOOD_VALUES["reopen"],
        actor="dana",
        now=T0,
        settings=ComplaintsSettings(),
    )
    assert changes["reopen_count"] == 2 and changes["closed_at"] is None
