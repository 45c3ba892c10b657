"""Intake over HTTP with real tokens: every transition and every refusal of the lifecycle, who sees
what, the window, the per-unit quota, rule versions, and the 2018 Henan call on the same code."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from platform_support import Client, load_open_call, open_call_document, running_services, sample_form, tokens

from gongyi.db import make_engine, outbox_t
from gongyi.http.auth import issue_token

CALL = "2024-national"


@pytest.fixture(scope="module")
def intake(settings):
    load_open_call(settings)
    with running_services(settings, "intake") as urls:
        yield urls["intake"]


@pytest.fixture()
def who(settings, intake):
    tok = tokens(settings)
    return {role: Client(intake, t) for role, t in tok.items()}


def _err(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code and body["message_zh"] and body["message_en"], body
    return body


def _draft(client: Client, form: dict | None = None, call_id: str = CALL) -> str:
    resp = client.post("/api/intake/applications", json={"call_id": call_id, "form": form or sample_form()})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


def _submitted(who: dict, form: dict | None = None, call_id: str = CALL) -> str:
    app_id = _draft(who["applicant"], form, call_id)
    resp = who["applicant"].post(f"/api/intake/applications/{app_id}/submit")
    assert resp.status_code == 200 and resp.json()["state"] == "submitted", resp.text
    return app_id


def _endorsed(who: dict, form: dict | None = None, call_id: str = CALL) -> str:
    app_id = _submitted(who, form, call_id)
    resp = who["unit"].post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意推荐"})
    assert resp.status_code == 200 and resp.json()["state"] == "endorsed", resp.text
    return app_id


def _events(settings, app_id: str) -> list[dict]:
    import json

    engine = make_engine(settings.db_url("intake"))
    with engine.connect() as conn:
        bodies = conn.execute(
            sa.select(outbox_t.c.body).where(outbox_t.c.subject == f"application/{app_id}").order_by(outbox_t.c.id)
        ).scalars()
        events = [json.loads(b) for b in bodies]
    engine.dispose()
    return events


def _variant_call(who: dict, **changes) -> str:
    """A copy of the national call under a new id (as staff would load a new round)."""
    doc = open_call_document()
    doc["id"] = f"t-{uuid.uuid4().hex[:8]}"
    for key, value in changes.items():
        doc[key] = {**doc[key], **value}
    resp = who["staff"].post("/api/intake/calls", json={"document": doc})
    assert resp.status_code == 200 and resp.json()["version"] == 1, resp.text
    return doc["id"]


def test_full_path_with_return_and_staff_withdrawal(who, settings):
    applicant, unit, staff = who["applicant"], who["unit"], who["staff"]
    app_id = _draft(applicant)
    # a unit does not see drafts still being written
    _err(unit.get(f"/api/intake/applications/{app_id}"), 404, "application_not_found")
    form = sample_form()
    saved = applicant.put(f"/api/intake/applications/{app_id}/form", json={"form": form})
    assert saved.status_code == 200 and saved.json()["form"]["project_name"] == form["project_name"]
    assert applicant.post(f"/api/intake/applications/{app_id}/submit").json()["state"] == "submitted"
    _err(applicant.put(f"/api/intake/applications/{app_id}/form", json={"form": form}), 409, "form_frozen")
    _err(applicant.post(f"/api/intake/applications/{app_id}/submit"), 409, "invalid_transition")

    returned = unit.post(f"/api/intake/applications/{app_id}/return", json={"reason": "请补充实施成效数据"})
    assert returned.json()["state"] == "returned" and returned.json()["reason"] == "请补充实施成效数据"
    form["implementation_results"] += "新增受益学生1200人。"
    assert applicant.put(f"/api/intake/applications/{app_id}/form", json={"form": form}).status_code == 200
    assert applicant.post(f"/api/intake/applications/{app_id}/submit").json()["state"] == "submitted"
    # only the unit endorses; only with an opinion
    _err(applicant.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "x"}), 403, "forbidden_role")
    _err(unit.post(f"/api/intake/applications/{app_id}/endorse", json={}), 422, "invalid_input")
    endorsed = unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "同意推荐"})
    assert endorsed.json()["state"] == "endorsed" and endorsed.json()["unit_opinion"] == "同意推荐"
    _err(unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "x"}), 409, "invalid_transition")

    batch = unit.post("/api/intake/batches", json={"application_ids": [app_id], "idempotency_key": uuid.uuid4().hex})
    assert batch.status_code == 201 and batch.json()["items"][0]["status"] == "forwarded", batch.text
    got = applicant.get(f"/api/intake/applications/{app_id}").json()
    assert got["state"] == "forwarded" and got["batch_id"] == batch.json()["batch_id"]
    # after forwarding: frozen, the applicant cannot withdraw, the unit cannot return; staff can withdraw
    _err(applicant.put(f"/api/intake/applications/{app_id}/form", json={"form": form}), 409, "form_frozen")
    _err(applicant.post(f"/api/intake/applications/{app_id}/withdraw", json={}), 409, "invalid_transition")
    _err(unit.post(f"/api/intake/applications/{app_id}/return", json={"reason": "x"}), 409, "invalid_transition")
    withdrawn = staff.post(f"/api/intake/applications/{app_id}/withdraw", json={"reason": "申报主体申请撤回"})
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"

    events = _events(settings, app_id)
    created, *events = _events(settings, app_id)
    assert created["type"] == "application.created.v1" and created["data"]["state"] == "draft"
    assert created["data"]["sequence"] == 0 and created["data"]["imported"] is False
    assert [e["type"] for e in events] == [
        "application.submitted.v1", "application.returned.v1", "application.submitted.v1",
        "application.endorsed.v1", "application.forwarded.v1", "application.withdrawn.v1",
    ]
    # each move numbers its event: a consumer reading several queues orders them by it
    assert [e["data"]["sequence"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[1]["data"]["reason"] == "请补充实施成效数据" and events[1]["data"]["by_role"] == "unit"
    assert events[4]["data"]["form"]["contact"]["mobile"] == "13800138000"  # the index needs the whole form
    assert events[5]["data"]["by_role"] == "staff" and events[5]["data"]["as_duplicate"] is False
    assert [h["action"] for h in got["history"]] == ["submit", "return", "submit", "endorse", "forward"]


def test_reject_and_applicant_withdrawal(who, settings):
    applicant, unit, staff = who["applicant"], who["unit"], who["staff"]
    rejected = _submitted(who)
    resp = unit.post(f"/api/intake/applications/{rejected}/reject", json={"reason": "不属于网络公益项目"})
    assert resp.json()["state"] == "rejected"
    _err(unit.post(f"/api/intake/applications/{rejected}/endorse", json={"opinion": "x"}), 409, "invalid_transition")
    _err(unit.post(f"/api/intake/applications/{rejected}/reject", json={"reason": "x"}), 409, "invalid_transition")
    _err(applicant.post(f"/api/intake/applications/{rejected}/submit"), 409, "invalid_transition")
    _err(unit.post(f"/api/intake/applications/{rejected}/reject", json={}), 422, "invalid_input")

    pending = _submitted(who)
    # staff withdraw only what was forwarded (before that it is the applicant's choice)
    _err(staff.post(f"/api/intake/applications/{pending}/withdraw", json={}), 409, "invalid_transition")
    resp = applicant.post(f"/api/intake/applications/{pending}/withdraw", json={"reason": "项目调整"})
    assert resp.json()["state"] == "withdrawn"
    _err(applicant.post(f"/api/intake/applications/{pending}/withdraw", json={}), 409, "invalid_transition")
    _err(unit.post(f"/api/intake/applications/{pending}/endorse", json={"opinion": "x"}), 409, "invalid_transition")
    withdrawn = [e for e in _events(settings, pending) if e["type"] == "application.withdrawn.v1"]
    assert withdrawn[0]["data"]["by_role"] == "applicant" and withdrawn[0]["data"]["reason"] == "项目调整"

    draft = _draft(applicant)
    assert applicant.post(f"/api/intake/applications/{draft}/withdraw", json={}).json()["state"] == "withdrawn"


def test_each_role_sees_only_its_own(who, settings, intake):
    app_id = _submitted(who)
    other_applicant = Client(intake, issue_token(settings, "applicant", "someone-else"))
    other_unit = Client(intake, issue_token(settings, "unit", "unit-tianjin", unit="cac-tianjin"))
    expert = who["expert"]
    for client in (other_applicant, other_unit):
        _err(client.get(f"/api/intake/applications/{app_id}"), 404, "application_not_found")
        assert app_id not in [i["id"] for i in client.get("/api/intake/applications").json()["items"]]
    _err(other_applicant.post(f"/api/intake/applications/{app_id}/withdraw", json={}), 404, "application_not_found")
    _err(other_applicant.put(f"/api/intake/applications/{app_id}/form", json={"form": {}}), 404,
         "application_not_found")
    _err(other_unit.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "x"}), 404,
         "application_not_found")
    _err(other_unit.post(f"/api/intake/applications/{app_id}/return", json={"reason": "x"}), 404,
         "application_not_found")
    _err(expert.get("/api/intake/applications"), 403, "forbidden_role")
    _err(expert.get(f"/api/intake/applications/{app_id}"), 403, "forbidden_role")
    _err(Client(intake).get("/api/intake/applications"), 401, "missing_token")
    _err(who["unit"].post("/api/intake/applications", json={"call_id": CALL, "form": {}}), 403, "forbidden_role")
    _err(who["staff"].put(f"/api/intake/applications/{app_id}/form", json={"form": {}}), 403, "forbidden_role")
    _err(who["applicant"].post("/api/intake/calls", json={"document": {}}), 403, "forbidden_role")
    for client in (who["applicant"], who["unit"], who["staff"]):
        assert client.get(f"/api/intake/applications/{app_id}").status_code == 200
        # filtered: the session database holds thousands of other tests' applications
        listed = client.get("/api/intake/applications", params={"state": "submitted", "call_id": CALL, "limit": 500})
        assert app_id in [i["id"] for i in listed.json()["items"]]


def test_every_form_rule_is_reported_with_its_path(who):
    applicant = who["applicant"]
    bad = sample_form()
    bad.update(category="sports", started_on="2023-06-01", summary="字" * 2001, unit_code="cac-nowhere")
    bad["applicant"] = {**bad["applicant"], "credit_code": "53110000500000008T", "type": "alien"}
    bad["contact"] = {**bad["contact"], "mobile": "12345", "email": "not-an-email"}
    bad["platform"] = {"website": "ftp://example.org"}
    resp = applicant.post("/api/intake/applications", json={"call_id": CALL, "form": bad})
    issues = {(i["code"], i["path"]) for i in _err(resp, 422, "invalid_input")["details"]["issues"]}
    assert {
        ("unknown_category", "category"), ("started_too_late", "started_on"),
        ("unknown_applicant_type", "applicant.type"), ("unknown_recommending_unit", "unit_code"),
        ("invalid_credit_code", "applicant.credit_code"), ("invalid_mobile", "contact.mobile"),
        ("invalid_email", "contact.email"), ("invalid_url", "platform.website"),
    } <= issues
    assert "text_too_long" in {code for code, _ in issues}
    # a draft may be incomplete; submission may not
    app_id = _draft(applicant, {"project_name": "只写了名字的草稿"})
    resp = applicant.post(f"/api/intake/applications/{app_id}/submit")
    missing = {i["path"] for i in _err(resp, 422, "invalid_input")["details"]["issues"]}
    assert {"category", "applicant.credit_code", "contact.mobile", "summary", "unit_code", "platform"} <= missing
    _err(applicant.post("/api/intake/applications", json={"call_id": "no-such-call", "form": {}}), 404,
         "call_not_found")


def test_same_organisation_and_name_is_refused_with_a_pointer(who):
    name = f"网络助残服务平台{uuid.uuid4().hex[:6]}"
    first = _submitted(who, sample_form(name))
    again = _draft(who["applicant"], sample_form(f" {name.replace('网络', '网络 ')} "))
    resp = who["applicant"].post(f"/api/intake/applications/{again}/submit")
    assert _err(resp, 409, "duplicate_application")["details"]["existing_application_id"] == first


def test_batch_is_atomic_and_keys_are_not_reused(who):
    unit = who["unit"]
    ready, not_ready = _endorsed(who), _submitted(who)
    key = uuid.uuid4().hex
    resp = unit.post("/api/intake/batches", json={"application_ids": [ready, not_ready], "idempotency_key": key})
    items = {i["application_id"]: i for i in _err(resp, 409, "batch_refused")["details"]["items"]}
    assert items[ready]["status"] == "forwarded" and items[not_ready]["error"]["code"] == "invalid_transition"
    assert unit.get(f"/api/intake/applications/{ready}").json()["state"] == "endorsed"  # nothing was forwarded
    ok = unit.post("/api/intake/batches", json={"application_ids": [ready], "idempotency_key": key})
    assert ok.status_code == 201
    other = unit.post("/api/intake/batches", json={"application_ids": [not_ready], "idempotency_key": key})
    _err(other, 409, "idempotency_key_reused")
    _err(unit.post("/api/intake/batches", json={"application_ids": [], "idempotency_key": key}), 422, "invalid_input")
    _err(who["applicant"].post("/api/intake/batches", json={"application_ids": [ready], "idempotency_key": key}),
         403, "forbidden_role")


def test_unit_quota_is_enforced_per_item(who):
    call_id = _variant_call(who, quotas={"per_unit": 2})
    unit, staff = who["unit"], who["staff"]
    apps = [_endorsed(who, call_id=call_id) for _ in range(3)]
    resp = unit.post("/api/intake/batches", json={"application_ids": apps, "idempotency_key": uuid.uuid4().hex})
    items = _err(resp, 409, "batch_refused")["details"]["items"]
    assert [i["status"] for i in items] == ["forwarded", "forwarded", "refused"]
    assert items[2]["error"]["code"] == "unit_quota_exceeded" and items[2]["error"]["details"]["per_unit"] == 2
    two = unit.post("/api/intake/batches", json={"application_ids": apps[:2], "idempotency_key": uuid.uuid4().hex})
    assert two.status_code == 201, two.text
    third = unit.post("/api/intake/batches", json={"application_ids": apps[2:], "idempotency_key": uuid.uuid4().hex})
    error = _err(third, 409, "batch_refused")["details"]["items"][0]["error"]
    assert error["code"] == "unit_quota_exceeded" and error["details"]["already_forwarded"] == 2
    # a forwarded application withdrawn by staff frees its place
    assert staff.post(f"/api/intake/applications/{apps[0]}/withdraw", json={}).json()["state"] == "withdrawn"
    again = unit.post("/api/intake/batches", json={"application_ids": apps[2:], "idempotency_key": uuid.uuid4().hex})
    assert again.status_code == 201, again.text


def test_after_the_deadline_nothing_is_submitted_or_forwarded(who):
    call_id = _variant_call(who)
    applicant, unit, staff = who["applicant"], who["unit"], who["staff"]
    draft = _draft(applicant, call_id=call_id)
    endorsed = _endorsed(who, call_id=call_id)
    window = {"opens": "2020-01-01T00:00:00+08:00", "closes": "2021-01-01T00:00:00+08:00", "note": "提前截止"}
    # shortening while applications are accepted needs an acknowledgement
    _err(staff.put(f"/api/intake/calls/{call_id}/window", json=window), 409, "rule_change_needs_acknowledgement")
    _err(unit.put(f"/api/intake/calls/{call_id}/window", json=window), 403, "forbidden_role")
    changed = staff.put(f"/api/intake/calls/{call_id}/window", json={**window, "acknowledge_changes": True})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    # the answer lists what changed, and which of it tightens the rules
    body = changed.json()
    assert body["changed"] is True and "window.closes" in {c["field"] for c in body["changes"]}
    closes = next(c for c in body["changes"] if c["field"] == "window.closes")
    assert closes["to"] == "2021-01-01T00:00:00+08:00" and closes["from"] != closes["to"]
    assert "deadline_moved_earlier" in {t["code"] for t in body["tightenings"]}
    # an extension (no tightening) still lists its change; the same window again changes nothing
    later = {**window, "closes": "2021-06-30T23:59:59+08:00", "note": "延期"}
    extended = staff.put(f"/api/intake/calls/{call_id}/window", json=later).json()
    assert extended["changed"] is True and extended["tightenings"] == []
    assert extended["changes"] == [{"field": "window.closes", "from": "2021-01-01T00:00:00+08:00",
                                    "to": "2021-06-30T23:59:59+08:00"}]
    same = staff.put(f"/api/intake/calls/{call_id}/window", json=later).json()
    assert same["changed"] is False and same["changes"] == [] and same["version"] == 3
    # the accepted application keeps the version it was checked against
    assert applicant.get(f"/api/intake/applications/{endorsed}").json()["call_version"] == 1
    resp = applicant.post("/api/intake/applications", json={"call_id": call_id, "form": sample_form()})
    assert _err(resp, 422, "invalid_input")["details"]["issues"][0]["code"] == "call_closed"
    resp = applicant.post(f"/api/intake/applications/{draft}/submit")
    assert "call_closed" in {i["code"] for i in _err(resp, 422, "invalid_input")["details"]["issues"]}
    resp = unit.post("/api/intake/batches", json={"application_ids": [endorsed], "idempotency_key": uuid.uuid4().hex})
    error = _err(resp, 409, "batch_refused")["details"]["items"][0]["error"]
    assert error["details"]["issues"][0]["code"] == "call_closed"
    _err(staff.put("/api/intake/calls/no-such-call/window", json=window), 404, "call_not_found")


def test_the_2018_henan_call_runs_with_its_own_units_and_themes(settings, intake):
    from platform_support import REPO

    from services.intake.domain.calls import load_call_file

    staff = Client(intake, tokens(settings)["staff"])
    doc = load_call_file(REPO / "calls" / "2018-henan.yaml").model_dump(mode="json")
    loaded = staff.post("/api/intake/calls", json={"document": doc})
    assert loaded.status_code == 200, loaded.text
    call = staff.get("/api/intake/calls/2018-henan").json()["document"]
    assert {t["code"] for t in call["themes"]} >= {"poverty_alleviation", "left_behind_children"}
    assert [k["date"] for k in call["key_dates"]][:4] == ["03-05", "09-05", "10-17", "12-05"]

    applicant = Client(intake, issue_token(settings, "applicant", f"henan-{uuid.uuid4().hex[:6]}"))
    form = sample_form(f"中原e起助农{uuid.uuid4().hex[:4]}", unit="cac-zhengzhou")
    form["category"] = "poverty_alleviation"
    form["applicant"] = {**form["applicant"], "type": "online_social_organisation", "province": "河南省"}
    form["started_on"] = "2018-03-01"
    # the 2018 window is long closed: refused until staff reopen it
    resp = applicant.post("/api/intake/applications", json={"call_id": "2018-henan", "form": form})
    assert _err(resp, 422, "invalid_input")["details"]["issues"][0]["code"] == "call_closed"
    reopened = staff.put("/api/intake/calls/2018-henan/window", json={
        "closes": "2099-12-31T23:59:59+08:00", "note": "演示：重新开放河南省2018年项目报送"})
    assert reopened.status_code == 200, reopened.text
    # a national unit or category is not part of this call
    wrong = {**form, "unit_code": "cac-beijing", "category": "education"}
    resp = applicant.post("/api/intake/applications", json={"call_id": "2018-henan", "form": wrong})
    codes = {i["code"] for i in _err(resp, 422, "invalid_input")["details"]["issues"]}
    assert codes == {"unknown_recommending_unit", "unknown_category"}

    app_id = applicant.post("/api/intake/applications", json={"call_id": "2018-henan", "form": form}).json()["id"]
    assert applicant.post(f"/api/intake/applications/{app_id}/submit").json()["state"] == "submitted"
    zhengzhou = Client(intake, issue_token(settings, "unit", "unit-zz", unit="cac-zhengzhou"))
    kaifeng = Client(intake, issue_token(settings, "unit", "unit-kf", unit="cac-kaifeng"))
    _err(kaifeng.post(f"/api/intake/applications/{app_id}/endorse", json={"opinion": "x"}), 404,
         "application_not_found")
    assert zhengzhou.post(f"/api/intake/applications/{app_id}/endorse",
                          json={"opinion": "同意推荐，该项目助力脱贫攻坚"}).json()["state"] == "endorsed"
    batch = zhengzhou.post("/api/intake/batches", json={"application_ids": [app_id],
                                                        "idempotency_key": uuid.uuid4().hex})
    assert batch.status_code == 201 and batch.json()["unit_code"] == "cac-zhengzhou", batch.text
    forwarded = [e for e in _events(settings, app_id) if e["type"] == "application.forwarded.v1"][0]
    assert forwarded["data"]["call_id"] == "2018-henan"
    assert forwarded["data"]["form"]["category"] == "poverty_alleviation"


def _count_drafts_named(client: Client, name: str) -> int:
    listing = client.get("/api/intake/applications").json()
    items = listing["items"] if isinstance(listing, dict) else listing
    return sum(1 for a in items if a.get("project_name") == name or (a.get("form") or {}).get("project_name") == name)


def test_create_and_submit_in_one_step(who, settings):
    applicant = who["applicant"]
    form = sample_form()
    resp = applicant.post("/api/intake/applications", json={"call_id": CALL, "form": form, "submit": True})
    assert resp.status_code == 201 and resp.json()["state"] == "submitted", resp.text
    events = _events(settings, resp.json()["id"])
    assert [(e["type"], e["data"]["state"], e["data"]["sequence"]) for e in events] == [
        ("application.created.v1", "draft", 0), ("application.submitted.v1", "submitted", 1)]
    # a form that breaks a submission rule is refused whole: no draft is left behind
    name = f"不完整的申报{uuid.uuid4().hex[:6]}"
    bad = {**sample_form(name), "summary": ""}
    refused = applicant.post("/api/intake/applications", json={"call_id": CALL, "form": bad, "submit": True})
    assert any(i["path"] == "summary" for i in _err(refused, 422, "invalid_input")["details"]["issues"])
    assert _count_drafts_named(applicant, name) == 0
    # the same form without submit is a draft, as before
    draft = applicant.post("/api/intake/applications", json={"call_id": CALL, "form": bad})
    assert draft.status_code == 201 and draft.json()["state"] == "draft"
    assert _count_drafts_named(applicant, name) == 1
    # "each project once" holds for the one-step path too
    clash = applicant.post("/api/intake/applications",
                           json={"call_id": CALL, "form": sample_form(form["project_name"]), "submit": True})
    _err(clash, 409, "duplicate_application")


def test_batch_endorses_and_forwards_together(who, settings):
    unit = who["unit"]
    submitted, endorsed = [_submitted(who) for _ in range(2)], _endorsed(who)
    ids, key = [*submitted, endorsed], uuid.uuid4().hex
    body = {"application_ids": ids, "idempotency_key": key, "endorse_opinion": "经审核，同意推荐"}
    resp = unit.post("/api/intake/batches", json=body)
    assert resp.status_code == 201 and {i["status"] for i in resp.json()["items"]} == {"forwarded"}, resp.text
    for app_id in submitted:
        app = unit.get(f"/api/intake/applications/{app_id}").json()
        assert app["state"] == "forwarded"
        assert [e["type"] for e in _events(settings, app_id)] == [
            "application.created.v1", "application.submitted.v1", "application.endorsed.v1",
            "application.forwarded.v1"]
        assert _events(settings, app_id)[2]["data"]["state"] == "endorsed"
    # the already-endorsed one is forwarded without a second endorsement
    assert [e["type"] for e in _events(settings, endorsed)][-2:] == ["application.endorsed.v1",
                                                                      "application.forwarded.v1"]
    replay = unit.post("/api/intake/batches", json=body)
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    # the same key with another opinion is another request
    _err(unit.post("/api/intake/batches", json={**body, "endorse_opinion": "同意"}), 409, "idempotency_key_reused")
    # a draft cannot be endorsed this way: the batch is refused whole and nothing changes
    draft, ready = _draft(who["applicant"]), _submitted(who)
    refused = unit.post("/api/intake/batches", json={"application_ids": [ready, draft], "idempotency_key":
                                                     uuid.uuid4().hex, "endorse_opinion": "同意推荐"})
    items = {i["application_id"]: i for i in _err(refused, 409, "batch_refused")["details"]["items"]}
    assert items[draft]["error"]["code"] == "application_not_found"  # a unit never sees drafts
    assert unit.get(f"/api/intake/applications/{ready}").json()["state"] == "submitted"
    assert [e["type"] for e in _events(settings, ready)] == ["application.created.v1", "application.submitted.v1"]
    _err(unit.post("/api/intake/batches", json={"application_ids": [ready], "idempotency_key": uuid.uuid4().hex,
                                                 "endorse_opinion": ""}), 422, "invalid_input")
