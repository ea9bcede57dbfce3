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
    "immediate_action": {"immediate_action": "Told the customer to stop using the kettle."},
    "set_owner": {"owner": "erik"},
    "contact": {"complainant_email": "kim@example.org"},
    "escalate_internal": {"escalated_to": "erik", "escalation_reason": "Needs the head of quality."},
    "plan_corrective": {"corrective_action": "New packaging spec", "corrective_due": "2026-04-01"},
    "follow_up_corrective": {"corrective_status": "done", "corrective_followup": "Spec in use since March."},
}
_OPEN = set(STATES) - {"closed", "not_a_complaint", "merged"}
_CORRECTIVE = ("investigating", "decided", "communicated", "escalated_external", "closed", "reopened")
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
    "immediate_action": {s: s for s in _OPEN},
    "set_owner": {s: s for s in _OPEN},
    "contact": {s: s for s in _OPEN},
    "escalate_internal": {s: s for s in ("acknowledged", "assessed", "investigating", "decided", "reopened")},
    "plan_corrective": {s: s for s in _CORRECTIVE},
    "follow_up_corrective": {s: s for s in _CORRECTIVE},
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
        "severity": "high",
        "investigation_depth": "full",
        "evidence": "courier photos",
        "corrective_action": "New packaging spec",
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


# ---- the rest of ISO 10002 (issue 17): each new guard refused with its rule, and passed when met -------------


def _plan(action: str, record: dict, values: dict, actor: str = "dana", **settings_update):
    return plan(action, record, values, actor=actor, now=T0, settings=ComplaintsSettings(**settings_update))


@pytest.mark.parametrize(
    "severity,safety,depth,ok",
    [
        ("low", False, "basic", True),
        ("medium", False, "basic", False),
        ("medium", False, "standard", True),
        ("high", False, "standard", False),
        ("high", False, "full", True),
        ("critical", False, None, False),
        ("low", True, "standard", False),  # a safety issue always needs a full investigation
        ("low", True, "full", True),
    ],
)
def test_decision_needs_the_investigation_depth_of_its_severity(
    severity: str, safety: bool, depth: str | None, ok: bool
) -> None:
    record = {**_record("investigating"), "severity": severity, "safety": safety, "investigation_depth": depth}
    if ok:
        changes, _ = _plan("decide", record, GOOD_VALUES["decide"])
        assert changes["status"] == "decided"
    else:
        with pytest.raises(TransitionRefused) as err:
            _plan("decide", record, GOOD_VALUES["decide"])
        assert err.value.rule == "investigation-depth"


def test_full_investigation_needs_evidence() -> None:
    with pytest.raises(TransitionRefused) as err:
        _plan("decide", {**_record("investigating"), "evidence": None}, GOOD_VALUES["decide"])
    assert err.value.rule == "investigation-depth" and "evidence" in str(err.value)


def test_depth_per_severity_is_configurable() -> None:
    record = {**_record("investigating"), "severity": "high", "investigation_depth": "standard"}
    changes, _ = _plan("decide", record, GOOD_VALUES["decide"], investigation_depth={"high": "standard"})
    assert changes["status"] == "decided"


def test_not_accepted_needs_the_recourse_offered_or_stays_open() -> None:
    values = {"closure_reason": "Refund refused", "complainant_accepted": "no"}
    with pytest.raises(TransitionRefused) as err:
        _plan("close", _record("communicated"), values)
    assert err.value.rule == "recourse-offered" and "ISO 10003" in str(err.value)
    changes, _ = _plan("close", _record("communicated"), {**values, "recourse_offered": "iso_10003_provider"})
    assert changes["status"] == "closed" and changes["recourse_offered"] == "iso_10003_provider"
    # An external dispute already under way is the recourse.
    changes, _ = _plan("close", {**_record("escalated_external"), "external_dispute_ref": "ODR-77"}, values)
    assert changes["status"] == "closed"


