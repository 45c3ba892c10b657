"""One whole call as its people would run it, over HTTP through one base URL, as a rehearsal.

Each phase is a function of the run's state; it checks what a person at that step would check
(the state shown, the list contents, the marks on a file), not only the status code, and raises
:class:`ScenarioError` with the server's answer when something is off. `gongyi demo` stops after
any phase (``--until``) so a newcomer can look around at that point; the end-to-end tests run all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from gongyi.config import Settings
from gongyi.demo import samples
from gongyi.http.auth import issue_token

SH = dt.timezone(dt.timedelta(hours=8))
CRITERIA = ("compliance", "platform", "public_benefit", "effectiveness", "influence", "exemplarity")
REHEARSAL_MARK = "【演练】"


class ScenarioError(AssertionError):
    """A step did not give what a user would expect."""


class Client:
    """One person's HTTP client: a base URL and a bearer token (none for the public)."""

    def __init__(self, base: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = 200, **kwargs: Any) -> requests.Response:
        try:
            resp = self.session.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ScenarioError(f"{method} {path}: no answer ({type(exc).__name__}: {exc})") from exc
        wanted = (expect,) if isinstance(expect, int) else expect
        if resp.status_code not in wanted:
            raise ScenarioError(f"{method} {path}: expected {wanted}, got {resp.status_code}: {resp.text[:800]}")
        return resp

    def get(self, path: str, expect: int | tuple[int, ...] = 200, **kw: Any) -> requests.Response:
        return self.call("GET", path, expect, **kw)

    def post(self, path: str, expect: int | tuple[int, ...] = 200, **kw: Any) -> requests.Response:
        return self.call("POST", path, expect, **kw)

    def put(self, path: str, expect: int | tuple[int, ...] = 200, **kw: Any) -> requests.Response:
        return self.call("PUT", path, expect, **kw)


def check(condition: object, message: str) -> None:
    if not condition:
        raise ScenarioError(message)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise ScenarioError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Run:
    """Everything the phases share: who is who, and what was created so far."""

    base: str
    settings: Settings
    call_id: str
    notice_minutes: float = 0.25
    log: Callable[[str], None] = print
    app_ids: list[str] = field(default_factory=list)
    duplicate_id: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    suspicion_id: str = ""
    selection_id: str = ""
    notice_id: str = ""
    objection_code: str = ""
    removed_id: str = ""
    reserve_id: str = ""
    report_id: str = ""
    case_id: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    def token(self, role: str, **claims: str) -> str:
        sub = claims.pop("sub", f"demo-{role}-{claims.get('unit') or claims.get('expert') or claims.get('org') or 1}")
        return issue_token(self.settings, role, sub, **claims)

    @property
    def staff(self) -> Client:
        return Client(self.base, self.token("staff", sub="demo-staff"))

    @property
    def public(self) -> Client:
        return Client(self.base)

    def applicant(self, org: int) -> Client:
        code = samples.ORGANISATIONS[org]["credit_code"]
        return Client(self.base, self.token("applicant", sub=f"demo-applicant-{org}", org=code))

    def unit(self, code: str) -> Client:
        return Client(self.base, self.token("unit", unit=code))

    def expert_id(self, sample: dict) -> str:
        """Experts are per rehearsal: a rerun never finds last run's pool."""
        return f"{sample['expert_id']}-{self.call_id[-4:]}"

    def expert(self, expert_id: str) -> Client:
        return Client(self.base, self.token("expert", expert=expert_id))

    def projects(self) -> list[dict]:
        """The sample projects with their application ids, in creation order."""
        return [dict(p, id=i) for p, i in zip(samples.PROJECTS, self.app_ids, strict=True)]


# --------------------------------------------------------------------------- phases


