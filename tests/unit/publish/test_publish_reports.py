import io
import re

import pytest
from openpyxl import load_workbook
from publish_support import APPLICANT_MOBILE, at, make_entries
from pypdf import PdfReader

from gongyi.errors import Conflict, InvalidInput
from services.publish.domain.reports import (
    DEFAULT_REPORT_KINDS,
    ProgressReport,
    ReportState,
    publish_as_case,
    year_end_pdf,
    year_end_summary,
    year_end_xlsx,
)
from services.publish.domain.selection import EvidenceRef

SELECTED = {"a1", "a2"}


def _submit(kind="typical_case", app="a1", body="暑期阅读营服务 300 名儿童，联系电话 13812345678。"):
    return ProgressReport.submit(
        "rep-1",
        app,
        kind,
        "留守儿童暑期阅读营",
        body,
        "u1",
        at(2024, 7, 1),
        selected_ids=SELECTED,
        evidence=[
            EvidenceRef("照片", "https://img.example.org/1.jpg", "image", True),
            EvidenceRef("内部", "https://minio.internal/x", "image", False),
        ],
    )


def test_kinds_come_from_the_call():
    assert set(DEFAULT_REPORT_KINDS.values()) == {"工作动态", "重大活动", "典型案例", "阶段性成果"}
    with pytest.raises(InvalidInput) as err:
        _submit(kind="gossip")
    assert err.value.issues[0].code == "report_kind_unknown"
    custom = {"monthly": "月度简报"}
    report, _ = ProgressReport.submit(
        "r", "a1", "monthly", "t", "b", "u", at(2024, 7, 1), selected_ids=SELECTED, kinds=custom
    )
    assert report.kind == "monthly"


def test_only_selected_projects_report():
    with pytest.raises(Conflict) as err:
        _submit(app="zzz")
    assert err.value.code == "project_not_selected"


def test_review_flow_return_resubmit_accept():
    report, events = _submit()
    assert events[0]["type"] == "report.submitted.v1" and report.state is ReportState.SUBMITTED
    with pytest.raises(InvalidInput):
        report.return_for_revision("staff", at(2024, 7, 2), note=" ")
    events = report.return_for_revision("staff", at(2024, 7, 2), note="请补充受益人数据来源")
    assert (
        events[0]["type"] == "report.returned.v1"
        and events[0]["data"]["review_note"] == "请补充受益人数据来源"
    )
    with pytest.raises(Conflict):
        report.accept("staff", at(2024, 7, 2))
    events = report.resubmit("留守儿童暑期阅读营（修订）", "补充了数据来源。", at(2024, 7, 3))
    assert report.revision == 2 and events[0]["data"]["revision"] == 2
    with pytest.raises(Conflict) as err:
        report.resubmit("x", "y", at(2024, 7, 3))
    assert err.value.code == "report_not_returned"
    assert report.accept("staff", at(2024, 7, 4))[0]["type"] == "report.accepted.v1"


def test_only_accepted_reports_become_cases_and_case_text_is_redacted():
    report, _ = _submit()
    with pytest.raises(Conflict) as err:
        publish_as_case(report, "case-1", "项目", at(2024, 7, 3))
    assert err.value.code == "report_not_accepted"
    report.accept("staff", at(2024, 7, 2))
    case, events = publish_as_case(report, "case-1", "乡村儿童阅读点亮计划1号", at(2024, 7, 3))
    assert events[0]["type"] == "case.published.v1"
    assert APPLICANT_MOBILE not in case.summary and "[已隐去]" in case.summary
    assert [e.url for e in case.evidence] == ["https://img.example.org/1.jpg"]


def _summary():
    entries = make_entries(6)
    apps = [
        {
            "application_id": e.application_id,
            "category": e.category,
            "province": e.province,
            "unit": e.unit,
            "applicant_type": e.applicant_type,
        }
        for e in entries
    ] + [
        {
            "application_id": f"x{i}",
            "category": "其他",
            "province": "河南省",
            "unit": "人民网",
            "applicant_type": "企业" if i % 2 else "",
        }
        for i in range(4)
    ]
    screening = {a["application_id"]: not a["application_id"].startswith("x") for a in apps}
    screening["x0"] = True
    scores = [
        {"application_id": "a1", "score": 100},
        {"application_id": "a2", "score": 95.5},
        {"application_id": "a3", "score": 81},
        {"application_id": "x0", "score": 42},
    ]
    return year_end_summary(apps, screening, scores, entries[:2])


def test_year_end_summary_counts_rates_distribution():
    s = _summary()
    assert s["totals"] == {
        "applications": 10,
        "forwarded": 10,  # no state given: what review sees was forwarded
        "withdrawn": 0,
        "withdrawn_duplicates": 0,
        "screened": 10,
        "passed_screening": 7,
        "screened_out": 3,
        "scored": 4,
        "selected": 2,
    }
    assert s["screening"]["pass_rate"] == 0.7
    other = next(r for r in s["by_category"] if r["key"] == "其他")
    # 其他: a6 (passed) + x0 (passed) + x1..x3 (failed)
    assert other == {
        "key": "其他",
        "applications": 5,
        "forwarded": 5,
        "withdrawn": 0,
        "screened": 5,
        "passed": 2,
        "pass_rate": 0.4,
        "selected": 0,
    }
    assert s["by_category"][0]["key"] == "其他"  # most applications first
    types = {r["key"]: r["applications"] for r in s["by_applicant_type"]}
    assert types == {"社会组织": 6, "企业": 2, "未填写": 2}
    henan = next(r for r in s["by_province"] if r["key"] == "河南省")
    assert henan["applications"] == 6 and henan["selected"] == 1
    buckets = {(b["from"], b["to"]): b["count"] for b in s["scores"]["buckets"]}
    assert (
        len(buckets) == 10 and buckets[(90, 100)] == 2 and buckets[(80, 90)] == 1 and buckets[(40, 50)] == 1
    )
    assert s["scores"]["mean"] == 79.62 and s["scores"]["median"] == 88.25 and s["scores"]["max"] == 100
    assert [e["application_id"] for e in s["selected"]] == ["a1", "a2"]
    assert "score" not in s["selected"][0]


def test_year_end_empty_inputs():
    s = year_end_summary([], {}, {}, [])
    assert s["screening"]["pass_rate"] is None and s["scores"]["mean"] is None
    assert sum(b["count"] for b in s["scores"]["buckets"]) == 0
    assert year_end_pdf(s, "空").startswith(b"%PDF")


def test_year_end_xlsx_and_pdf_with_chart():
    s = _summary()
    book = load_workbook(io.BytesIO(year_end_xlsx(s, "2024年网络公益年度总结")))
    assert book.sheetnames == [
        "概览",
        "按项目类别",
        "按所在省份",
        "按推荐单位",
        "按申报主体类型",
        "评分分布",
        "入选名单",
    ]
    assert book["概览"]["B2"].value == 10 and book["概览"]["B7"].value == "70.0%"
    assert book["评分分布"]["A11"].value == "90–100" and book["评分分布"]["B11"].value == 2
    pdf = year_end_pdf(s, "2024年网络公益年度总结")
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "2024年网络公益年度总结" in text and "各类别申报数" in text and "评分分布" in text
    assert "乡村儿童阅读点亮计划1号" in text
    # Bars are filled rectangles in the content stream ("re" ... "f").
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    assert len(re.findall(r" re f\b", content)) >= 6