@pytest.mark.parametrize("score,ok", [("1", True), ("5", True), ("0", False), ("6", False), ("4.5", False)])
def test_satisfaction_score_is_one_to_five(score: str, ok: bool) -> None:
    values = {**GOOD_VALUES["close"], "satisfaction_score": score}
    if ok:
        changes, _ = _plan("close", _record("communicated"), values)
        assert changes["satisfaction_score"] == int(score)
    else:
        with pytest.raises(TransitionRefused) as err:
            _plan("close", _record("communicated"), values)
        assert err.value.rule == "valid-value"


def test_finishing_sets_the_retention_date_and_reopening_clears_it() -> None:
    changes, _ = _plan("close", _record("communicated"), GOOD_VALUES["close"])
    assert changes["retain_until"].year == T0.year + 6
    changes, _ = _plan("reopen", _record("closed"), GOOD_VALUES["reopen"])
    assert changes["retain_until"] is None


def test_internal_escalation_changes_the_owner_and_refuses_oneself() -> None:
    changes, _ = _plan("escalate_internal", _record("investigating"), GOOD_VALUES["escalate_internal"])
    assert changes["owner"] == "erik" and changes["escalated_by"] == "dana" and changes["escalated_at"] == T0
    assert "status" not in changes
    with pytest.raises(TransitionRefused) as err:
        _plan(
            "escalate_internal", _record("investigating"), {**GOOD_VALUES["escalate_internal"], "escalated_to": "dana"}
        )
    assert err.value.rule == "escalation-target"


def test_corrective_action_has_a_follow_up_date_and_status() -> None:
    changes, _ = _plan("plan_corrective", _record("decided"), GOOD_VALUES["plan_corrective"])
    assert changes["corrective_status"] == "planned" and changes["corrective_due"].date().isoformat() == "2026-04-01"
    with pytest.raises(TransitionRefused) as err:
        _plan("plan_corrective", _record("decided"), {**GOOD_VALUES["plan_corrective"], "corrective_due": "2026-03-01"})
    assert err.value.rule == "valid-value" and "past" in str(err.value)
    with pytest.raises(TransitionRefused) as err:
        _plan("plan_corrective", _record("decided"), {**GOOD_VALUES["plan_corrective"], "corrective_due": "soon"})
    assert err.value.rule == "valid-value"
    with pytest.raises(TransitionRefused) as err:
        _plan(
            "follow_up_corrective",
            {**_record("closed"), "corrective_action": None},
            GOOD_VALUES["follow_up_corrective"],
        )
    assert err.value.rule == "corrective-planned"
    changes, _ = _plan("follow_up_corrective", _record("closed"), GOOD_VALUES["follow_up_corrective"])
    assert changes["corrective_status"] == "done" and changes["corrective_checked_at"] == T0


def test_contact_details_need_one_and_a_real_address() -> None:
    with pytest.raises(TransitionRefused) as err:
        _plan("contact", _record("received"), {})
    assert err.value.rule == "required-field"
    for bad in ("kim", "kim@example.org, eve@evil.example", "<kim@example.org>"):
        with pytest.raises(TransitionRefused) as err:
            _plan("contact", _record("received"), {"complainant_email": bad})
        assert err.value.rule == "valid-value"


def test_immediate_action_may_come_with_the_acknowledgement() -> None:
    values = {**GOOD_VALUES["acknowledge"], "immediate_action": "Stopped the shipment."}
    changes, _ = _plan("acknowledge", _record("received"), values)
    assert changes["immediate_action"] == "Stopped the shipment."


def test_retention_date_of_a_leap_day() -> None:
    from datetime import UTC, datetime

    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    changes, _ = plan(
        "close", _record("communicated"), GOOD_VALUES["close"], actor="dana", now=leap, settings=ComplaintsSettings()
    )
    assert changes["retain_until"] == datetime(2034, 2, 28, 12, 0, tzinfo=UTC)
