"""Bulk entry: a unit downloads the XLSX template, fills 50 rows, uploads it; each row becomes a
draft of the unit or an error row; the unit endorses its imported drafts directly and forwards
them. The same through `gongyi import applications` (the CLI command, with a progress bar)."""

from __future__ import annotations

import io
import uuid

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from platform_support import REPO, Client, load_open_call, running_services, tokens

from gongyi.http.auth import issue_token

CALL = "2024-national"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def intake(settings):
    load_open_call(settings)
    with running_services(settings, "intake") as urls:
        yield urls["intake"]


@pytest.fixture(scope="module")
def who(settings, intake):
    return {role: Client(intake, t) for role, t in tokens(settings).items()}


@pytest.fixture(scope="module")
def template(who) -> bytes:
    resp = who["unit"].get(f"/api/intake/calls/{CALL}/template.xlsx")
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith(XLSX)
    assert "attachment" in resp.headers["Content-Disposition"]
    return resp.content


def row(name: str, **over) -> dict:
    values = {
        "项目名称": name, "项目类别": "education", "申报主体名称": "北京阳光公益基金会", "申报主体类型": "社会组织",
        "统一社会信用代码": "53110000500000007T", "所在省份": "北京市", "通讯地址": "北京市东城区",
        "联系人": "李四", "联系人职务": "秘书长", "联系人手机": "13900139000", "联系人邮箱": "lisi@example.org",
        "开始实施日期": "2021-03-01", "是否正在实施": "是", "项目简介": "线上公益课堂。",
        "实施成效": "覆盖300所学校。", "创新做法与示范意义": "双师课堂。", "业务主管部门": "北京市民政局",
        "网站": "https://example.org", "受益人数": 12000, "主要数据": "受益学生：1200人",
        "推荐单位": "北京市委网信办",
    }
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