def load_call(run: Run) -> None:
    """Staff copy the 2024 national call as a rehearsal with a compressed timetable."""
    staff = run.staff
    source = staff.get("/api/intake/calls/2024-national").json()["document"]
    now = dt.datetime.now(SH).replace(microsecond=0)
    doc = dict(source)
    doc.update(
        id=run.call_id,
        title=source["title"],  # publish marks every output of a rehearsal 【演练】 itself
        rehearsal=True,
        window={**source["window"], "opens": (now - dt.timedelta(days=1)).isoformat(),
                "closes": (now + dt.timedelta(days=30)).isoformat()},
        notice={**source["notice"], "minutes": run.notice_minutes},
        quotas={"select_about": 3, "per_category": {"emergency_rescue": {"min": 1}}},  # a floor, no cap
        review={**source["review"], "experts_per_project": 2, "conflict_same_province": True},
    )
    loaded = staff.post("/api/intake/calls", json={"document": doc, "note": "演练 / rehearsal"}).json()
    check(loaded["call_id"] == run.call_id and loaded["version"] == 1, f"call loaded: {loaded}")
    shown = run.public.get(f"/api/intake/calls/{run.call_id}").json()["document"]
    check(shown["rehearsal"] is True and shown["notice"]["minutes"] == run.notice_minutes, "the rehearsal's rules")
    wait_for(lambda: staff.get(f"/api/review/calls/{run.call_id}/rules", expect=(200, 404)).status_code == 200,
             "review to know the rehearsal's rules")
    run.log(f"call {run.call_id}: a rehearsal, notice period {run.notice_minutes:g} min")


def upload_evidence(run: Run) -> None:
    """The first applicant uploads an image, a short video, and cites a media report with a screenshot."""
    applicant = run.applicant(0)
    image = applicant.post("/api/media/evidence", 201, params={"kind": "image", "filename": "课堂.png"},
                           data=samples.png(seed=1), headers={"Content-Type": "image/png"}).json()
    check(image["status"] == "stored" and image["width"] == 1600 and image["sha256"], f"image stored: {image}")
    video = applicant.post("/api/media/evidence", 201, params={"kind": "video", "filename": "课堂.mp4"},
                           data=samples.mp4(seed=2), headers={"Content-Type": "video/mp4"}).json()
    check(video["status"] == "stored" and video["duration_s"] and video["duration_s"] > 0, f"video stored: {video}")
    shot = applicant.post("/api/media/evidence", 201, params={"kind": "image", "filename": "报道截图.png"},
                          data=samples.png(seed=3), headers={"Content-Type": "image/png"}).json()
    report = applicant.post("/api/media/media-reports", 201, json={
        "url": "https://news.example.org/2023/10/rural-classroom.html", "outlet": "示例新闻网",
        "title": "网络课堂走进三百所乡村学校", "published_on": "2023-10-17", "screenshot_evidence_id": shot["id"],
    }).json()
    check(report["kind"] == "media_report" and report["normalised_link"], f"media report: {report}")
    run.evidence = {"image": image["id"], "video": video["id"], "report": report["id"], "screenshot": shot["id"]}
    run.log("evidence: image, video and media report stored")


def drafts(run: Run) -> None:
    """Applicants of several units create drafts; one saves its form twice; evidence attached to the first."""
    for index, project in enumerate(samples.PROJECTS):
        applicant = run.applicant(project["org"])
        form = samples.form(project)
        if index == 0:
            form["image_evidence_ids"] = [run.evidence["image"]]
            form["video_evidence_ids"] = [run.evidence["video"]]
        created = applicant.post("/api/intake/applications", 201, json={"call_id": run.call_id, "form": form}).json()
        check(created["state"] == "draft" and created["call_id"] == run.call_id, f"a draft: {created}")
        run.app_ids.append(created["id"])
    first = run.app_ids[0]
    applicant = run.applicant(0)
    form = applicant.get(f"/api/intake/applications/{first}").json()["form"]
    form["media_reports"] = [{
        "title": "网络课堂走进三百所乡村学校", "outlet": "示例新闻网", "published_on": "2023-10-17",
        "url": "https://news.example.org/2023/10/rural-classroom.html",
        "screenshot_evidence_id": run.evidence["screenshot"]}]
    form["innovation"] = "双师课堂模式可复制推广，已在三省推广。"
    saved = applicant.put(f"/api/intake/applications/{first}/form", json={"form": form}).json()
    check(saved["form"]["innovation"].endswith("已在三省推广。") and saved["state"] == "draft", "the draft saved")
    dup = run.applicant(samples.DUPLICATE["org"]).post("/api/intake/applications", 201, json={
        "call_id": run.call_id, "form": samples.form(samples.DUPLICATE)}).json()
    run.duplicate_id = dup["id"]
    run.log(f"drafts: {len(run.app_ids) + 1} applications from {len({p['unit'] for p in samples.PROJECTS})} units")


