"""The Notice, report and case documents stored in publish's JSON columns survive a round trip."""

from __future__ import annotations

import json

from publish_support import at, make_entries, objection_input

from services.publish.domain.notice import Notice
from services.publish.domain.reports import ProgressReport, publish_as_case
from services.publish.storage.documents import (
    case_from_doc,
    case_to_doc,
    notice_from_doc,
    notice_to_doc,
    report_from_doc,
    report_to_doc,
)


def _through_json(doc: dict) -> dict:
    return json.loads(json.dumps(doc, ensure_ascii=False))


def test_notice_with_objections_and_a_replacement_round_trips(open_notice: Notice):
    objection, _ = open_notice.file_objection("a1", objection_input(), at(2024, 2, 9))
    open_notice.file_objection("a1", objection_input(contact="+86 139 0000 1111", reason="补充" * 12), at(2024, 2, 9))
    open_notice.resolve_objection(objection.id, upheld=True, note_zh="成立", resolved_by="staff", now=at(2024, 2, 19))
    restored = notice_from_doc(_through_json(notice_to_doc(open_notice)))
    assert restored == open_notice
    assert restored.final_list() == open_notice.final_list()
    assert [e["application_id"] for e in restored.public_entries()][-1] == "r31"
    restored.close(at(2024, 2, 22))  # the restored aggregate keeps working
    assert restored.state.value == "closed"


def test_report_and_case_round_trip():
    entry = make_entries(1)[0]
    report, _ = ProgressReport.submit("rep-1", "a1", "typical_case", "标题", "正文", "unit-x", at(2024, 5, 1),
                                      selected_ids={"a1"}, evidence=entry.evidence)
    report.accept("staff", at(2024, 5, 2))
    restored = report_from_doc(_through_json(report_to_doc(report)))
    assert restored == report
    case, _ = publish_as_case(restored, "case-1", entry.project_name, at(2024, 5, 3))
    assert case_from_doc(_through_json(case_to_doc(case))) == case
