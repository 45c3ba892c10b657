"""Review's use cases with the fake unit of work: no database, no broker.

Each test runs a use case of services/review/handlers/ as the service would (event in, or a
principal's request), then reads what it left in the repositories and which events it emitted.
The same use cases run against PostgreSQL in tests/integration/test_review_*.py.
"""

from __future__ import annotations

import uuid

import pytest
from platform_support import open_call_document, sample_form
from review_fakes import FakeUnitOfWork

from gongyi.errors import Conflict, DomainError, NotFound
from gongyi.http.auth import Principal
from services.review import handlers
from services.review.handlers import assignment, calls, experts, scoring, screening

STAFF = Principal(sub="staff-1", role="staff", name="审核员", org=None, unit=None, expert=None, claims={})


def _expert(expert_id: str) -> Principal:
    return Principal(sub=f"user-{expert_id}", role="expert", name="专家", org=None, unit=None, expert=expert_id,
                     claims={})


def _event(type_: str, data: dict) -> dict:
    return {"id": str(uuid.uuid4()), "type": type_, "data": data}


def _forwarded(app_id: str, call_id: str = "2024-national", **form_changes) -> dict:
    form = {**sample_form("乡村儿童线上阅读计划"), **form_changes}
    return _event("application.forwarded.v1", {
        "application_id": app_id, "call_id": call_id, "call_version": 1, "unit_code": "cac-beijing",
        "project_name": form["project_name"], "category": form["category"], "form": form,
        "unit_opinion": "同意推荐", "forwarded_at": "2024-02-01T10:00:00+08:00"})


def _call_loaded(version: int = 1, **changes) -> dict:
    doc = {**open_call_document(), **changes}
    return _event("call.loaded.v1", {"call_id": doc["id"], "version": version, "fingerprint": f"f{version}",
                                     "document": doc})


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def test_a_redelivered_forward_changes_nothing(uow):
    event = _forwarded("a1")
    assert handlers.record_forwarded(uow, event) is True
    assert handlers.record_forwarded(uow, event) is False
    project = uow.projects.get("a1")
    assert (project["status"], project["version"], project["unit_opinion"]) == ("forwarded", 1, "同意推荐")
    assert uow.commits == 1


def test_a_re_forward_replaces_the_copy_and_a_withdrawal_marks_it(uow):
    handlers.record_forwarded(uow, _forwarded("a1"))
    handlers.record_forwarded(uow, _forwarded("a1", project_name="改名后的项目"))
    assert (uow.projects.get("a1")["version"], uow.projects.get("a1")["form"]["project_name"]) == (2, "改名后的项目")
    assert handlers.record_withdrawn(uow, _event("application.withdrawn.v1", {"application_id": "a1"})) is True
    assert (uow.projects.get("a1")["status"], uow.projects.get("a1")["version"]) == ("withdrawn", 3)


def test_each_call_version_is_kept_once_and_the_newest_rules_apply(uow):
    first = _call_loaded(1)
    assert calls.record_call_loaded(uow, first) is True
    assert calls.record_call_loaded(uow, first) is False
    calls.record_call_loaded(uow, _call_loaded(2, title="第二版规则"))
    summary = calls.call_summary(uow, "2024-national")
    assert (summary["version"], summary["title"]) == (2, "第二版规则")
    assert "compliance" in [c["code"] for c in summary["criteria"]]
    with pytest.raises(NotFound) as err:
        calls.call_summary(uow, "no-such-call")
    assert err.value.code == "call_not_found"


def test_rejected_evidence_warns_in_the_screening_report(uow):
    calls.record_call_loaded(uow, _call_loaded())
    handlers.record_forwarded(uow, _forwarded("a1", image_evidence_ids=["ev-1"]))
    screening.record_evidence(uow, _event("evidence.rejected.v1", {
        "evidence_id": "ev-1", "kind": "image", "code": "polyglot", "message_zh": "文件中夹带其他格式",
        "message_en": "a second format inside the file"}), "rejected")
    assert uow.screening.notes["ev-1"]["status"] == "rejected"
    report = screening.report(uow, "a1")
    assert report["call_version"] == 1 and report["status"] == "forwarded"
    # the report is stored: asked again without changes, the same one comes back
    assert screening.report(uow, "a1")["screened_at"] == report["screened_at"]
    assert "polyglot" in str(report["findings"])


