"""Progress reports filed by the selected project's own team wait for its recommending unit,
which confirms (then staff review as before) or returns them; who may make each move."""

import pytest
from publish_support import at

from gongyi.errors import Conflict, Forbidden, InvalidInput
from services.publish.domain.reports import MOVES, ProgressReport, ReportState
from services.publish.storage.documents import report_from_doc, report_to_doc


def _filed(role: str = "applicant") -> tuple[ProgressReport, list[dict]]:
    return ProgressReport.submit("r1", "a1", "work_update", "暑期支教", "服务 300 名儿童。", "team-1",
                                 at(2024, 7, 1), selected_ids={"a1"}, role=role)


def test_the_teams_report_waits_for_its_unit_then_staff_review_it():
    report, events = _filed()
    assert report.state is ReportState.AWAITING_UNIT and report.filed_by_role == "applicant"
    assert events[0]["type"] == "report.submitted.v1"
    data = events[0]["data"]
    assert (data["state"], data["filed_by_role"], data["by_role"]) == ("awaiting_unit", "applicant", "applicant")
    with pytest.raises(Conflict) as err:  # staff cannot review what the unit has not confirmed
        report.accept("staff-1", at(2024, 7, 2))
    assert err.value.code == "report_not_submitted"
    events = report.confirm("unit-1", at(2024, 7, 2))
    assert report.state is ReportState.SUBMITTED and report.confirmed_by == "unit-1"
    assert events[0]["type"] == "report.confirmed.v1" and events[0]["data"]["by_role"] == "unit"
    with pytest.raises(Conflict) as err:
        report.confirm("unit-1", at(2024, 7, 2))
    assert err.value.code == "report_not_awaiting_unit"
    assert report.accept("staff-1", at(2024, 7, 3))[0]["type"] == "report.accepted.v1"
    assert report.state is ReportState.ACCEPTED


def test_the_unit_returns_its_teams_report_and_a_revision_waits_for_it_again():
    report, _ = _filed()
    with pytest.raises(InvalidInput):
        report.return_for_revision("unit-1", at(2024, 7, 2), " ", role="unit")
    events = report.return_for_revision("unit-1", at(2024, 7, 2), "请补充受益人数", role="unit")
    assert report.state is ReportState.RETURNED and events[0]["data"]["by_role"] == "unit"
    report.resubmit("暑期支教（修订）", "服务 312 名儿童。", at(2024, 7, 3), role="applicant")
    assert report.state is ReportState.AWAITING_UNIT and report.revision == 2 and report.confirmed_by == ""
    # the unit may not return a report already under staff review: that is staff's call
    report.confirm("unit-1", at(2024, 7, 4))
    with pytest.raises(Conflict) as err:
        report.return_for_revision("unit-1", at(2024, 7, 4), "再改", role="unit")
    assert err.value.code == "report_not_awaiting_unit"
    report.return_for_revision("staff-1", at(2024, 7, 5), "数据来源不清")
    report.resubmit("暑期支教（二改）", "附数据来源。", at(2024, 7, 6), role="unit")  # the unit revises itself
    assert report.state is ReportState.SUBMITTED and report.filed_by_role == "unit"


def test_unit_and_staff_reports_go_straight_to_review_and_roles_are_checked():
    for role in ("unit", "staff"):
        report, events = _filed(role)
        assert report.state is ReportState.SUBMITTED and events[0]["data"]["state"] == "submitted"
        with pytest.raises(Conflict):
            report.confirm("unit-1", at(2024, 7, 2))
    with pytest.raises(Forbidden):
        _filed("expert")
    report, _ = _filed()
    with pytest.raises(Forbidden):
        report.return_for_revision("team-1", at(2024, 7, 2), "自己退回", role="applicant")
    assert MOVES["confirm"][1] == {"unit"} and MOVES["accept"][1] == {"staff"}


def test_the_filer_and_confirmation_survive_storage_and_old_documents_read_as_unit_reports():
    report, _ = _filed()
    report.confirm("unit-1", at(2024, 7, 2))
    again = report_from_doc(report_to_doc(report))
    assert (again.filed_by_role, again.confirmed_by, again.confirmed_at) == ("applicant", "unit-1", at(2024, 7, 2))
    old = {k: v for k, v in report_to_doc(report).items() if k not in ("filed_by_role", "confirmed_by", "confirmed_at")}
    assert report_from_doc(old).filed_by_role == "unit"
