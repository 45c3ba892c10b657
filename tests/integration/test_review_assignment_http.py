"""Experts, conflicts and assignment over HTTP with real tokens: no conflicted expert is ever
assigned or shown the project, loads are balanced, declines and declared conflicts are refilled,
and the blind view hides the applicant's identity."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from platform_support import Client, open_call_document, running_services, tokens, wait_until
from test_review_calls import add_expert, expert_client, form, forward, new_call, pass_screening

from gongyi.db import make_engine, outbox_t


@pytest.fixture(scope="module")
def world(settings):
    with running_services(settings, "intake", "review") as urls:
        call_id = new_call(settings, urls, review={"experts_per_project": 2, "blind": True,
                                                   "conflict_same_province": True, "conflict_same_unit": True})
        a, b, c = forward(settings, urls, call_id, [
            form("甲项目", unit="cac-beijing", credit_code="53110000500000007T",
                 applicant={"name": "北京阳光公益基金会", "province": "北京市"},
                 summary="北京阳光公益基金会通过网络课堂服务乡村儿童。"),
            form("乙项目", unit="cac-shanghai", credit_code="52310000MJ499999XD",
                 applicant={"name": "上海绿洲公益服务中心", "province": "上海市"}),
            form("丙项目", unit="cac-shanghai", credit_code="52310000MJ4888886X",
                 applicant={"name": "上海春晖助学会", "province": "上海市"}),
        ])
        staff = Client(urls["review"], tokens(settings)["staff"])
        pass_screening(staff, [a, b, c])
        p = "x" + call_id[-6:]
        add_expert(staff, f"{p}-c1", call_id, organisation="北京阳光公益基金会（总会）",
                   credit_code="53110000500000007T")
        add_expert(staff, f"{p}-c2", call_id, unit_codes=["cac-shanghai"])
        add_expert(staff, f"{p}-c3", call_id, province="北京市")
        add_expert(staff, f"{p}-c4", call_id, declared_organisations=["上海绿洲公益服务中心"])
        add_expert(staff, f"{p}-c5", call_id, expertise=["education"])
        add_expert(staff, f"{p}-c6", call_id)
        yield {"urls": urls, "call": call_id, "a": a, "b": b, "c": c, "p": p, "staff": staff}


def _conflicted(w) -> dict[str, set[str]]:
    p = w["p"]
    return {w["a"]: {f"{p}-c1", f"{p}-c3"}, w["b"]: {f"{p}-c2", f"{p}-c4"}, w["c"]: {f"{p}-c2"}}


def _active(staff: Client, app_id: str) -> set[str]:
    seats = staff.get(f"/api/review/projects/{app_id}/assignments").json()["experts"]
    return {s["expert_id"] for s in seats if s["status"] == "active"}


def _events(settings, type_: str, app_id: str) -> list[dict]:
    engine = make_engine(settings.db_url("review"))
    with engine.connect() as conn:
        bodies = conn.execute(sa.select(outbox_t.c.body).where(
            outbox_t.c.type == type_, outbox_t.c.subject == f"application/{app_id}")).scalars().all()
    engine.dispose()
    return [json.loads(b)["data"] for b in bodies]


def test_auto_assignment_skips_conflicts_and_balances_loads(world, settings):
    staff, w = world["staff"], world
    r = staff.post(f"/api/review/calls/{w['call']}/assignments/auto")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["k"] == 2 and out["complete"] is True and out["made"] == 6
    for app_id, banned in _conflicted(w).items():
        assert len(out["assignments"][app_id]) == 2
        assert not banned & set(out["assignments"][app_id]), (app_id, out["assignments"][app_id])
    loads = [n for e, n in out["loads"].items() if e.startswith(w["p"])]
    assert max(loads) - min(loads) <= 1 and out["balance"]["achieved"] is True
    for app_id, seats in out["assignments"].items():
        made = {e["expert_id"] for e in _events(settings, "assignment.made.v1", app_id)}
        assert set(seats) <= made


def test_staff_cannot_assign_a_conflicted_expert_by_hand(world):
    staff, w = world["staff"], world
    r = staff.post(f"/api/review/projects/{w['a']}/assignments", json={"expert_id": f"{w['p']}-c1"})
    assert r.status_code == 403 and r.json()["code"] == "expert_conflicted"
    assert set(r.json()["details"]["reasons"]) >= {"same_organisation_credit_code"}
    r = staff.post(f"/api/review/projects/{w['b']}/assignments", json={"expert_id": f"{w['p']}-c4"})
    assert r.json()["code"] == "expert_conflicted"


def test_conflicted_expert_never_sees_the_project_and_blind_view_hides_identity(world, settings):
    w = world
    base = w["urls"]["review"]
    c1 = expert_client(settings, base, f"{w['p']}-c1")
    assert w["a"] not in {i["application_id"] for i in c1.get("/api/review/expert/projects").json()["items"]}
    r = c1.get(f"/api/review/expert/projects/{w['a']}")
    assert r.status_code == 404 and r.json()["code"] == "project_not_found"
    assert c1.put(f"/api/review/reviews/{w['a']}", json={"scores": {}}).status_code == 404
    # an assigned expert sees the project blind
    seat = sorted(_active(w["staff"], w["a"]))[0]
    expert = expert_client(settings, base, seat)
    view = expert.get(f"/api/review/expert/projects/{w['a']}")
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["blind"] is True
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("北京阳光公益基金会", "53110000500000007T", "cac-beijing", "同意推荐", "13800138000", "张三"):
        assert secret not in text, secret
    assert "【申报单位】通过网络课堂服务乡村儿童" in body["application"]["summary"]
    assert body["application"]["applicant"]["type"] == "social_organisation"
    assert [c["label"] for c in body["criteria"]][0] == "规范性"
    # other roles cannot use the expert views; a staff token has no expert scope
    assert w["staff"].get("/api/review/expert/projects").json()["code"] == "forbidden_role"


def test_declared_conflict_unassigns_and_replaces(world, settings):
    w = world
    staff, base = w["staff"], w["urls"]["review"]
    before = _active(staff, w["c"])
    leaver = sorted(before)[0]
    expert = expert_client(settings, base, leaver)
    assert expert.post(f"/api/review/projects/{w['c']}/conflict", json={"reason": " "}).status_code == 422
    r = expert.post(f"/api/review/projects/{w['c']}/conflict", json={"reason": "曾担任该机构顾问"})
    assert r.status_code == 200, r.text
    replacement = r.json()["replacement"]
    assert replacement and replacement != leaver and replacement not in _conflicted(w)[w["c"]]
    after = _active(staff, w["c"])
    assert leaver not in after and replacement in after and len(after) == len(before)
    assert expert.get(f"/api/review/expert/projects/{w['c']}").status_code == 404
    removed = _events(settings, "assignment.removed.v1", w["c"])
    assert {"application_id": w["c"], "call_id": w["call"], "expert_id": leaver,
            "reason": "declared_on_open"} in removed
    # staff can never put the expert back on the project
    r = staff.post(f"/api/review/projects/{w['c']}/assignments", json={"expert_id": leaver})
    assert r.json()["code"] == "expert_conflicted"
    audit = staff.get("/api/review/audit", params={"entity_id": w["c"], "action": "conflict.declare"}).json()
    assert audit["items"][0]["actor"] == f"sub-{leaver}" and audit["items"][0]["reason"] == "曾担任该机构顾问"


def test_decline_is_replaced_and_manual_remove_is_logged(world, settings):
    w = world
    staff, base = w["staff"], w["urls"]["review"]
    seat = sorted(_active(staff, w["b"]))[0]
    r = expert_client(settings, base, seat).post(f"/api/review/expert/projects/{w['b']}/decline",
                                                 json={"reason": "时间冲突"})
    assert r.status_code == 200, r.text
    after = _active(staff, w["b"])
    assert seat not in after
    if r.json()["replacement"]:
        assert r.json()["replacement"] in after and r.json()["replacement"] not in _conflicted(w)[w["b"]]
    else:
        assert r.json()["problems"][0]["code"] == "no_replacement_available"
    victim = sorted(after)[0]
    assert staff.post(f"/api/review/projects/{w['b']}/assignments/{victim}/remove", json={}).status_code == 422
    r = staff.post(f"/api/review/projects/{w['b']}/assignments/{victim}/remove", json={"reason": "专家出差"})
    assert r.status_code == 200 and victim not in _active(staff, w["b"])
    log = staff.get("/api/review/audit", params={"entity_id": f"{w['b']}/{victim}"}).json()["items"][0]
    assert log["action"] == "assignment.removed" and log["before"] == {"status": "active"}
    assert log["after"] == {"status": "removed"} and log["reason"] == "专家出差" and log["actor"] == "staff-1"


def test_shortfall_is_reported_with_the_conflicts_behind_it(world):
    """Runs last: it fills every eligible seat. More seats than unconflicted experts: say why."""
    staff, w = world["staff"], world
    out = staff.post(f"/api/review/calls/{w['call']}/assignments/auto", params={"k": 5}).json()
    assert out["complete"] is False
    problem = next(p for p in out["problems"][w["a"]] if p["code"] == "too_few_eligible_experts")
    assert problem["details"]["eligible"] == 4
    assert set(problem["details"]["conflicted"]) == _conflicted(w)[w["a"]]
    for app_id, banned in _conflicted(w).items():
        assert not banned & _active(staff, app_id)


def test_review_keeps_each_call_version_and_its_rules(settings, world):
    """Review learns each call's rules from intake's call.loaded.v1, version by version."""
    urls = world["urls"]
    call_id = new_call(settings, urls, review={"experts_per_project": 3, "blind": False},
                       quotas={"select_about": 12, "per_category": {"education": {"min": 2, "max": 5}}})
    staff = Client(urls["review"], tokens(settings)["staff"])
    rules = staff.get(f"/api/review/calls/{call_id}/rules").json()
    assert rules["review"]["experts_per_project"] == 3 and rules["review"]["blind"] is False
    assert rules["quotas"]["per_category"] == {"education": {"min": 2, "max": 5}}
    assert [c["label"] for c in rules["criteria"]] == ["规范性", "平台化", "公益性", "实效性", "影响力", "示范性"]
    # a new version from intake replaces the rules review applies
    doc = open_call_document()
    doc["id"] = call_id
    doc["review"]["experts_per_project"] = 4
    intake_staff = Client(urls["intake"], tokens(settings)["staff"])
    r = intake_staff.post("/api/intake/calls", json={"document": doc, "note": "more experts",
                                                     "acknowledge_changes": True})
    assert r.status_code == 200, r.text
    wait_until(lambda: staff.get(f"/api/review/calls/{call_id}/rules").json()["version"] == rules["version"] + 1,
               message="the new call version in review")
    assert staff.get(f"/api/review/calls/{call_id}/rules").json()["review"]["experts_per_project"] == 4
    assert staff.get("/api/review/calls/no-such-call/rules").json()["code"] == "call_not_found"
    assert Client(urls["review"], tokens(settings)["expert"]).get(
        f"/api/review/calls/{call_id}/rules").json()["code"] == "forbidden_role"


def test_staff_set_a_review_deadline_and_every_expert_with_open_seats_is_reminded_once(settings, world):
    """PUT /deadlines on intake makes a new call version; review's reminder handler (what its timer
    runs) emits one review.due.v1 per expert still holding unsubmitted seats, and none again."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import sessionmaker

    from services.review.handlers.reminders import send_review_reminders
    from services.review.storage.unit_of_work import ReviewUnitOfWork

    urls, staff, call_id = world["urls"], world["staff"], world["call"]
    assert staff.post(f"/api/review/calls/{call_id}/assignments/auto").status_code == 200
    intake_staff = Client(urls["intake"], tokens(settings)["staff"])
    before = intake_staff.get(f"/api/intake/calls/{call_id}").json()["version"]
    bad = intake_staff.put(f"/api/intake/calls/{call_id}/deadlines", json={"review_due": "next friday", "note": "x"})
    assert bad.status_code == 422 and bad.json()["code"]
    unit = Client(urls["intake"], tokens(settings)["unit"])
    assert unit.put(f"/api/intake/calls/{call_id}/deadlines", json={"note": "x"}).status_code == 403
    assert intake_staff.get(f"/api/intake/calls/{call_id}").json()["version"] == before  # nothing changed

    due = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    r = intake_staff.put(f"/api/intake/calls/{call_id}/deadlines",
                         json={"review_due": due.isoformat(), "review_remind_days_before": 2, "note": "评审截止"})
    assert r.status_code == 200, r.text
    assert {c["field"] for c in r.json()["changes"]} >= {"review.due", "review.remind_days_before"}
    wait_until(lambda: staff.get(f"/api/review/calls/{call_id}/rules").json()["review"].get("due"),
               message="the deadline in review's copy of the rules")

    seated = {}
    for app_id in (world["a"], world["b"], world["c"]):
        for seat in staff.get(f"/api/review/projects/{app_id}/assignments").json()["experts"]:
            if seat["status"] == "active":
                seated.setdefault(seat["expert_id"], set()).add(app_id)
    engine = make_engine(settings.db_url("review"))
    try:
        def run() -> int:
            with ReviewUnitOfWork(sessionmaker(engine, expire_on_commit=False), "review") as uow:
                return send_review_reminders(uow)

        assert run() == len(seated)
        assert run() == 0  # once per expert and deadline
        with engine.connect() as conn:
            bodies = conn.execute(sa.select(outbox_t.c.body).where(outbox_t.c.type == "review.due.v1")).scalars()
            mine = [d for d in (json.loads(b)["data"] for b in bodies) if d["call_id"] == call_id]
    finally:
        engine.dispose()
    assert {d["expert_id"]: set(d["pending"]) for d in mine} == seated
    assert all(datetime.fromisoformat(d["due_at"]) == due and d["overdue"] is False for d in mine)