def test_an_expert_id_is_taken_once_and_the_refusal_changes_nothing(uow):
    profile = {"expert_id": "e1", "name": "张老师", "organisation": "某大学", "contact": {"mobile": "13800000000"}}
    out = experts.create(uow, STAFF, profile, with_contact=False)
    assert out["load"] == 0 and "contact" not in out
    with pytest.raises(Conflict) as err, uow:
        experts.create(uow, STAFF, {**profile, "name": "另一位"}, with_contact=True)
    assert err.value.code == "expert_exists"
    assert uow.experts.profile("e1")["name"] == "张老师"
    assert [r["action"] for r in uow.audit_log.rows] == ["expert.create"]


def _passed_project_with_experts(uow: FakeUnitOfWork) -> None:
    calls.record_call_loaded(uow, _call_loaded())
    handlers.record_forwarded(uow, _forwarded("a1"))
    uow.projects.set_status("a1", screening.PASSED)
    experts.create(uow, STAFF, {"expert_id": "e1", "name": "张老师"}, with_contact=False)
    # same organisation as the applicant: a conflict of interest
    experts.create(uow, STAFF, {"expert_id": "e2", "name": "李老师", "organisation": "北京阳光公益基金会"},
                   with_contact=False)


def test_a_manual_seat_is_announced_audited_and_never_given_twice(uow):
    _passed_project_with_experts(uow)
    seats = assignment.add(uow, STAFF, "a1", "e1", "")
    assert seats["experts"] == [{"expert_id": "e1", "status": "active", "reason": "manual"}]
    assert uow.event_types()[-1] == "assignment.made.v1" and uow.events[-1]["data"]["expert_id"] == "e1"
    with pytest.raises(Conflict) as err:
        assignment.add(uow, STAFF, "a1", "e1", "")
    assert err.value.code == "already_assigned"
    with pytest.raises(DomainError):
        assignment.add(uow, STAFF, "a1", "e2", "")  # conflicted: refused
    assert uow.assignments.status("a1", "e2") is None
    seats = assignment.remove(uow, STAFF, "a1", "e1", "换人")
    assert seats["experts"][0]["status"] == "removed" and uow.event_types()[-1] == "assignment.removed.v1"
    assert [r["action"] for r in uow.audit_log.rows][-2:] == ["assignment.active", "assignment.removed"]


def test_a_submitted_review_is_announced_with_its_weighted_total_and_locked(uow):
    _passed_project_with_experts(uow)
    assignment.add(uow, STAFF, "a1", "e1", "")
    expert = _expert("e1")
    criteria = [c["code"] for c in calls.call_summary(uow, "2024-national")["criteria"]]
    draft = scoring.save(uow, expert, "a1", {c: 8 for c in criteria}, "做得好")
    assert draft["status"] == "draft" and draft["total"] is None
    submitted = scoring.submit_review(uow, expert, "a1")
    assert submitted["status"] == "submitted" and submitted["total"] is not None
    assert uow.event_types()[-1] == "review.submitted.v1"
    assert uow.events[-1]["data"]["total"] == submitted["total"]
    with pytest.raises(DomainError), uow:
        scoring.save(uow, expert, "a1", {criteria[0]: 1}, "改分")
    assert uow.reviews.get("a1", "e1").scores[criteria[0]] == 8


def test_an_expert_not_seated_on_a_project_is_told_it_does_not_exist(uow):
    _passed_project_with_experts(uow)
    with pytest.raises(NotFound) as err:
        scoring.save(uow, _expert("e1"), "a1", {}, "")
    assert err.value.code == "project_not_found"
