"""The publish service end to end over its real broker, database and HTTP API: a confirmed
selection becomes a notice, the public objects, staff resolve and close, the final list is
published (now or on schedule), every public output is free of personal data, selected projects
report progress and typical cases reach the case library; the year-end summary counts review's
events. Clock-dependent steps that cannot happen "now" run through the handlers with a fixed
``now`` (the API takes no client-supplied time)."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from kombu import Connection
from platform_support import Client, open_call_document, running_services, sample_form, tokens, wait_until
from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker

from gongyi.db import UnitOfWork, archived_events, make_engine
from gongyi.errors import Conflict
from gongyi.events.envelope import CONTENT_TYPE, encode, make_event, validate_event
from gongyi.events.relay import event_exchange
from gongyi.http.auth import issue_token
from services.publish import handlers
from services.publish.domain.public_view import assert_no_pii

SH = ZoneInfo("Asia/Shanghai")
# its own call id: other modules' intake runs emit call.loaded.v1 for the shipped calls into the same broker
CALL_ID = f"publish-test-{uuid.uuid4().hex[:8]}"
MOBILE, EMAIL = "13812345678", "zhangsan@example.com"
OBJECTOR_NAME, OBJECTOR_CONTACT = "李异议", "13900001111"
OTHER_OBJECTOR, OTHER_CONTACT = "王监督", "wang.jiandu@example.net"
PII = [MOBILE, EMAIL, OBJECTOR_NAME, OBJECTOR_CONTACT, OTHER_OBJECTOR, OTHER_CONTACT, "41010519900101123X"]
NAMES = ["乡村儿童阅读点亮计划", "银龄数字课堂", "应急救援志愿者联盟", "非遗云上传承", "爱心助农直播间"]
EDUCATION = "互联网+教育发展"
REASON = "该项目实际于2023年6月才启动，不符合2023年1月1日前启动的申报条件，请核查。"


def publish_event(amqp_uri: str, event: dict, source: str) -> None:
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        conn.Producer().publish(encode(event), exchange=event_exchange(source), routing_key=event["type"],
                                content_type=CONTENT_TYPE, content_encoding="utf-8", delivery_mode=2,
                                declare=[event_exchange(source)])


def _event(source: str, type_: str, subject: str, data: dict) -> dict:
    event = make_event(source_service=source, type=type_, subject=subject, data=data)
    validate_event(event)
    return event


def entry(app_id: str, rank: int, unit: str = "cac-beijing") -> dict:
    return {
        "application_id": app_id, "rank": rank, "score": round(95 - rank, 2),
        "project_name": f"{NAMES[(rank - 1) % len(NAMES)]}{app_id.replace('-', '')}",
        "organisation": f"北京阳光公益基金会{rank}",
        "category": "education", "province": "北京市", "unit_code": unit,
        "summary": f"联系人手机 {MOBILE}，邮箱 {EMAIL}，身份证 41010519900101123X。服务留守儿童。",
        "evidence_ids": [f"ev-{app_id}-1"],
    }


def selection_data(tag: str, n: int = 3, reserves: int = 2) -> dict:
    ids = [f"{tag}-{i:04d}" for i in range(1, n + reserves + 1)]
    return {
        "selection_id": f"sel-{tag}", "call_id": CALL_ID, "call_title": "2024年网络公益行动优秀网络公益项目征集",
        "confirmed_at": "2024-03-01T10:00:00+08:00", "confirmed_by": "staff-1", "method": {"kind": "ranked"},
        "snapshot_hash": "0" * 64,
        "entries": [entry(i, r) for r, i in enumerate(ids[:n], start=1)],
        "reserves": [entry(i, r, unit="cac-tianjin") for r, i in enumerate(ids[n:], start=n + 1)],
    }


@pytest.fixture(scope="module")
def env(settings):
    engine = make_engine(settings.db_url("publish"))
    with running_services(settings, "publish") as urls:
        doc = open_call_document("2024-national")
        doc["id"] = CALL_ID
        doc["key_dates"] = [{"date": "09-05", "label": "中华慈善日"}, {"date": "03-05", "label": "学雷锋日"}]
        publish_event(settings.amqp_uri, _event("intake", "call.loaded.v1", f"call/{CALL_ID}", {
            "call_id": CALL_ID, "version": 1, "fingerprint": "f" * 16, "document": doc}), "intake")
        with engine.connect() as conn:  # labels come from the call: let it arrive before any selection
            wait_until(lambda: conn.execute(sa.text("select count(*) from calls where call_id = :c"),
                                            {"c": CALL_ID}).scalar(), message="call.loaded")
        tok = tokens(settings)
        yield {"url": urls["publish"], "engine": engine, "tok": tok, "settings": settings,
               "staff": Client(urls["publish"], tok["staff"]), "public": Client(urls["publish"])}
    engine.dispose()


def uow(env) -> UnitOfWork:
    return UnitOfWork(sessionmaker(env["engine"], expire_on_commit=False), "publish")


def new_notice(env, tag: str, **kw) -> tuple[str, dict]:
    data = selection_data(tag, **kw)
    publish_event(env["settings"].amqp_uri, _event("review", "selection.confirmed.v1", f"selection/{tag}", data),
                  "review")
    staff = env["staff"]

    def draft_id():
        items = staff.get("/api/publish/staff/notices", params={"call_id": CALL_ID, "limit": 200}).json()["items"]
        ids = {e["application_id"] for n in items for e in n["entries"]}
        return next((n["id"] for n in items if data["entries"][0]["application_id"] in ids), None)

    return wait_until(draft_id, message="notice draft from selection.confirmed.v1"), data


def events_of(env, type_: str, notice_id: str | None = None) -> list[dict]:
    evs = [e for _, e in archived_events(env["engine"], 0, 10000) if e["type"] == type_]
    return [e for e in evs if notice_id is None or e["data"].get("notice_id") == notice_id]


def objection(app_id: str, name: str = OBJECTOR_NAME, contact: str = OBJECTOR_CONTACT, reason: str = REASON) -> dict:
    return {"application_id": app_id, "name": name, "contact": contact, "relation": "项目所在社区居民",
            "reason": reason, "evidence_ids": ["ev-objection-1"]}


@pytest.fixture(scope="module")
def published(env):
    """The objection flow over HTTP up to a published final list (shared by the output tests)."""
    staff, public = env["staff"], env["public"]
    notice_id, data = new_notice(env, f"flow{uuid.uuid4().hex[:6]}")
    first, second, third = (e["application_id"] for e in data["entries"])
    reserve = data["reserves"][0]["application_id"]
    assert public.get(f"/api/publish/notices/{notice_id}").status_code == 404  # drafts are not public

    opened = staff.post(f"/api/publish/notices/{notice_id}/open", json={})
    assert opened.status_code == 200, opened.text
    body = opened.json()
    assert body["state"] == "open" and body["working_days"] == 5
    ends = dt.datetime.fromisoformat(body["ends_at"]).astimezone(SH)
    assert (ends.hour, ends.minute, ends.second) == (23, 59, 59)

    r1 = public.post(f"/api/publish/notices/{notice_id}/objections", json=objection(first))
    assert r1.status_code == 201, r1.text
    code = r1.json()["tracking_code"]
    r2 = public.post(f"/api/publish/notices/{notice_id}/objections",
                     json=objection(first, contact="+86 139-0000-1111", reason=REASON + "另补充：活动照片系摆拍。"))
    assert r2.status_code == 201 and r2.json() == r1.json() | {"merged": True}
    r3 = public.post(f"/api/publish/notices/{notice_id}/objections",
                     json=objection(second, name=OTHER_OBJECTOR, contact=OTHER_CONTACT))
    assert r3.status_code == 201 and r3.json()["tracking_code"] != code
    # identities in full only with the pii claim (gongyi/pii.py); without it they are masked
    masked = staff.get(f"/api/publish/notices/{notice_id}/objections").json()["items"]
    assert OBJECTOR_NAME not in str(masked) and OBJECTOR_CONTACT not in str(masked)
    pii_staff = Client(env["url"], issue_token(env["settings"], "staff", "staff-pii", pii=True))
    objections = pii_staff.get(f"/api/publish/notices/{notice_id}/objections").json()["items"]
    assert len(objections) == 2
    by_app = {o["application_id"]: o for o in objections}
    assert len(by_app[first]["reasons"]) == 2 and by_app[first]["name"] == OBJECTOR_NAME

    early = staff.post(f"/api/publish/notices/{notice_id}/close")
    assert early.status_code == 409 and early.json()["code"] == "notice_period_not_over"
    after_end = dt.datetime.fromisoformat(body["ends_at"]) + dt.timedelta(seconds=1)
    with uow(env) as u, pytest.raises(Conflict) as pending:
        handlers.close_notice(u, notice_id, now=after_end)
    assert pending.value.code == "unresolved_objections" and pending.value.details["count"] == 2

    upheld = staff.post(f"/api/publish/notices/{notice_id}/objections/{by_app[first]['id']}/resolve",
                        json={"outcome": "upheld", "note_zh": "经核查，项目启动时间不符合申报条件，取消入选资格。"})
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["replacements"][0]["replacement_application_id"] == reserve
    dismissed = staff.post(f"/api/publish/notices/{notice_id}/objections/{by_app[second]['id']}/resolve",
                           json={"outcome": "dismissed", "note_zh": "经核查，异议理由与事实不符，不予采纳。"})
    assert dismissed.status_code == 200, dismissed.text
    status = public.get(f"/api/publish/objections/{code.lower()}").json()
    assert status["status"] == "upheld" and "取消入选资格" in status["resolution_note_zh"]

    with uow(env) as u:
        assert handlers.close_notice(u, notice_id, now=after_end).state.value == "closed"
    done = staff.post(f"/api/publish/notices/{notice_id}/publish")
    assert done.status_code == 200, done.text
    final = public.get(f"/api/publish/notices/{notice_id}").json()
    assert [e["application_id"] for e in final["entries"]] == [second, third, reserve]
    assert [e["rank"] for e in final["entries"]] == [1, 2, 3]
    return {"id": notice_id, "data": data, "codes": [code, r3.json()["tracking_code"]], "final": final}


def test_objection_flow_to_the_final_list_and_its_events(env, published):
    notice_id = published["id"]
    kinds = [e["type"] for _, e in archived_events(env["engine"], 0, 10000) if e["subject"] in (
        f"notice/{notice_id}",) or e["data"].get("notice_id") == notice_id]
    for type_ in ("notice.opened.v1", "objection.filed.v1", "objection.resolved.v1", "notice.closed.v1",
                  "list.published.v1"):
        assert type_ in kinds, type_
    [listed] = events_of(env, "list.published.v1", notice_id)
    entries = listed["data"]["entries"]
    assert [e["application_id"] for e in entries] == [e["application_id"] for e in published["final"]["entries"]]
    assert entries[0]["unit_code"] == "cac-beijing" and entries[0]["evidence_ids"]
    assert entries[2]["unit_code"] == "cac-tianjin"
    filed = events_of(env, "objection.filed.v1", notice_id)
    assert [e["data"]["merged"] for e in filed] == [False, True, False]
    assert_no_pii([e["data"] for _, e in archived_events(env["engine"], 0, 10000)
                   if e["source"] == "/gongyi/publish"], PII)


def test_public_objections_are_rate_limited_per_address(env, published):
    public = env["public"]
    statuses = []
    for _ in range(6):  # the flow used 3 of the 5 tokens; after publication filing answers 409 but still counts
        resp = public.post(f"/api/publish/notices/{published['id']}/objections", json=objection("x"))
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert resp.json()["code"] == "rate_limited"
            assert int(resp.headers["Retry-After"]) > 0
            break
    assert statuses[-1] == 429 and 409 in statuses, statuses


def test_no_personal_data_in_any_public_output_and_pdf_has_chinese_names(env, published):
    public, notice_id = env["public"], published["id"]
    base = f"/api/publish/notices/{notice_id}"
    names = [e["project_name"] for e in published["final"]["entries"]]
    outputs = {}
    for path in ("/api/publish/notices", base, f"{base}/page.html", f"{base}/final.html", "/api/publish/feed.atom",
                 "/api/publish/cases", *(f"/api/publish/objections/{c}" for c in published["codes"]),
                 *(f"{base}/projects/{e['application_id']}.html" for e in published["final"]["entries"]),
                 *(f"{base}/export.{f}" for f in ("csv", "xlsx", "pdf")),
                 *(f"{base}/final-list/export.{f}" for f in ("csv", "xlsx", "pdf"))):
        resp = public.get(path)
        assert resp.status_code == 200, (path, resp.text[:300])
        outputs[path] = resp.content
        assert_no_pii(resp.content, PII)
    assert outputs[f"{base}/final.html"].decode().count("<tr>") >= 4
    assert "text/html" in public.get(f"{base}/page.html").headers["Content-Type"]
    assert b"<feed" in outputs["/api/publish/feed.atom"] and f"list/{notice_id}".encode() in outputs[
        "/api/publish/feed.atom"]
    for path in (f"{base}/export.pdf", f"{base}/final-list/export.pdf"):
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(outputs[path])).pages)
        compact = text.replace(" ", "").replace("\n", "")
        for name in names[:2]:
            assert name in compact, (path, name)
    assert "[已隐去]" in outputs[base].decode()
    evidence_page = outputs[f"{base}/projects/{published['final']['entries'][0]['application_id']}.html"].decode()
    assert "/api/media/evidence/ev-" in evidence_page and 'rel="noopener noreferrer nofollow"' in evidence_page


def test_working_days_via_the_handler_across_national_day_and_spring_festival(env):
    national, _ = new_notice(env, f"nd{uuid.uuid4().hex[:6]}")
    spring, _ = new_notice(env, f"sf{uuid.uuid4().hex[:6]}")
    with uow(env) as u:
        n = handlers.open_notice(u, national, now=dt.datetime(2024, 9, 27, 10, tzinfo=SH))
        assert n.ends_at == dt.datetime(2024, 10, 10, 23, 59, 59, tzinfo=SH)  # 09-29 worked, 10-01..07 off
    with uow(env) as u:
        n = handlers.open_notice(u, spring, working_days=5, now=dt.datetime(2024, 2, 8, 10, tzinfo=SH))
        assert n.ends_at == dt.datetime(2024, 2, 21, 23, 59, 59, tzinfo=SH)  # 02-18 (Sunday) worked
    shown = env["public"].get(f"/api/publish/notices/{national}").json()
    assert dt.datetime.fromisoformat(shown["ends_at"]) == dt.datetime(2024, 10, 10, 23, 59, 59, tzinfo=SH)


def test_scheduled_publication_on_a_key_date_and_by_the_timer_handler(env):
    notice_id, _ = new_notice(env, f"sch{uuid.uuid4().hex[:6]}")
    staff = env["staff"]
    with uow(env) as u:
        handlers.open_notice(u, notice_id, now=dt.datetime(2024, 9, 27, 10, tzinfo=SH))
    with uow(env) as u:
        handlers.close_notice(u, notice_id, now=dt.datetime(2024, 10, 11, 9, tzinfo=SH))
    keyed = staff.post(f"/api/publish/notices/{notice_id}/schedule", json={"key_date": "中华慈善日"})
    assert keyed.status_code == 200, keyed.text
    at = dt.datetime.fromisoformat(keyed.json()["publish_at"]).astimezone(SH)
    assert (at.month, at.day, at.hour) == (9, 5, 9) and at > dt.datetime.now(SH)
    bad = staff.post(f"/api/publish/notices/{notice_id}/schedule", json={"key_date": "12-31"})
    assert bad.status_code == 422 and bad.json()["details"]["issues"][0]["code"] == "key_date_unknown"
    early = staff.post(f"/api/publish/notices/{notice_id}/publish")
    assert early.status_code == 409 and early.json()["code"] == "publication_not_due"
    assert staff.post(f"/api/publish/notices/{notice_id}/unschedule").status_code == 200
    conference = dt.datetime.now(SH).replace(microsecond=0) + dt.timedelta(hours=1)
    sched = staff.post(f"/api/publish/notices/{notice_id}/schedule", json={"publish_at": conference.isoformat()})
    assert sched.status_code == 200 and dt.datetime.fromisoformat(sched.json()["publish_at"]) == conference
    with uow(env) as u:
        assert handlers.publish_due(u, now=conference - dt.timedelta(minutes=1)) == []
    assert env["public"].get(f"/api/publish/notices/{notice_id}/final.html").status_code == 404
    with uow(env) as u:
        assert handlers.publish_due(u, now=conference + dt.timedelta(seconds=30)) == [notice_id]
    [listed] = events_of(env, "list.published.v1", notice_id)
    assert dt.datetime.fromisoformat(listed["data"]["published_at"]) == conference + dt.timedelta(seconds=30)
    types = [e["type"] for e in events_of(env, "list.scheduled.v1", notice_id)]
    assert len(types) == 2 and len(events_of(env, "list.unscheduled.v1", notice_id)) == 1
    assert env["public"].get(f"/api/publish/notices/{notice_id}/final.html").status_code == 200


def test_reports_from_the_unit_become_typical_cases(env, published):
    tok, staff = env["tok"], env["staff"]
    unit = Client(env["url"], tok["unit"])  # scope unit cac-beijing = the first two projects' unit
    app_id = published["final"]["entries"][0]["application_id"]
    report = {"application_id": app_id, "kind": "typical_case", "title": "留守儿童阅读点亮百所乡村学校",
              "body": f"项目覆盖100所学校。联系人手机 {MOBILE}。", "evidence_ids": ["ev-report-1"]}
    # an applicant of another organisation does not learn the project exists
    assert Client(env["url"], tok["applicant"]).post("/api/publish/reports", json=report).status_code == 404
    assert Client(env["url"], tok["expert"]).post("/api/publish/reports", json=report).status_code == 403
    other = Client(env["url"], tokens(env["settings"], unit="cac-hebei")["unit"])
    assert other.post("/api/publish/reports", json=report).status_code == 404
    unknown = unit.post("/api/publish/reports", json=report | {"application_id": "not-selected"})
    assert unknown.status_code == 409 and unknown.json()["code"] == "project_not_selected"
    created = unit.post("/api/publish/reports", json=report)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    assert staff.post(f"/api/publish/reports/{rid}/publish-case", json={}).json()["code"] == "report_not_accepted"
    returned = staff.post(f"/api/publish/reports/{rid}/return", json={"note": "请补充活动照片。"})
    assert returned.json()["state"] == "returned"
    again = unit.post(f"/api/publish/reports/{rid}/resubmit", json={"title": report["title"],
                                                                    "body": report["body"] + "已补充照片。"})
    assert again.json()["state"] == "submitted" and again.json()["revision"] == 2
    assert staff.post(f"/api/publish/reports/{rid}/accept", json={}).json()["state"] == "accepted"
    # the unit sees its own reports (other tests in this module file more on its projects)
    assert rid in [r["id"] for r in unit.get("/api/publish/reports").json()["items"]]
    assert other.get("/api/publish/reports").json()["items"] == []
    case = staff.post(f"/api/publish/reports/{rid}/publish-case", json={})
    assert case.status_code == 201, case.text
    case_id = case.json()["id"]
    public = env["public"]
    for path in (f"/api/publish/cases/{case_id}", f"/api/publish/cases/{case_id}/page.html", "/api/publish/cases",
                 "/api/publish/feed.atom",
                 f"/api/publish/notices/{published['id']}/projects/{app_id}.html"):
        resp = public.get(path)
        assert resp.status_code == 200 and report["title"].encode() in resp.content, path
        assert_no_pii(resp.content, PII)
    # once for this report (the team's report test publishes a case of its own)
    assert [e["data"]["report_id"] for e in events_of(env, "case.published.v1")].count(rid) == 1
    assert {e["type"] for _, e in archived_events(env["engine"], 0, 10000) if e["subject"] == f"report/{rid}"} == {
        "report.submitted.v1", "report.returned.v1", "report.accepted.v1"}


def test_year_end_summary_counts_review_events(env, published):
    amqp, staff = env["settings"].amqp_uri, env["staff"]
    apps = [e["application_id"] for e in published["data"]["entries"] + published["data"]["reserves"]]
    for i, app in enumerate(apps + ["failed-app"]):
        publish_event(amqp, _event("review", "screening.decided.v1", f"application/{app}", {
            "application_id": app, "call_id": CALL_ID, "decision": "fail" if app == "failed-app" else "pass",
            "reason": "", "decided_by": "staff-1", "decided_at": f"2024-03-0{1 + i % 5}T10:00:00+08:00"}), "review")
    for app, total in zip(apps, (91.0, 85.5, 78.0, 66.0, 59.5), strict=True):
        for expert in ("e1", "e2"):
            publish_event(amqp, _event("review", "review.submitted.v1", f"review/{app}-{expert}", {
                "review_id": f"{app}-{expert}", "application_id": app, "expert_id": expert,
                "total": total + (1 if expert == "e1" else -1), "submitted_at": "2024-03-10T10:00:00+08:00"}),
                "review")

    for app, category, kind in (("fwd-rescue-1", "emergency_rescue", "government"),
                                ("fwd-rescue-2", "emergency_rescue", "news_media"),
                                ("fwd-withdrawn", "emergency_rescue", "government")):
        form = sample_form() | {"category": category}
        form["applicant"] = form["applicant"] | {"type": kind, "province": "天津市"}
        publish_event(amqp, _event("intake", "application.forwarded.v1", f"application/{app}", {
            "application_id": app, "call_id": CALL_ID, "call_version": 1, "state": "forwarded",
            "unit_code": "cac-tianjin", "batch_id": str(uuid.uuid4()), "forwarded_at": "2024-02-02T10:00:00+08:00",
            "form": form}), "intake")
    publish_event(amqp, _event("intake", "application.withdrawn.v1", "application/fwd-withdrawn", {
        "application_id": "fwd-withdrawn", "call_id": CALL_ID, "call_version": 1, "state": "withdrawn",
        "unit_code": "cac-tianjin", "by_role": "staff"}), "intake")

    def summary():
        s = staff.get(f"/api/publish/calls/{CALL_ID}/summary").json()
        by_type = {r["key"]: r["applications"] for r in s["by_applicant_type"]}
        ready = s["scores"]["count"] >= 5 and s["totals"]["screened"] >= 6 and s["totals"]["withdrawn"] >= 1
        # events arrive on separate queues: wait for the state where all have been applied
        # (政府部门 2: the withdrawn application is counted among the applications too)
        return s if ready and by_type.get("政府部门") == 2 and by_type.get("新闻媒体") == 1 else None

    s = wait_until(summary, message="screening and review events counted")
    assert s["screening"]["pass_rate"] < 1 and s["totals"]["passed_screening"] >= 5
    assert s["scores"]["max"] >= 91.0 and sum(b["count"] for b in s["scores"]["buckets"]) == s["scores"]["count"]
    assert s["objections"]["upheld"] >= 1 and s["objections"]["rejected"] >= 1
    [education] = [r for r in s["by_category"] if r["key"] == EDUCATION]  # the call's label, not its code
    assert education["selected"] == 3 and education["passed"] >= 5
    [rescue] = [r for r in s["by_category"] if r["key"] == "互联网+应急救援"]
    assert rescue["applications"] == 3 and rescue["forwarded"] == 2 and rescue["withdrawn"] == 1
    assert {r["key"] for r in s["by_unit"]} >= {"天津市委网信办", "北京市委网信办"}
    assert len(s["selected"]) == 3
    xlsx = staff.get(f"/api/publish/calls/{CALL_ID}/summary", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    pdf = staff.get(f"/api/publish/calls/{CALL_ID}/summary", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace(" ", "")
    latest = max((n for n in env["public"].get("/api/publish/notices").json()["items"] if n["state"] == "published"),
                 key=lambda n: n["published_at"])
    assert [e["application_id"] for e in s["selected"]] == [e["application_id"] for e in latest["entries"]]
    assert s["selected"][0]["project_name"] in text.replace("\n", "")
    assert_no_pii(pdf.content, PII)
    assert_no_pii(xlsx.content, PII)
    assert env["public"].get(f"/api/publish/calls/{CALL_ID}/summary").status_code == 401


def _app_event(type_: str, app: str, call_id: str, state: str, sequence: int, **extra) -> dict:
    data = {"application_id": app, "call_id": call_id, "call_version": 1, "state": state, "unit_code": "cac-beijing",
            "project_name": f"项目{app}", "category": "education", "applicant_name": "某基金会",
            "applicant_type": "social_organisation", "province": "北京市", "sequence": sequence, **extra}
    return _event("intake", type_, f"application/{app}", data)


def test_year_end_summary_counts_applications_in_every_state(env):
    """Eight applications created: the summary says 申报项目 8, split by state, whatever order the
    events of one application arrive in (one queue per type) and however often one is redelivered."""
    amqp, staff = env["settings"].amqp_uri, env["staff"]
    call_id = f"states-{uuid.uuid4().hex[:8]}"
    doc = open_call_document("2024-national") | {"id": call_id}
    publish_event(amqp, _event("intake", "call.loaded.v1", f"call/{call_id}", {
        "call_id": call_id, "version": 1, "fingerprint": "e" * 16, "document": doc}), "intake")
    A = "application.{}.v1".format
    t = uuid.uuid4().hex[:6]
    forwarded_form = sample_form() | {"category": "emergency_rescue"}
    events = [
        _app_event(A("created"), f"{t}-draft", call_id, "draft", 0),
        _app_event(A("created"), f"{t}-sub", call_id, "draft", 0),
        _app_event(A("submitted"), f"{t}-sub", call_id, "submitted", 1),
        # returned (sequence 2) sent before the submission it follows: the state stays returned
        _app_event(A("returned"), f"{t}-ret", call_id, "returned", 2, reason="补充", by_role="unit"),
        _app_event(A("submitted"), f"{t}-ret", call_id, "submitted", 1),
        _app_event(A("created"), f"{t}-ret", call_id, "draft", 0),
        _app_event(A("rejected"), f"{t}-rej", call_id, "rejected", 2, reason="不符", by_role="unit"),
        _app_event(A("withdrawn"), f"{t}-wd", call_id, "withdrawn", 1, reason="调整", by_role="applicant",
                   as_duplicate=False),
        _app_event(A("created"), f"{t}-wd", call_id, "draft", 0),  # the withdrawal arrived first
        _app_event(A("endorsed"), f"{t}-end", call_id, "endorsed", 2, unit_opinion="同意", imported=False),
        _app_event(A("forwarded"), f"{t}-fwd", call_id, "forwarded", 3, batch_id="b1", form=forwarded_form,
                   forwarded_at="2024-02-02T10:00:00+08:00"),
        _app_event(A("forwarded"), f"{t}-dup", call_id, "forwarded", 3, batch_id="b1", form=forwarded_form,
                   forwarded_at="2024-02-02T10:00:00+08:00"),
        _app_event(A("withdrawn"), f"{t}-dup", call_id, "withdrawn", 4, reason="同一项目重复申报",
                   by_role="staff", as_duplicate=True, category="emergency_rescue"),
    ]
    for event in events:
        publish_event(amqp, event, "intake")
    publish_event(amqp, events[2], "intake")  # redelivered: counted once

    def summary():
        s = staff.get(f"/api/publish/calls/{call_id}/summary")
        if s.status_code != 200:
            return None
        s = s.json()
        done = s["totals"]["applications"] == 8 and s["totals"]["withdrawn"] == 2 and s["totals"]["forwarded"] == 1
        return s if done and {r["state"]: r["count"] for r in s["by_state"]}["draft"] == 1 else None

    s = wait_until(summary, message="every application event applied")
    assert {r["state"]: r["count"] for r in s["by_state"]} == {
        "draft": 1, "submitted": 1, "returned": 1, "rejected": 1, "endorsed": 1, "forwarded": 1, "withdrawn": 2}
    assert s["withdrawn"] == {"total": 2, "by_applicant": 1, "by_staff": 0, "duplicates": 1}
    assert s["totals"]["withdrawn_duplicates"] == 1
    assert "草稿" in s["definitions"]["applications"]["zh"]
    rescue = next(r for r in s["by_category"] if r["key"] == "互联网+应急救援")  # from the forwarded form
    assert rescue["applications"] == 2 and rescue["forwarded"] == 1 and rescue["withdrawn"] == 1
    pdf = staff.get(f"/api/publish/calls/{call_id}/summary", params={"format": "pdf"})
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "申报项目8个" in text.replace(" ", "").replace("\n", "")


def test_notice_documents_use_optimistic_locking(env, published):
    from services.publish.storage.repository import NoticeRepository

    with uow(env) as u:
        repo = NoticeRepository(u.session)
        notice, version = repo.get(published["id"])
        repo.save(notice, version)
        with pytest.raises(Conflict) as stale:
            repo.save(notice, version)
        assert stale.value.code == "concurrent_update"
        u.rollback()
    with env["engine"].connect() as conn:
        assert conn.execute(sa.text("select count(*) from notices")).scalar() >= 1


def test_the_selected_projects_own_team_files_reports_its_unit_confirms(env, published):
    """The team (applicant accounts of the organisation that applied, by credit code) files; its
    recommending unit confirms or returns; staff accept as before. Roles are checked at each step."""
    tok, staff, settings = env["tok"], env["staff"], env["settings"]
    app_id = published["final"]["entries"][1]["application_id"]  # unit cac-beijing
    org = "53110000500000007T"  # the credit code tok["applicant"] carries
    form = sample_form(credit_code=org)
    publish_event(settings.amqp_uri, _event("intake", "application.forwarded.v1", f"application/{app_id}", {
        "application_id": app_id, "call_id": CALL_ID, "call_version": 1, "state": "forwarded",
        "unit_code": "cac-beijing", "batch_id": str(uuid.uuid4()), "forwarded_at": "2024-02-02T10:00:00+08:00",
        "form": form, "sequence": 4}), "intake")
    team = Client(env["url"], tok["applicant"])
    stranger = Client(env["url"], issue_token(settings, "applicant", "someone", org="91110108551385082Q"))
    unit = Client(env["url"], tok["unit"])
    other_unit = Client(env["url"], tokens(settings, unit="cac-hebei")["unit"])
    report = {"application_id": app_id, "kind": "work_update", "title": "暑期网络支教进展",
              "body": "本月新增合作学校12所，服务学生800人。", "evidence_ids": []}
    assert stranger.post("/api/publish/reports", json=report).json()["code"] == "project_not_found"

    def filed():  # the forwarded event tells publish which organisation applied
        resp = team.post("/api/publish/reports", json=report)
        return resp if resp.status_code == 201 else None

    resp = wait_until(filed, message="application.forwarded.v1 applied")
    body = resp.json()
    rid = body["id"]
    assert body["state"] == "awaiting_unit" and body["filed_by_role"] == "applicant" and body["confirmed_at"] is None
    # staff review only what the unit confirmed; no one but the project's unit confirms
    assert staff.post(f"/api/publish/reports/{rid}/accept", json={}).json()["code"] == "report_not_submitted"
    assert team.post(f"/api/publish/reports/{rid}/confirm").status_code == 403
    assert staff.post(f"/api/publish/reports/{rid}/confirm").status_code == 403
    assert other_unit.post(f"/api/publish/reports/{rid}/confirm").json()["code"] == "report_not_found"
    assert stranger.get(f"/api/publish/reports/{rid}").status_code == 404
    assert team.post(f"/api/publish/reports/{rid}/return", json={"note": "x"}).status_code == 403
    # the unit returns it with a note, the team revises, the unit confirms, staff accept
    assert unit.post(f"/api/publish/reports/{rid}/return", json={"note": ""}).status_code == 422
    returned = unit.post(f"/api/publish/reports/{rid}/return", json={"note": "请补充学生人数的统计口径。"})
    assert returned.status_code == 200 and returned.json()["state"] == "returned", returned.text
    again = team.post(f"/api/publish/reports/{rid}/resubmit",
                      json={"title": report["title"], "body": report["body"] + "人数按签到表统计。"})
    assert again.json()["state"] == "awaiting_unit" and again.json()["revision"] == 2
    confirmed = unit.post(f"/api/publish/reports/{rid}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "submitted", confirmed.text
    assert confirmed.json()["confirmed_at"] is not None
    assert unit.post(f"/api/publish/reports/{rid}/confirm").json()["code"] == "report_not_awaiting_unit"
    # once under staff review, returning it is staff's call
    assert unit.post(f"/api/publish/reports/{rid}/return", json={"note": "再改"}).json()["code"] == \
        "report_not_awaiting_unit"
    accepted = staff.post(f"/api/publish/reports/{rid}/accept", json={})
    assert accepted.json()["state"] == "accepted"
    assert [r["id"] for r in team.get("/api/publish/reports").json()["items"]] == [rid]
    assert team.get(f"/api/publish/reports/{rid}").json()["filed_by_role"] == "applicant"
    assert stranger.get("/api/publish/reports").json()["items"] == []
    assert [e["type"] for _, e in archived_events(env["engine"], 0, 10000) if e["subject"] == f"report/{rid}"] == [
        "report.submitted.v1", "report.returned.v1", "report.submitted.v1", "report.confirmed.v1",
        "report.accepted.v1"]


def test_tracking_report_deadlines_remind_each_listed_project_without_a_report_once(env, published):
    """A new version of the call sets a tracking-report deadline; the timer's handler emits one
    report.due.v1 per project on the published list that filed nothing since, and none again."""
    settings, staff = env["settings"], env["staff"]
    due = (dt.datetime.now(SH) + dt.timedelta(days=2)).replace(microsecond=0)
    doc = open_call_document("2024-national")
    doc["id"] = CALL_ID
    doc["reporting"] = {"kinds": [{"code": "work_update", "label": "工作动态"}], "due": [due.isoformat()],
                        "remind_days_before": 7}
    version = int(dt.datetime.now().timestamp())  # newer than any version other tests announced
    publish_event(settings.amqp_uri, _event("intake", "call.loaded.v1", f"call/{CALL_ID}", {
        "call_id": CALL_ID, "version": version, "fingerprint": "f" * 16, "document": doc}), "intake")
    with env["engine"].connect() as conn:
        wait_until(lambda: conn.execute(sa.text("select version from calls where call_id = :c"),
                                        {"c": CALL_ID}).scalar() == version, message="the new call version")
    listed = [e["application_id"] for e in published["final"]["entries"]]
    with uow(env) as u:
        assert handlers.send_report_reminders(u, now=due - dt.timedelta(days=7, seconds=1)) == 0  # too early
    with uow(env) as u:
        sent = handlers.send_report_reminders(u)
    with uow(env) as u:
        assert handlers.send_report_reminders(u) == 0  # once per project and deadline
    reminded = {e["data"]["application_id"]: e["data"] for e in events_of(env, "report.due.v1")}
    assert len(reminded) == sent >= 1
    for app_id in listed:  # each listed project either has a report already or was reminded
        has_report = bool(staff.get("/api/publish/reports", params={"application_id": app_id}).json()["items"])
        assert (app_id in reminded) != has_report, (app_id, has_report)
    some = next(iter(reminded.values()))
    assert dt.datetime.fromisoformat(some["due_at"]) == due and some["overdue"] is False
    assert some["notice_id"] and some["call_id"] == CALL_ID