def submit(run: Run) -> None:
    """Each applicant submits to its unit (evidence checked with media over RPC)."""
    for project in [*run.projects(), dict(samples.DUPLICATE, id=run.duplicate_id)]:
        answer = run.applicant(project["org"]).post(f"/api/intake/applications/{project['id']}/submit").json()
        check(answer["state"] == "submitted", f"submitted: {answer}")
    mine = run.unit("cac-beijing").get("/api/intake/applications", params={"call_id": run.call_id}).json()
    ids = {i["id"] for i in mine["items"]}
    check(run.app_ids[0] in ids and run.app_ids[1] not in ids, "a unit sees only its own applicants")
    run.log("submitted: every application reached its unit")


def endorse_and_forward(run: Run) -> None:
    """Units return one for revision, endorse with an opinion and forward in batches."""
    beijing = run.unit("cac-beijing")
    second = run.app_ids[4]
    returned = beijing.post(f"/api/intake/applications/{second}/return",
                            json={"reason": "请补充项目成效数据的来源。"}).json()
    check(returned["state"] == "returned", f"returned: {returned}")
    applicant = run.applicant(0)
    shown = applicant.get(f"/api/intake/applications/{second}").json()
    check(shown["state"] == "returned" and "来源" in str(shown), "the applicant sees the reason for return")
    form = shown["form"]
    form["implementation_results"] += "（数据来源：项目年度报告）"
    applicant.put(f"/api/intake/applications/{second}/form", json={"form": form})
    applicant.post(f"/api/intake/applications/{second}/submit")
    by_unit: dict[str, list[str]] = {}
    for project in [*run.projects(), dict(samples.DUPLICATE, id=run.duplicate_id)]:
        unit = run.unit(project["unit"])
        endorsed = unit.post(f"/api/intake/applications/{project['id']}/endorse", json={"opinion": "同意推荐"}).json()
        check(endorsed["state"] == "endorsed", f"endorsed: {endorsed}")
        by_unit.setdefault(project["unit"], []).append(project["id"])
    for unit_code, ids in by_unit.items():
        batch = run.unit(unit_code).post("/api/intake/batches", (200, 201), json={
            "application_ids": ids, "idempotency_key": f"{run.call_id}-{unit_code}"}).json()
        check({i["status"] for i in batch["items"]} == {"forwarded"}, f"batch forwarded: {batch}")
    staff = run.staff
    for app_id in [*run.app_ids, run.duplicate_id]:
        wait_for(lambda a=app_id: staff.get(f"/api/review/projects/{a}", expect=(200, 404)).status_code == 200,
                 f"review to hold {app_id}")
    run.log(f"forwarded: {len(by_unit)} batches")


def search(run: Run) -> None:
    """Staff find a project by a word of its title."""
    staff = run.staff

    def found() -> dict | None:
        r = staff.get("/api/review/search", params={"q": "留守儿童", "call_id": run.call_id}).json()
        return r if run.app_ids[0] in {i["application_id"] for i in r["items"]} else None

    result = wait_for(found, "the first project in staff search")
    check("13800138000" not in str(result), "no personal data in search results")
    run.log("search: found by title")


