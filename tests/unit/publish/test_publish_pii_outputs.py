"""Personal data (objector identity, applicant contacts, ID numbers, private evidence) must be
absent from every public output: event JSON, HTML, CSV, XLSX, PDF, Atom, year-end report."""

import json

import pytest
from publish_support import (
    APPLICANT_EMAIL,
    APPLICANT_MOBILE,
    CALL_NAME,
    INDIVIDUAL_ID,
    OBJECTOR_CONTACT,
    OBJECTOR_NAME,
    PRIVATE_EVIDENCE_URL,
    at,
    make_entries,
    objection_input,
)

from services.publish.domain import exports
from services.publish.domain.feeds import atom_feed, case_entry, list_entry
from services.publish.domain.notice import Notice
from services.publish.domain.public_view import PiiLeak, assert_no_pii
from services.publish.domain.reports import (
    ProgressReport,
    publish_as_case,
    year_end_pdf,
    year_end_summary,
    year_end_xlsx,
)
from services.publish.entrypoints.pages import (
    render_final_list_page,
    render_notice_page,
    render_project_pages,
)

PII = [
    OBJECTOR_NAME,
    OBJECTOR_CONTACT,
    APPLICANT_MOBILE,
    APPLICANT_EMAIL,
    INDIVIDUAL_ID,
    PRIVATE_EVIDENCE_URL,
]
OBJECTOR_EMAIL = "objector.li@example.net"


@pytest.fixture(scope="module")
def outputs():
    """Run a whole notice with objections (one upheld) and collect every public artefact."""
    open_notice = Notice.draft("n-2024", "call-2024", CALL_NAME, make_entries(30), make_entries(2, 31, "r"))
    open_notice.open(at(2024, 2, 8, 10))
    outs: dict[str, object] = {}
    events = []
    o1, ev = open_notice.file_objection("a2", objection_input(), at(2024, 2, 9))
    events += ev
    o2, ev = open_notice.file_objection("a4", objection_input(contact=OBJECTOR_EMAIL), at(2024, 2, 9))
    events += ev
    events += open_notice.resolve_objection(
        o1.id, upheld=True, note_zh="属实", resolved_by="s", now=at(2024, 2, 19)
    )
    events += open_notice.resolve_objection(
        o2.id, upheld=False, note_zh="不属实", resolved_by="s", now=at(2024, 2, 19)
    )
    outs["notice_html"] = render_notice_page(open_notice)
    for fmt in ("csv", "xlsx", "pdf"):
        outs[f"notice_{fmt}"] = exports.export(open_notice, final=False, fmt=fmt)[0]
    events += open_notice.close(at(2024, 2, 22))
    events += open_notice.publish(at(2024, 2, 23))
    outs["events_json"] = json.dumps(events, ensure_ascii=False)
    for fmt in ("csv", "xlsx", "pdf"):
        outs[f"final_{fmt}"] = exports.export(open_notice, final=True, fmt=fmt)[0]
    outs["final_html"] = render_final_list_page(open_notice)
    outs["project_pages"] = "\n".join(render_project_pages(open_notice).values())
    outs["public_json"] = open_notice.public_entries()
    outs["objector_status"] = o1.status_for_objector()
    report, _ = ProgressReport.submit(
        "rep",
        "a1",
        "typical_case",
        "阅读营",
        f"联系 {APPLICANT_MOBILE} / {APPLICANT_EMAIL}",
        "u",
        at(2024, 7, 1),
        selected_ids=set(open_notice.listed_ids),
    )
    report.accept("staff", at(2024, 7, 2))
    case, case_events = publish_as_case(report, "case-1", "乡村儿童阅读点亮计划1号", at(2024, 7, 3))
    outs["case_events"] = case_events
    outs["atom"] = atom_feed(
        feed_id="tag:x,2024:feed",
        title="t",
        self_url="https://x/feed",
        site_url="https://x/",
        entries=[
            list_entry(open_notice, base_url="https://x", authority="x"),
            case_entry(case, base_url="https://x", authority="x"),
        ],
        updated=at(2024, 1, 1),
    )
    apps = [
        {
            "application_id": e.application_id,
            "category": e.category,
            "province": e.province,
            "unit": e.unit,
            "applicant_type": e.applicant_type,
        }
        for e in open_notice.selected
    ]
    summary = year_end_summary(apps, {a["application_id"]: True for a in apps}, {}, open_notice.final_list())
    outs["year_end_json"] = summary
    outs["year_end_xlsx"] = year_end_xlsx(summary, "年度总结")
    outs["year_end_pdf"] = year_end_pdf(summary, "年度总结")
    return outs


def test_no_personal_data_in_any_public_output(outputs):
    assert len(outputs) == 17
    for name, output in outputs.items():
        try:
            assert_no_pii(output, [*PII, OBJECTOR_EMAIL])
        except PiiLeak as exc:  # name the artefact that leaked
            raise AssertionError(f"{name}: {exc}") from exc


def test_outputs_do_carry_the_public_content(outputs):
    # Guards the test above against passing on empty output.
    from services.publish.domain.public_view import output_text

    for name in ("notice_pdf", "final_pdf", "final_xlsx", "final_csv", "final_html", "atom", "year_end_pdf"):
        assert "乡村儿童阅读点亮计划1号" in output_text(outputs[name]), name
    # The upheld objection removed a2 and brought in reserve r31.
    assert "银龄数字课堂2号" not in output_text(outputs["final_csv"])
    assert "候补项目" not in output_text(outputs["final_csv"])  # reserves have their own names
    assert "r31" in outputs["events_json"]