def fill(template: bytes, rows: list[dict]) -> bytes:
    wb = load_workbook(io.BytesIO(template))
    ws = wb["推荐表"]
    columns = {str(c.value).rstrip("*"): c.column for c in ws[1] if c.value}
    for r, values in enumerate(rows, start=2):
        for header, value in values.items():
            ws.cell(row=r, column=columns[header], value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _upload(client: Client, body: bytes, call_id: str = CALL, content_type: str = XLSX):
    return client.post("/api/intake/imports", params={"call_id": call_id}, data=body,
                       headers={"Content-Type": content_type})


def _created_events(settings, app_ids: list[str]) -> list[dict]:
    import json

    import sqlalchemy as sa

    from gongyi.db import make_engine, outbox_t

    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        bodies = conn.execute(sa.select(outbox_t.c.body).where(
            outbox_t.c.type == "application.created.v1",
            outbox_t.c.subject.in_([f"application/{a}" for a in app_ids]))).scalars().all()
    engine.dispose()
    return [json.loads(b) for b in bodies]


def test_a_batch_of_fifty_from_xlsx_to_forwarded(who, template, settings, intake):
    unit, applicant = who["unit"], who["applicant"]
    marker = uuid.uuid4().hex[:6]
    rows = [row(f"批量导入公益项目{marker}-{i:02d}") for i in range(45)]
    rows += [
        row(f"信用代码错{marker}", **{"统一社会信用代码": "53110000500000008T"}),  # row 47
        row(f"日期错{marker}", **{"开始实施日期": "2021-13-45"}),  # row 48
        row(f"别的单位{marker}", **{"推荐单位": "天津市委网信办"}),  # row 49
        row(f"批量导入公益项目{marker}-00"),  # row 50: the same project as row 2
        row(f"缺邮箱{marker}", **{"联系人邮箱": None}),  # row 51: a valid draft, not yet complete
    ]
    body = fill(template, rows)
    resp = _upload(unit, body)
    assert resp.status_code == 201, resp.text
    report = resp.json()
    assert len(report["created"]) == 46 and report["replayed"] is False
    errors = {e["row"]: {i["code"] for i in e["issues"]} for e in report["errors"]}
    assert errors == {47: {"invalid_credit_code"}, 48: {"xlsx_cell_invalid"}, 49: {"xlsx_unit_mismatch"},
                      50: {"duplicate_application"}}
    dup = next(e for e in report["errors"] if e["row"] == 50)["issues"][0]
    assert dup["details"]["same_as_row"] == 2
    created = {c["row"]: c["application_id"] for c in report["created"]}

    # each imported draft is announced once (application.created.v1, imported), the refused rows not at all
    created_events = _created_events(settings, list(created.values()))
    assert sorted(e["data"]["application_id"] for e in created_events) == sorted(created.values())
    assert all(e["data"]["imported"] is True and e["data"]["state"] == "draft" for e in created_events)

    # the same file again creates nothing
    again = _upload(unit, body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["import_id"] == report["import_id"]
    assert len(_created_events(settings, list(created.values()))) == 46

    # the unit sees its imported drafts; the applicant and other units do not
    listed = unit.get("/api/intake/applications", params={"state": "draft", "limit": 500}).json()["items"]
    mine = [i for i in listed if i["id"] in created.values()]
    assert len(mine) == 46 and {i["imported_by"] for i in mine} == {"cac-beijing"}
    other_unit = Client(intake, issue_token(settings, "unit", "u-tj", unit="cac-tianjin"))
    assert other_unit.get(f"/api/intake/applications/{created[2]}").status_code == 404
    assert applicant.get(f"/api/intake/applications/{created[2]}").status_code == 404
    # an imported draft is the unit's: it endorses it directly (return/reject do not apply to a draft)
    assert unit.post(f"/api/intake/applications/{created[2]}/return", json={"reason": "x"}).json()["code"] == \
        "invalid_transition"
    incomplete = unit.post(f"/api/intake/applications/{created[51]}/endorse", json={"opinion": "同意"})
    assert incomplete.status_code == 422
    assert {(i["code"], i["path"]) for i in incomplete.json()["details"]["issues"]} == {
        ("field_required", "contact.email")}
    ready = [created[r] for r in range(2, 47)]
    for app_id in ready:
        resp = unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意推荐"})
        assert resp.status_code == 200 and resp.json()["state"] == "endorsed", resp.text
    got = unit.get(f"/api/intake/applications/{ready[0]}").json()
    assert got["history"][-1]["action"] == "endorse_imported" and got["history"][-1]["imported"] is True
    assert got["submitted_at"] is not None
    batch = unit.post("/api/intake/batches", json={"application_ids": ready, "idempotency_key": uuid.uuid4().hex})
    assert batch.status_code == 201, batch.text
    assert {i["status"] for i in batch.json()["items"]} == {"forwarded"} and len(batch.json()["items"]) == 45


def test_import_refusals(who, template, settings, intake):
    from services.intake.domain.calls import load_call_file
    from services.intake.domain.xlsx_import import build_template

    unit = who["unit"]
    assert _upload(unit, fill(template, [row("x")]), content_type="application/json").json()["code"] == \
        "unsupported_media_type"
    garbage = _upload(unit, b"PK\x03\x04 not really a workbook")
    assert garbage.status_code == 422 and garbage.json()["code"] == "xlsx_unreadable", garbage.text
    assert _upload(unit, fill(template, [row("x")]), call_id="no-such-call").status_code == 404
    henan = build_template(load_call_file(REPO / "calls" / "2018-henan.yaml"))
    wrong = _upload(unit, henan)
    assert wrong.status_code == 201 and wrong.json()["errors"][0]["issues"][0]["code"] == "xlsx_wrong_call"
    assert wrong.json()["created"] == []
    outsider = Client(intake, issue_token(settings, "unit", "u-zz", unit="cac-zhengzhou"))
    assert _upload(outsider, fill(template, [row("x")])).json()["code"] == "unit_not_in_call"
    for client in (who["applicant"], who["staff"]):
        assert _upload(client, fill(template, [row("x")])).status_code == 403
        assert client.get(f"/api/intake/calls/{CALL}/template.xlsx").status_code == 403
    assert unit.get("/api/intake/calls/no-such-call/template.xlsx").json()["code"] == "call_not_found"
    assert Client(intake).get(f"/api/intake/calls/{CALL}/template.xlsx").status_code == 401


def test_cli_imports_with_a_report(who, template, settings, tmp_path):
    from services.intake.entrypoints.cli import import_group

    marker = uuid.uuid4().hex[:6]
    path = tmp_path / "batch.xlsx"
    path.write_bytes(fill(template, [row(f"命令行导入{marker}-1"), row(f"命令行导入{marker}-2"),
                                     row(f"命令行错{marker}", **{"联系人手机": "12345"})]))
    report = tmp_path / "report.json"
    result = CliRunner().invoke(import_group, ["applications", str(path), "--unit", "cac-beijing",
                                               "--report", str(report)],
                                env={"GONGYI_INTAKE_DB_URL": settings.db_url("intake")})
    assert result.exit_code == 3, result.output
    assert "created 2 drafts, 1 rows refused" in result.output and "row 4: invalid_mobile" in result.output
    import json

    created = json.loads(report.read_text(encoding="utf-8"))["created"]
    got = who["unit"].get(f"/api/intake/applications/{created[0]['application_id']}").json()
    assert got["state"] == "draft" and got["imported_by"] == "cac-beijing"
    again = CliRunner().invoke(import_group, ["applications", str(path), "--unit", "cac-beijing"],
                               env={"GONGYI_INTAKE_DB_URL": settings.db_url("intake")})
    assert "already imported" in again.output