def duplicates(run: Run) -> None:
    """The re-submission through another unit is suspected, explained, and settled by staff."""
    staff = run.staff
    pair = {run.app_ids[samples.DUPLICATE_OF], run.duplicate_id}

    def suspected() -> dict | None:
        items = staff.get("/api/review/duplicates", params={"status": "open", "size": 200}).json()["items"]
        return next((i for i in items if set(i["application_ids"]) == pair), None)

    item = wait_for(suspected, "the duplicate to be suspected")
    codes = {r["code"] for r in item["reasons"]}
    check("same_credit_code" in codes and len(codes) >= 2, f"reasons shown: {codes}")
    run.suspicion_id = item["suspicion_id"]
    settled = staff.post(f"/api/review/duplicates/{run.suspicion_id}/settle", json={
        "outcome": "same_project", "keep_id": run.app_ids[samples.DUPLICATE_OF], "action": "withdrawn",
        "note": "同一项目经两个渠道申报，保留北京渠道"}).json()
    check(settled["status"] == "settled" and settled["settlement"]["keep_id"] == run.app_ids[0], f"settled: {settled}")
    run.log(f"duplicates: suspected with {sorted(codes)}, settled")


def screening(run: Run) -> None:
    """Staff read the automatic report and pass every remaining project in one batch."""
    staff = run.staff
    report = staff.get(f"/api/review/projects/{run.app_ids[0]}/screening").json()
    check(report.get("checks") or report.get("items") or report, "a screening report")
    decided = staff.post("/api/review/screening/decisions", json={"decisions": [
        {"application_id": i, "decision": "pass", "reason": "符合申报条件"} for i in run.app_ids]}).json()
    check(decided, "screening decisions recorded")
    run.log(f"screening: {len(run.app_ids)} passed")


def experts(run: Run) -> None:
    """Staff add experts, assign automatically; one expert declares a conflict and the seat is refilled."""
    staff = run.staff
    for expert in samples.EXPERTS:
        staff.post("/api/review/experts", 201,
                   json={**expert, "expert_id": run.expert_id(expert), "call_ids": [run.call_id]})
    pool = {e["expert_id"] for e in staff.get("/api/review/experts").json()["items"]}
    check({run.expert_id(e) for e in samples.EXPERTS} <= pool, "the experts in the pool")
    auto = staff.post(f"/api/review/calls/{run.call_id}/assignments/auto").json()
    check(auto, f"automatic assignment: {auto}")
    seats = {a: _active_seats(staff, a) for a in run.app_ids}
    check(all(len(s) == 2 for s in seats.values()), f"two experts per project: {seats}")
    beijing = [run.app_ids[0], run.app_ids[4]]
    check(all(run.expert_id(samples.EXPERTS[3]) not in {s["expert_id"] for s in seats[a]} for a in beijing),
          "no expert from the applicant's own province (conflict_same_province)")
    target = run.app_ids[1]
    leaver = seats[target][0]["expert_id"]
    run.expert(leaver).post(f"/api/review/projects/{target}/conflict", json={"reason": "曾担任该机构顾问"})
    check(target not in {i["application_id"] for i in run.expert(leaver).get("/api/review/expert/projects")
                         .json()["items"]}, "the conflicted project leaves the expert's list")
    refilled = {s["expert_id"] for s in _active_seats(staff, target)}
    check(len(refilled) == 2 and leaver not in refilled, f"the seat refilled by another expert: {refilled}")
    run.log(f"experts: {len(samples.EXPERTS)} in the pool, {leaver} declared a conflict")


def _active_seats(staff: Client, app_id: str) -> list[dict]:
    seats = staff.get(f"/api/review/projects/{app_id}/assignments").json()["experts"]
    return [s for s in seats if s["status"] == "active"]


