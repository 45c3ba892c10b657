"""Screening, scoring, aggregation, ranking and selection over HTTP, on hand-computed examples.

Every criterion gets the same score s, so a review's total is 10 * s (six criteria out of 10,
equal weights). Totals per project (experts e1..e5):
  P1 90 80 70 60 20  mean 64, median 70, trimmed (80+70+60)/3 = 70, range 70 -> disagreement
  P2 70 70 70 70 70  mean 70, median 70, trimmed 70 (ties P1: first criterion 7.0 > 6.4 decides)
  P3 100 90 80 40 50 mean 72, median 80, trimmed (90+80+50)/3 = 73.33
  P4 50 50 50 50 50  (category social_assistance)
"""

from __future__ import annotations

import json
import statistics

import pytest
import sqlalchemy as sa
from platform_support import Client, open_call_document, running_services, tokens, wait_until
from test_review_calls import add_expert, expert_client, form, forward, new_call, pass_screening

from gongyi.db import make_engine, outbox_t

TOTALS = {"P1": [90, 80, 70, 60, 20], "P2": [70] * 5, "P3": [100, 90, 80, 40, 50], "P4": [50] * 5}
CRITERIA = ("compliance", "platform", "public_benefit", "effectiveness", "influence", "exemplarity")


def _outbox(settings, type_: str) -> list[dict]:
    engine = make_engine(settings.db_url("review"))
    with engine.connect() as conn:
        bodies = conn.execute(sa.select(outbox_t.c.body).where(outbox_t.c.type == type_)).scalars().all()
    engine.dispose()
    return [json.loads(b)["data"] for b in bodies]


@pytest.fixture(scope="module")
def world(settings):
    with running_services(settings, "intake", "review") as urls:
        call_id = new_call(settings, urls, review={"experts_per_project": 5, "blind": True, "trim": True},
                           quotas={"select_about": 2, "per_category": None})
        ids = forward(settings, urls, call_id, [
            form("网络助学一号"), form("网络助学二号"), form("网络助学三号"),
            form("社会帮扶四号", category="social_assistance"),
            form("晚开始的项目", started_on="2021-09-01"),
        ])
        # the organiser tightens the start date after forwarding; review screens against the new rules
        doc = open_call_document()
        doc.update(id=call_id, review={**doc["review"], "experts_per_project": 5},
                   quotas={"select_about": 2, "per_category": None})
        doc["eligibility"]["started_before"] = "2021-06-01"
        r = Client(urls["intake"], tokens(settings)["staff"]).post(
            "/api/intake/calls", json={"document": doc, "note": "开始日期收紧", "acknowledge_changes": True})
        assert r.status_code == 200, r.text
        review_staff = Client(urls["review"], tokens(settings)["staff"])
        wait_until(lambda: review_staff.get(f"/api/review/calls/{call_id}/rules").json()["version"] == 2,
                   message="the tightened call in review")
        names = dict(zip(["P1", "P2", "P3", "P4", "P5"], ids, strict=True))
        staff = Client(urls["review"], tokens(settings)["staff"])
        experts = [f"r{call_id[-6:]}-e{i}" for i in range(1, 6)]
        for e in experts:
            add_expert(staff, e, call_id, organisation=f"评审单位{e}")
        yield {"urls": urls, "call": call_id, "ids": names, "staff": staff, "experts": experts}


