from __future__ import annotations

import io
import time
from datetime import date, datetime

from intake_factories import henan, make_credit_code, national
from openpyxl import Workbook, load_workbook

from services.intake.domain.form import ApplicationForm
from services.intake.domain.xlsx_import import build_template, parse_rows


def _headers(ws) -> dict[str, int]:
    return {str(c.value).rstrip("*"): c.column for c in ws[1] if c.value}


def _row_values(n: int) -> dict[str, object]:
    """What a person types into row ``n``: labels from the drop-downs, mixed date and number cells."""
    call = national()
    category = call.categories[n % 6]
    kind = call.applicant_types[n % 5]
    unit = call.recommending_units[n % len(call.recommending_units)]
    return {
        "项目名称": f"网络公益项目{n}号",
        "项目类别": category.label,
        "申报主体名称": f"公益组织{n}",
        "申报主体类型": kind.label,
        "统一社会信用代码": make_credit_code("53", "110000", f"{n:08d}"),
        "所在省份": "北京市",
        "通讯地址": f"北京市某路{n}号",
        "联系人": "李晓敏",
        "联系人手机": 13800000000 + n if n % 2 else f"138{n:08d}",  # numeric cell or text cell
        "联系人邮箱": f"user{n}@example.org",
        "开始实施日期": datetime(2020, 1, 1 + n % 28) if n % 3 else f"2020年1月{1 + n % 28}日",
        "是否正在实施": "是",
        "项目简介": f"简介{n}",
        "实施成效": f"成效{n}",
        "创新做法与示范意义": f"创新{n}",
        "业务主管部门": "民政局",
        "网站": f"https://p{n}.example.org",
        "受益人数": n * 100,
        "主要数据": f"受益学生：{n}人\n志愿者：{n * 2}人",
        "推荐单位": unit.name,
        "媒体报道1标题": f"报道{n}",
        "媒体报道1媒体名称": "人民网",
        "媒体报道1发布日期": "2023-05-01",
        "媒体报道1网址链接": f"http://news.example.cn/{n}",
    }


def _expected(n: int) -> ApplicationForm:
    call = national()
    v = _row_values(n)
    return ApplicationForm.model_validate(
        {
            "project_name": v["项目名称"],
            "category": call.categories[n % 6].code,
            "applicant": {
                "name": v["申报主体名称"],
                "type": call.applicant_types[n % 5].code,
                "credit_code": v["统一社会信用代码"],
                "province": "北京市",
                "address": v["通讯地址"],
            },
            "contact": {"name": "李晓敏", "mobile": str(v["联系人手机"]), "email": v["联系人邮箱"]},
            "started_on": date(2020, 1, 1 + n % 28),
            "still_running": True,
            "summary": f"简介{n}",
            "implementation_results": f"成效{n}",
            "innovation": f"创新{n}",
            "approval": {"department": "民政局"},
            "platform": {"website": v["网站"]},
            "beneficiaries": n * 100,
            "figures": [{"label": "受益学生", "value": f"{n}人"}, {"label": "志愿者", "value": f"{n * 2}人"}],
            "media_reports": [
                {
                    "title": f"报道{n}",
                    "outlet": "人民网",
                    "published_on": date(2023, 5, 1),
                    "url": v["媒体报道1网址链接"],
                }
            ],
            "unit_code": call.recommending_units[n % len(call.recommending_units)].code,
        }
    )


