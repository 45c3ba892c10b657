"""The year-end summary counts every application created, by its intake state, not only the
forwarded ones (issue 20: 8 created must read 申报项目 8)."""

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from services.publish.domain.year_end import DEFINITIONS, STATES, year_end_pdf, year_end_summary, year_end_xlsx

EIGHT = [
    {"application_id": "d1", "category": "教育", "state": "draft"},
    {"application_id": "s1", "category": "教育", "state": "submitted"},
    {"application_id": "r1", "category": "教育", "state": "returned"},
    {"application_id": "x1", "category": "救援", "state": "rejected"},
    {"application_id": "w1", "category": "救援", "state": "withdrawn", "withdrawn_by": "applicant"},
    {"application_id": "w2", "category": "救援", "state": "withdrawn", "withdrawn_by": "staff", "as_duplicate": True},
    {"application_id": "f1", "category": "教育", "state": "forwarded"},
    {"application_id": "f2", "category": "救援", "state": "forwarded"},
]


def test_every_state_is_counted_once_and_the_states_add_up():
    s = year_end_summary(EIGHT, {"f1": True, "f2": False, "w2": True}, {"f1": 88.0}, [])
    t = s["totals"]
    assert t["applications"] == 8
    assert (t["forwarded"], t["withdrawn"], t["withdrawn_duplicates"]) == (2, 2, 1)
    assert (t["screened"], t["passed_screening"], t["screened_out"], t["scored"]) == (3, 2, 1, 1)
    by_state = {r["state"]: r["count"] for r in s["by_state"]}
    assert [r["state"] for r in s["by_state"]] == list(STATES)  # every state, zeros included, in order
    assert by_state == {"draft": 1, "submitted": 1, "returned": 1, "rejected": 1, "endorsed": 0,
                        "forwarded": 2, "withdrawn": 2}
    assert sum(by_state.values()) == t["applications"]
    assert s["withdrawn"] == {"total": 2, "by_applicant": 1, "by_staff": 0, "duplicates": 1}
    rescue = next(r for r in s["by_category"] if r["key"] == "救援")
    assert (rescue["applications"], rescue["forwarded"], rescue["withdrawn"]) == (4, 1, 2)
    # each count says what it means
    assert set(DEFINITIONS) <= set(s["definitions"]) and all(v["zh"] and v["en"] for v in s["definitions"].values())
    assert s["definitions"]["state.draft"]["zh"] == STATES["draft"][0]


def test_unknown_or_missing_state_counts_as_forwarded():
    s = year_end_summary([{"application_id": "a"}, {"application_id": "b", "state": "bogus"}], {}, {}, [])
    assert s["totals"]["forwarded"] == 2


def test_pdf_and_xlsx_say_every_state():
    s = year_end_summary(EIGHT, {}, {}, [])
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(year_end_pdf(s, "年度总结"))).pages)
    flat = text.replace(" ", "").replace("\n", "")
    assert "申报项目8个" in flat and "草稿（未提交）1个" in flat and "重复申报撤回1个" in flat
    assert "各申报状态项目数" in flat
    book = load_workbook(io.BytesIO(year_end_xlsx(s, "年度总结")))
    rows = {r[0]: r[1] for r in book["概览"].iter_rows(values_only=True) if r and r[0]}
    assert rows["申报项目数"] == 8 and rows["已撤回"] == 2 and rows["草稿（未提交）"] == 1
    assert rows["重复申报撤回数"] == 1
    assert any(str(k).startswith("申报项目：") for k in rows)
    head = [c.value for c in book["按项目类别"][1]]
    assert head[:4] == ["项目类别", "申报数", "统一申报", "已撤回"]