def test_screening_report_and_decisions(world, settings):
    staff, ids = world["staff"], world["ids"]
    report = staff.get(f"/api/review/projects/{ids['P5']}/screening").json()
    assert [f["rule"] for f in report["findings"]][:2] == ["started_before", "still_running"]
    assert report["outcome"] == "failed" and report["findings"][0]["outcome"] == "failed"
    assert report["findings"][0]["details"]["limit"] == "2021-06-01" and report["call_version"] == 2
    ok = staff.get(f"/api/review/projects/{ids['P1']}/screening").json()
    assert ok["outcome"] in ("passed", "warning") and len(ok["findings"]) == 9
    # a fail needs a reason, and passing a failed report is an override that needs one too; all or nothing
    r = staff.post("/api/review/screening/decisions", json={"decisions": [
        {"application_id": ids["P1"], "decision": "pass"},
        {"application_id": ids["P5"], "decision": "pass"},
        {"application_id": ids["P4"], "decision": "fail"}]})
    assert r.status_code == 422
    codes = {i["code"] for i in r.json()["details"]["issues"]}
    assert codes == {"override_reason_required", "screening_reason_required"}
    assert staff.get(f"/api/review/projects/{ids['P1']}/screening").json()["decisions"] == []
    r = staff.post("/api/review/screening/decisions", json={"decisions": [
        {"application_id": ids["P5"], "decision": "fail", "reason": "项目开始实施时间不符合要求"}]})
    assert r.status_code == 200 and r.json()["items"][0]["status"] == "screening_failed"
    pass_screening(staff, [ids[p] for p in ("P1", "P2", "P3", "P4")])
    decided = {e["application_id"]: e for e in _outbox(settings, "screening.decided.v1")}
    assert decided[ids["P5"]]["decision"] == "fail" and decided[ids["P5"]]["decided_by"] == "staff-1"
    assert decided[ids["P2"]]["decision"] == "pass"


def test_scoring_drafts_submit_lock_and_reopen(world, settings):
    staff, ids, base = world["staff"], world["ids"], world["urls"]["review"]
    out = staff.post(f"/api/review/calls/{world['call']}/assignments/auto").json()
    assert ids["P5"] not in out["assignments"]  # failed screening: never reviewed
    assert all(len(out["assignments"][ids[p]]) == 5 for p in ("P1", "P2", "P3", "P4"))
    e1 = expert_client(settings, base, world["experts"][0])
    r = e1.put(f"/api/review/reviews/{ids['P1']}", json={"scores": {"compliance": 11}})
    assert r.status_code == 422 and r.json()["details"]["issues"][0]["code"] == "score_out_of_range"
    r = e1.put(f"/api/review/reviews/{ids['P1']}", json={"scores": {"compliance": 9}, "comments": "草稿"})
    assert r.status_code == 200 and r.json()["status"] == "draft"
    r = e1.post(f"/api/review/reviews/{ids['P1']}/submit")
    assert r.status_code == 422 and {i["code"] for i in r.json()["details"]["issues"]} == {"score_missing"}
    for i, expert in enumerate(world["experts"]):
        client = expert_client(settings, base, expert)
        for p, totals in TOTALS.items():
            s = totals[i] / 10
            r = client.put(f"/api/review/reviews/{ids[p]}", json={"scores": dict.fromkeys(CRITERIA, s),
                                                                  "comments": "评审意见"})
            assert r.status_code == 200, r.text
            r = client.post(f"/api/review/reviews/{ids[p]}/submit")
            assert r.status_code == 200, r.text
            assert r.json()["total"] == pytest.approx(totals[i]) and r.json()["status"] == "submitted"
    r = e1.put(f"/api/review/reviews/{ids['P1']}", json={"scores": {"compliance": 1}})
    assert r.status_code == 409 and r.json()["code"] == "review_locked"
    path = f"/api/review/reviews/{ids['P1']}/{world['experts'][0]}/reopen"
    assert staff.post(path, json={"reason": ""}).status_code == 422
    r = staff.post(path, json={"reason": "评分与意见不一致，请复核"})
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["version"] == 2
    log = staff.get("/api/review/audit", params={"action": "review.reopen"}).json()["items"][0]
    assert log["before"]["status"] == "submitted" and log["after"]["status"] == "draft"
    assert log["reason"] == "评分与意见不一致，请复核" and log["actor"] == "staff-1"
    assert e1.post(f"/api/review/reviews/{ids['P1']}/submit").json()["status"] == "submitted"
    submitted = [e for e in _outbox(settings, "review.submitted.v1") if e["application_id"] == ids["P1"]]
    assert len(submitted) == 6  # five experts, plus the resubmission after reopening