def _fill(template: bytes, rows: dict[int, dict[str, object]]) -> bytes:
    wb = load_workbook(io.BytesIO(template))
    ws = wb["推荐表"]
    cols = _headers(ws)
    for r, values in rows.items():
        for header, value in values.items():
            ws.cell(row=r, column=cols[header], value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_template_has_chinese_headers_and_drop_downs_from_the_call():
    wb = load_workbook(io.BytesIO(build_template(national())))
    ws = wb["推荐表"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["项目名称*", "项目类别*", "申报主体名称*"]
    assert "联系人职务" in headers and "统一社会信用代码*" in headers
    opts = wb["选项"]
    assert opts.sheet_state == "hidden"
    assert [c.value for c in opts["A"][1:7]] == [c.label for c in national().categories]
    assert [c.value for c in opts["B"][1:6]] == [
        "政府部门",
        "社会组织",
        "企事业单位",
        "新闻媒体",
        "商业网站平台",
    ]
    formulas = {dv.formula1: str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert formulas["'选项'!$A$2:$A$7"].startswith("B2:B")  # 项目类别 is column B
    assert "'选项'!$B$2:$B$6" in formulas and "'选项'!$D$2:$D$3" in formulas
    assert "2000字" in wb["说明"]["A3"].value


def test_template_round_trips_fifty_rows():
    data = _fill(build_template(national()), {n + 1: _row_values(n) for n in range(1, 51)})
    results = list(parse_rows(io.BytesIO(data), national()))
    assert [r.row for r in results] == list(range(2, 52))
    assert [r.issues for r in results if r.issues] == []
    for n, result in zip(range(1, 51), results, strict=True):
        assert result.ok and result.form == _expected(n), n


def test_bad_rows_report_issues_with_row_numbers_and_good_rows_still_parse():
    bad = dict(_row_values(7))
    bad.update({"开始实施日期": "去年", "是否正在实施": "也许", "受益人数": "很多"})
    worse = dict(_row_values(8))
    worse.update({"项目类别": "体育", "联系人手机": "12345", "统一社会信用代码": "91350100M000100Y44"})
    rows = {2: _row_values(1), 3: bad, 5: worse}  # row 4 left blank: skipped
    results = list(parse_rows(_fill(build_template(national()), rows), national()))
    assert [(r.row, r.ok) for r in results] == [(2, True), (3, False), (5, False)]
    assert {(i.path, i.code) for i in results[1].issues} == {
        ("started_on", "xlsx_cell_invalid"),
        ("still_running", "xlsx_cell_invalid"),
        ("beneficiaries", "xlsx_cell_invalid"),
    }
    assert all(i.details["row"] == 3 for i in results[1].issues)
    assert "第3行" in results[1].issues[0].message_zh
    assert {(i.path, i.code) for i in results[2].issues} == {
        ("category", "unknown_category"),
        ("contact.mobile", "invalid_mobile"),
        ("applicant.credit_code", "invalid_credit_code"),
    }
    assert {i.details["row"] for i in results[2].issues} == {5}
    assert {i.details["column"] for i in results[2].issues} == {"项目类别", "联系人手机", "统一社会信用代码"}


def test_a_template_for_another_call_is_refused():
    data = _fill(build_template(henan()), {2: _row_values(1)})
    results = list(parse_rows(data, national()))
    assert len(results) == 1 and results[0].issues[0].code == "xlsx_wrong_call"


def test_a_workbook_without_the_required_columns_is_refused():
    wb = Workbook()
    wb.active.append(["项目名称", "备注"])
    wb.active.append(["某项目", "x"])
    buf = io.BytesIO()
    wb.save(buf)
    results = list(parse_rows(buf.getvalue(), national()))
    assert len(results) == 1 and results[0].issues[0].code == "xlsx_columns_missing"
    assert "项目类别" in results[0].issues[0].details["missing"]


def test_thousands_of_rows_stream_quickly():
    template = load_workbook(io.BytesIO(build_template(national())))
    headers = [c.value.rstrip("*") for c in template["推荐表"][1]]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("推荐表")
    ws.append([c.value for c in template["推荐表"][1]])
    for n in range(2000):
        values = _row_values(n)
        ws.append([values.get(h) for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    started = time.perf_counter()
    results = parse_rows(io.BytesIO(buf.getvalue()), national())
    first = next(results)  # streaming: the first row comes before the rest is read
    assert first.row == 2 and first.ok
    count = 1 + sum(1 for r in results if r.ok)
    assert count == 2000
    assert time.perf_counter() - started < 20