def scoring(run: Run) -> None:
    """Each expert scores their projects on the six criteria (blind view) and submits."""
    level = {a: 9 - i for i, a in enumerate(run.app_ids)}  # the first project scores best
    level[run.app_ids[3]] = 4  # the emergency project ranks low: only its category's minimum brings it in
    for expert in samples.EXPERTS:
        client = run.expert(run.expert_id(expert))
        for item in client.get("/api/review/expert/projects").json()["items"]:
            app_id = item["application_id"]
            view = client.get(f"/api/review/expert/projects/{app_id}").json()
            check("13800138000" not in str(view), "the expert's view carries no contact details")
            client.put(f"/api/review/reviews/{app_id}", json={
                "scores": dict.fromkeys(CRITERIA, level[app_id]), "comments": "材料翔实，成效明显。"})
            done = client.post(f"/api/review/reviews/{app_id}/submit").json()
            check(done["status"] == "submitted", f"review submitted: {done}")
    run.log("scoring: every assigned review submitted")


def ranking(run: Run) -> None:
    """Staff rank, propose three with the category minimum, and confirm with reserves."""
    staff = run.staff
    ranked = staff.get(f"/api/review/calls/{run.call_id}/ranking").json()
    order = [i["application_id"] for i in ranked["overall"]]
    check(order[0] == run.app_ids[0], f"the best-scored project first: {order}")
    proposal = staff.post(f"/api/review/calls/{run.call_id}/selection/proposal",
                          json={"ranking_id": ranked["ranking_id"]}).json()
    chosen = [(s["application_id"], s["basis"]) for s in proposal["selected"]]
    check(len(chosen) == 3 and (run.app_ids[3], "category_minimum") in chosen,
          f"three selected, the emergency project by its category minimum: {chosen}")
    confirmed = staff.post(f"/api/review/calls/{run.call_id}/selection/confirm",
                           json={"proposal_id": proposal["proposal_id"], "reserves": 2}).json()
    run.selection_id = confirmed["selection_id"]
    run.log(f"ranking: {len(order)} ranked, 3 selected, selection {run.selection_id}")


def notice(run: Run) -> None:
    """The selection becomes a notice draft; staff open the 公示, marked 演练, for minutes."""
    staff = run.staff

    def draft() -> dict | None:
        items = staff.get("/api/publish/staff/notices", params={"call_id": run.call_id}).json()["items"]
        return items[0] if items else None

    item = wait_for(draft, "the notice draft in publish")
    run.notice_id = item["id"]
    opened = staff.post(f"/api/publish/notices/{run.notice_id}/open", json={}).json()
    check(opened["state"] == "open" and opened["rehearsal"] is True, f"open: {opened}")
    check(opened["title"].startswith(REHEARSAL_MARK), f"the notice marked 演练: {opened['title']}")
    length = dt.datetime.fromisoformat(opened["ends_at"]) - dt.datetime.fromisoformat(opened["opens_at"])
    check(abs(length.total_seconds() - run.notice_minutes * 60) < 2, f"a {run.notice_minutes:g}-minute period")
    page = run.public.get(f"/api/publish/notices/{run.notice_id}/page.html")
    check("演练" in page.text and "13800138000" not in page.text, "the public page marked, no personal data")
    listed = run.public.get("/api/publish/notices").json()["items"]
    check(run.notice_id not in {n["id"] for n in listed}, "a rehearsal stays out of the public list")
    run.log(f"notice: {run.notice_id} open until {opened['ends_at']}")