def test_ranking_trimmed_mean_median_and_tie_break(world):
    staff, ids = world["staff"], world["ids"]
    r = staff.get(f"/api/review/calls/{world['call']}/ranking")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"]["statistic"] == "trimmed_mean" and body["n_inputs"] == 20
    order = [e["application_id"] for e in body["overall"]]
    assert order == [ids["P3"], ids["P2"], ids["P1"], ids["P4"]]
    by = {e["application_id"]: e for e in body["overall"]}
    assert by[ids["P3"]]["score"] == pytest.approx(220 / 3)
    assert by[ids["P1"]]["score"] == pytest.approx(70) and by[ids["P1"]]["mean"] == pytest.approx(64)
    assert by[ids["P1"]]["median"] == pytest.approx(70)
    assert by[ids["P1"]]["tie_break"] == "first_criterion"  # 70 = 70, median 70 = 70, 5 = 5 reviews, 6.4 < 7.0
    assert by[ids["P1"]]["disagreement"] is True and by[ids["P2"]]["disagreement"] is False
    assert [e["application_id"] for e in body["per_category"]["social_assistance"]] == [ids["P4"]]
    assert by[ids["P4"]]["category_rank"] == 1
    mean = staff.get(f"/api/review/calls/{world['call']}/ranking", params={"method": "mean"}).json()
    assert [e["score"] for e in mean["overall"]] == pytest.approx([72, 70, 64, 50])
    stored = staff.get(f"/api/review/rankings/{body['ranking_id']}").json()
    assert stored["recomputed_matches"] is True and len(stored["inputs"]) == 20


def test_zscore_correction_matches_the_formula(world):
    staff, ids = world["staff"], world["ids"]
    body = staff.get(f"/api/review/calls/{world['call']}/ranking",
                     params={"zscore": "true", "method": "mean"}).json()
    all_totals = [t for ts in TOTALS.values() for t in ts]
    mu, sigma = statistics.fmean(all_totals), statistics.pstdev(all_totals)
    per_expert = [[TOTALS[p][i] for p in TOTALS] for i in range(5)]
    for p, totals in TOTALS.items():
        corrected = []
        for i, t in enumerate(totals):
            m, s = statistics.fmean(per_expert[i]), statistics.pstdev(per_expert[i])
            corrected.append(min(100.0, max(0.0, mu + (t - m) / s * sigma)))
        entry = next(e for e in body["overall"] if e["application_id"] == ids[p])
        assert entry["totals"] == pytest.approx(corrected) and entry["raw_totals"] == pytest.approx(totals)
        assert entry["score"] == pytest.approx(statistics.fmean(corrected))
    # hand check for one value: expert e1 (90,70,100,50: mean 77.5, std 19.203), P2's 70
    e1 = next(c for c in body["calibration"] if c["expert_id"] == world["experts"][0])
    assert e1["mean"] == pytest.approx(77.5) and e1["std"] == pytest.approx(19.2029, abs=1e-3)
    assert body["method"]["zscore"] is True


