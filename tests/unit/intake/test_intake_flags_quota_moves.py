"""Pure rules added for units and review: duplicate flags, the per-unit quota, imported drafts,
the duplicate withdrawal, and how media's evidence summary becomes the ownership check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gongyi.errors import Conflict, Forbidden
from services.intake.domain.applications import Application, State, import_owner
from services.intake.domain.duplicate_flags import flags_from_suspicion, to_withdraw, withdraw_reason
from services.intake.domain.unit_quota import quota_refusal
from services.intake.handlers import owner_check

NOW = datetime(2024, 2, 20, 2, 0, tzinfo=UTC)


def _app(state: State = State.DRAFT, sub: str = "applicant-1") -> Application:
    return Application("a1", "2024-national", 1, sub, None, "cac-beijing", {}, state=state)


def test_a_suspicion_flags_both_sides_with_the_other():
    flags = flags_from_suspicion({"suspicion_id": "s1", "application_ids": ["a", "b"], "call_ids": ["c1", "c2"],
                                  "score": 0.8, "reasons": [], "cluster_id": "k", "cross_call": True})
    assert [(f.application_id, f.other_application_id, f.call_id) for f in flags] == [("a", "b", "c1"),
                                                                                        ("b", "a", "c2")]


@pytest.mark.parametrize(("outcome", "keep", "action", "expected"), [
    ("same_project", "a", "withdrawn", ["b"]),
    ("same_project", "b", "withdrawn", ["a"]),
    ("same_project", "a", "merged", []),
    ("same_project", None, "withdrawn", []),
    ("same_project", "zzz", "withdrawn", []),  # keeps neither: withdraw nothing rather than both
    ("different_projects", None, None, []),
])
def test_only_same_project_withdrawn_withdraws_the_other(outcome, keep, action, expected):
    assert to_withdraw({"application_ids": ["a", "b"], "outcome": outcome, "keep_id": keep,
                        "action": action}) == expected


def test_withdraw_reason_carries_the_note():
    assert withdraw_reason({"note": "见编号12"}).endswith("：见编号12")
    assert "同一项目" in withdraw_reason({"note": None})


@pytest.mark.parametrize(("per_unit", "already", "position", "refused"), [
    (None, 100, 1, False), (2, 0, 2, False), (2, 0, 3, True), (2, 2, 1, True), (5, 4, 1, False),
])
def test_unit_quota(per_unit, already, position, refused):
    refusal = quota_refusal(per_unit, already, position)
    assert (refusal is not None) == refused
    if refusal:
        assert refusal.code == "unit_quota_exceeded" and refusal.status == 409


def test_an_imported_draft_is_endorsed_by_its_unit_directly():
    app = _app(sub=import_owner("cac-beijing"))
    assert app.imported_by == "cac-beijing" and _app().imported_by is None
    assert app.move("endorse_imported", "unit", NOW, opinion="同意") == State.ENDORSED
    assert app.submitted_at == NOW and app.unit_opinion == "同意"
    with pytest.raises(Forbidden):
        _app().move("endorse_imported", "applicant", NOW)
    with pytest.raises(Conflict):
        _app(State.SUBMITTED).move("endorse_imported", "unit", NOW)


@pytest.mark.parametrize("state", [State.SUBMITTED, State.RETURNED, State.ENDORSED, State.FORWARDED])
def test_a_duplicate_is_withdrawn_by_staff_from_any_live_state(state):
    app = _app(state)
    assert app.move("duplicate_withdraw", "staff", NOW, reason="同一项目") == State.WITHDRAWN
    assert app.reason == "同一项目" and app.history[-1]["by_role"] == "staff"


@pytest.mark.parametrize("state", [State.DRAFT, State.WITHDRAWN, State.REJECTED])
def test_no_duplicate_withdrawal_outside_the_running(state):
    with pytest.raises(Conflict):
        _app(state).move("duplicate_withdraw", "staff", NOW)


def test_evidence_counts_only_if_stored_and_owned():
    summary = {
        "mine": {"owner_sub": "u1", "kind": "image", "status": "stored"},
        "theirs": {"owner_sub": "u2", "kind": "image", "status": "stored"},
        "gone": {"owner_sub": "u1", "kind": "image", "status": "deleted"},
        "bad": {"owner_sub": "u1", "kind": "image", "status": "rejected"},
    }
    check = owner_check(lambda ids: {i: summary[i] for i in ids if i in summary}, "u1")
    assert check(["mine", "theirs", "gone", "bad", "unknown"]) == {"mine"}
    assert owner_check(None, "u1") is None