def objection(run: Run) -> None:
    """A member of the public objects; staff uphold it and the first reserve takes the place."""
    public, staff = run.public, run.staff
    shown = public.get(f"/api/publish/notices/{run.notice_id}").json()
    run.removed_id = shown["entries"][-1]["application_id"]
    filed = public.post(f"/api/publish/notices/{run.notice_id}/objections", 201, json={
        "application_id": run.removed_id, "name": "李四", "contact": "13900001111", "relation": "项目所在社区居民",
        "reason": "该项目公布的受益人数与实际情况不符，社区内并未开展相关活动。"}).json()
    run.objection_code = filed["tracking_code"]
    items = staff.get(f"/api/publish/notices/{run.notice_id}/objections").json()["items"]
    mine = next(o for o in items if o["application_id"] == run.removed_id)
    staff_view = staff.get(f"/api/publish/staff/notices/{run.notice_id}").json()
    run.reserve_id = staff_view["reserves"][0]["application_id"]
    upheld = staff.post(f"/api/publish/notices/{run.notice_id}/objections/{mine['id']}/resolve", json={
        "outcome": "upheld", "note_zh": "经核查，异议属实，取消入选资格。"}).json()
    check(upheld["replacements"][0]["replacement_application_id"] == run.reserve_id, f"reserve in: {upheld}")
    status = public.get(f"/api/publish/objections/{run.objection_code}").json()
    check(status["status"] == "upheld", f"the objector sees the outcome: {status}")
    run.log(f"objection {run.objection_code}: upheld, reserve {run.reserve_id} listed")


def close(run: Run) -> None:
    """The minutes run out; staff close the notice."""
    staff = run.staff
    ends = dt.datetime.fromisoformat(staff.get(f"/api/publish/notices/{run.notice_id}").json()["ends_at"])
    wait = (ends - dt.datetime.now(dt.UTC)).total_seconds() + 1
    if wait > 0:
        run.log(f"close: waiting {wait:.0f} s for the notice period to end")
        time.sleep(wait)
    closed = staff.post(f"/api/publish/notices/{run.notice_id}/close").json()
    check(closed["state"] == "closed", f"closed: {closed}")
    run.log("close: the notice period is over")


def publish(run: Run) -> None:
    """Staff publish the final list; every export format, each marked 演练; nothing in the public feed."""
    staff, public = run.staff, run.public
    done = staff.post(f"/api/publish/notices/{run.notice_id}/publish").json()
    check(done["state"] == "published", f"published: {done}")
    final = public.get(f"/api/publish/notices/{run.notice_id}").json()
    ids = [e["application_id"] for e in final["entries"]]
    check(run.removed_id not in ids and run.reserve_id in ids and len(ids) == 3, f"the final list: {ids}")
    check(final["title"].startswith(REHEARSAL_MARK), "the final list marked 演练")
    for kind in ("export", "final-list/export"):
        for fmt in ("csv", "xlsx", "pdf"):
            path = f"/api/publish/notices/{run.notice_id}/{kind}.{fmt}"
            body = public.get(path).content
            run.outputs[f"{kind}.{fmt}"] = path
            if fmt == "csv":
                rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
                check(rows[0][0].startswith(REHEARSAL_MARK), f"{path}: the CSV marked 演练")
                check(any(samples.PROJECTS[0]["name"] in r for r in rows), f"{path}: the projects listed")
            elif fmt == "xlsx":
                from openpyxl import load_workbook

                sheet = load_workbook(io.BytesIO(body)).active
                text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
                check("演练" in text and samples.PROJECTS[0]["name"] in text, f"{path}: the sheet marked 演练")
            else:
                check(body.startswith(b"%PDF"), f"{path}: a PDF")
    page = public.get(f"/api/publish/notices/{run.notice_id}/final.html").text
    check("演练" in page and samples.PROJECTS[0]["name"] in page, "the final list page")
    feed = public.get("/api/publish/feed.atom").text
    check(run.notice_id not in feed, "a rehearsal never reaches the public feed")
    run.log(f"publish: final list of {len(ids)}, 6 exports, kept out of the feed")