def test_selection_quota_bounds_tie_and_confirmed_snapshot(world, settings):
    staff, ids, call = world["staff"], world["ids"], world["call"]
    ranking_id = staff.get(f"/api/review/calls/{call}/ranking").json()["ranking_id"]
    r = staff.post(f"/api/review/calls/{call}/selection/proposal", json={"ranking_id": ranking_id, "quota": 3})
    prop = r.json()
    assert [s["application_id"] for s in prop["selected"]] == [ids["P3"], ids["P2"], ids["P1"]]
    r = staff.post(f"/api/review/calls/{call}/selection/proposal", json={"ranking_id": ranking_id})
    prop = r.json()  # quota 2 from the call: P1 ties P2 at the cut-off, decided by the first criterion
    assert prop["quota"] == 2 and [s["application_id"] for s in prop["selected"]] == [ids["P3"], ids["P2"]]
    tie = next(i for i in prop["issues"] if i["code"] == "tie_at_cutoff")
    assert tie["details"] == {"first_excluded": ids["P1"], "tie_break": "first_criterion"}
    r = staff.post(f"/api/review/calls/{call}/selection/proposal", json={
        "ranking_id": ranking_id, "per_category": {"social_assistance": {"min": 1, "max": 1}}})
    prop = r.json()
    assert [(s["application_id"], s["basis"]) for s in prop["selected"]] == [
        (ids["P3"], "score"), (ids["P4"], "category_minimum")]
    # a minimum alone (no max) is a floor, not a cap
    floor = staff.post(f"/api/review/calls/{call}/selection/proposal", json={
        "ranking_id": ranking_id, "quota": 3, "per_category": {"social_assistance": {"min": 1}}})
    assert floor.status_code == 200, floor.text
    assert [(s["application_id"], s["basis"]) for s in floor.json()["selected"]] == [
        (ids["P3"], "score"), (ids["P2"], "score"), (ids["P4"], "category_minimum")]
    assert floor.json()["per_category"] == {"social_assistance": [1, None]}
    bad = staff.post(f"/api/review/calls/{call}/selection/proposal", json={
        "quota": 1, "per_category": {"education": {"min": 2, "max": 3}}})
    assert bad.status_code == 422 and bad.json()["details"]["issues"][0]["code"] == "category_minimums_exceed_quota"
    # staff adjust with a reason, then confirm
    pid = prop["proposal_id"]
    adj = {"proposal_id": pid, "add": [ids["P2"]], "remove": [ids["P4"]]}
    assert staff.post(f"/api/review/calls/{call}/selection/adjust", json={**adj, "reason": ""}).status_code == 422
    r = staff.post(f"/api/review/calls/{call}/selection/adjust", json={**adj, "reason": "终评会议决定"})
    assert [s["application_id"] for s in r.json()["selected"]] == [ids["P3"], ids["P2"]]
    r = staff.post(f"/api/review/calls/{call}/selection/confirm", json={"proposal_id": pid, "reserves": 5})
    assert r.status_code == 200, r.text
    confirmed = r.json()
    event = next(e for e in _outbox(settings, "selection.confirmed.v1") if e["selection_id"] ==
                 confirmed["selection_id"])
    assert [(e["application_id"], e["rank"]) for e in event["entries"]] == [(ids["P3"], 1), (ids["P2"], 2)]
    assert [e["application_id"] for e in event["reserves"]] == [ids["P1"], ids["P4"]]
    entry = event["entries"][0]
    assert entry["organisation"] == "北京阳光公益基金会" and entry["category"] == "education"
    assert entry["province"] == "北京市" and entry["unit_code"] == "cac-beijing" and entry["project_name"]
    assert "13800138000" not in json.dumps(event, ensure_ascii=False) and "张三" not in json.dumps(event)
    assert event["method"]["statistic"] == "trimmed_mean" and len(event["snapshot_hash"]) == 64
    again = staff.post(f"/api/review/calls/{call}/selection/confirm", json={"proposal_id": pid})
    assert again.status_code == 409 and again.json()["code"] == "selection_already_confirmed"
    snap = staff.get(f"/api/review/calls/{call}/selection").json()
    assert snap["snapshot_hash"] == event["snapshot_hash"] and snap["snapshot"]["adjustments"][0]["reason"]
    engine = make_engine(settings.db_url("review"))  # the snapshot is immutable in the database too
    with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
        conn.execute(sa.text("UPDATE selections SET snapshot_hash = 'x' WHERE selection_id = :i"),
                     {"i": confirmed["selection_id"]})
    engine.dispose()