def tracking(run: Run) -> None:
    """The project's own team reports; its unit confirms; staff accept it and publish it as a typical case."""
    staff = run.staff
    selected = run.app_ids[0]
    team = run.applicant(0)
    report = team.post("/api/publish/reports", 201, json={
        "application_id": selected, "kind": "typical_case", "title": "网络课堂一年间",
        "body": "项目新增覆盖50所乡村学校，开展教师线上培训20场。"}).json()
    run.report_id = report["id"]
    check(report["state"] == "awaiting_unit", f"the team's report waits for its unit: {report}")
    confirmed = run.unit("cac-beijing").post(f"/api/publish/reports/{run.report_id}/confirm", json={}).json()
    check(confirmed["state"] != "awaiting_unit", f"the unit confirmed: {confirmed}")
    accepted = staff.post(f"/api/publish/reports/{run.report_id}/accept", json={}).json()
    check(accepted["state"] == "accepted", f"accepted: {accepted}")
    case = staff.post(f"/api/publish/reports/{run.report_id}/publish-case", (200, 201), json={}).json()
    run.case_id = case["id"]
    mine = run.public.get("/api/publish/cases", params={"call_id": run.call_id}).json()["items"]
    check(run.case_id in {c["id"] for c in mine}, "the case in the rehearsal's case library")
    everyone = run.public.get("/api/publish/cases").json()["items"]
    check(run.case_id not in {c["id"] for c in everyone}, "a rehearsal's case stays out of the public library")
    run.log(f"tracking: report {run.report_id} accepted, typical case {run.case_id}")


def summary(run: Run) -> None:
    """The year-end summary in every format, marked 演练."""
    staff = run.staff
    data = staff.get(f"/api/publish/calls/{run.call_id}/summary").json()
    check(data["rehearsal"] is True and data["call_title"].startswith(REHEARSAL_MARK), "the summary marked 演练")
    check(data["cases_published"] >= 1, f"cases counted: {data.get('cases_published')}")
    created = data["totals"]["applications"]
    check(created == len(run.app_ids) + 1, f"every application counted, the withdrawn duplicate too: {created}")
    check(sum(row["count"] for row in data["by_state"]) == created, f"the states add up: {data['by_state']}")
    check(data["withdrawn"]["duplicates"] == 1, f"the settled duplicate counted: {data['withdrawn']}")
    xlsx = staff.get(f"/api/publish/calls/{run.call_id}/summary", params={"format": "xlsx"}).content
    pdf = staff.get(f"/api/publish/calls/{run.call_id}/summary", params={"format": "pdf"}).content
    check(xlsx[:2] == b"PK" and pdf.startswith(b"%PDF"), "the summary as XLSX and PDF")
    run.outputs["summary"] = f"/api/publish/calls/{run.call_id}/summary"
    run.log("summary: the year-end summary in JSON, XLSX and PDF")


PHASES: dict[str, Callable[[Run], None]] = {
    "call": load_call,
    "evidence": upload_evidence,
    "drafts": drafts,
    "submitted": submit,
    "forwarded": endorse_and_forward,
    "search": search,
    "duplicates": duplicates,
    "screening": screening,
    "experts": experts,
    "scoring": scoring,
    "ranking": ranking,
    "notice": notice,
    "objection": objection,
    "closed": close,
    "published": publish,
    "tracking": tracking,
    "summary": summary,
}


def new_call_id() -> str:
    return f"demo-{dt.datetime.now(SH):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"


def run_scenario(base: str, settings: Settings, *, until: str = "summary", call_id: str | None = None,
                 notice_minutes: float = 0.25, log: Callable[[str], None] = print) -> Run:
    """Run the phases in order up to and including ``until``; return the run's state."""
    if until not in PHASES:
        raise ValueError(f"unknown phase {until!r}; one of {', '.join(PHASES)}")
    run = Run(base=base, settings=settings, call_id=call_id or new_call_id(), notice_minutes=notice_minutes, log=log)
    for name, phase in PHASES.items():
        phase(run)
        if name == until:
            break
    return run
