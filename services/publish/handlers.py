"""Publish's use cases: each takes a unit of work, applies the domain rules, stores, emits events.

Every function that depends on the clock takes ``now`` (default: the current time), so tests drive
working-day arithmetic and scheduled publication with fixed moments; the HTTP API never accepts a
client-supplied ``now``.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from gongyi.db import UnitOfWork
from gongyi.errors import Conflict, Forbidden, InvalidInput, NotFound
from gongyi.http.auth import Principal
from gongyi.timestamps import rfc3339
from services.publish import site
from services.publish.domain.notice import (
    DEFAULT_NOTICE_WORKING_DAYS,
    REHEARSAL_MARK,
    Notice,
    NoticeState,
    due_for_publication,
    key_date_moment,
)
from services.publish.domain.objections import parse_objection
from services.publish.domain.refusals import issue, refusal, refuse
from services.publish.domain.reminders import ListedProject, report_schedule, reports_due
from services.publish.domain.reports import DEFAULT_REPORT_KINDS, ProgressReport, publish_as_case
from services.publish.domain.selection import EvidenceRef, SelectionEntry
from services.publish.domain.tracking_codes import normalise_tracking_code
from services.publish.domain.workdays import DEFAULT_TZ
from services.publish.domain.year_end import year_end_summary
from services.publish.events.published import REPORT_DUE, emit_all
from services.publish.storage.repository import (
    ApplicationRepository,
    CallRepository,
    CaseRepository,
    NoticeRepository,
    ReminderRepository,
    ReportRepository,
    ReviewDataRepository,
)

log = logging.getLogger(__name__)
NOTICE_NAMESPACE = uuid.UUID("6f1c8c1e-5d7e-4b55-9a51-6c0b7a1f2e01")


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


# -- what other services tell us


def record_call(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    """Keep each call's title, notice length, key dates and report kinds (newest version wins)."""
    if not uow.claim(event, "publish.record_call"):
        return False
    data = event["data"]
    CallRepository(uow.session).upsert(data["call_id"], int(data["version"]), data["document"])
    uow.commit()
    return True


def record_screening(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "publish.record_screening"):
        return False
    d = event["data"]
    ReviewDataRepository(uow.session).record_screening(
        d["application_id"], d["call_id"], d["decision"] == "pass", d["decided_at"]
    )
    uow.commit()
    return True


def record_review(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "publish.record_review"):
        return False
    d = event["data"]
    ReviewDataRepository(uow.session).record_review(
        d["review_id"], d["application_id"], float(d["total"]), d["submitted_at"]
    )
    uow.commit()
    return True


def record_application(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    """Keep an application's latest state (from any of intake's application.*.v1 events) and its
    category, province, unit and applicant type; personal data (contacts, applicant name, credit
    code: only kept to let the organisation's team report progress, never shown) is not stored.
    The forwarded event's form is the fullest source of the attributes."""
    verb = event["type"].split(".")[1]
    if not uow.claim(event, f"publish.record_{verb}"):  # the names forwarded/withdrawn always had
        return False
    d = event["data"]
    applicant = (d.get("form") or {}).get("applicant") or {}
    ApplicationRepository(uow.session).record(
        d["application_id"], d["call_id"], d["state"], d.get("sequence"),
        withdrawn_by=d.get("by_role"), as_duplicate=bool(d.get("as_duplicate")),
        applicant_org=applicant.get("credit_code"),
        category=(d.get("form") or {}).get("category") or d.get("category"),
        province=applicant.get("province") or d.get("province"),
        unit_code=d.get("unit_code"), applicant_type=applicant.get("type") or d.get("applicant_type"),
    )
    uow.commit()
    return True


def _labels(call: dict[str, Any] | None, key: str, code_key: str = "code", label_key: str = "label") -> dict:
    return {item[code_key]: item.get(label_key, item[code_key]) for item in (call or {}).get(key, [])}


def _entry(raw: dict[str, Any], call: dict[str, Any] | None) -> SelectionEntry:
    categories = _labels(call, "categories")
    units = _labels(call, "recommending_units", label_key="name")
    evidence = tuple(
        EvidenceRef(f"佐证材料 {i}", site.evidence_url(eid), "link", True)
        for i, eid in enumerate(raw.get("evidence_ids", ()), start=1)
    )
    return SelectionEntry(
        application_id=raw["application_id"],
        project_name=raw.get("project_name") or "",
        organisation=raw.get("organisation") or "",
        category=categories.get(raw.get("category") or "", raw.get("category") or ""),
        province=raw.get("province") or "",
        unit=units.get(raw.get("unit_code") or "", raw.get("unit_code") or ""),
        rank=int(raw["rank"]),
        score=raw.get("score"),
        summary=raw.get("summary") or "",
        evidence=evidence,
    )


def create_draft(uow: UnitOfWork, event: dict[str, Any]) -> str | None:
    """A confirmed selection becomes a notice draft (one per selection, id derived from it)."""
    if not uow.claim(event, "publish.create_draft"):
        return None
    data = event["data"]
    repo = NoticeRepository(uow.session)
    if repo.exists_for_selection(data["selection_id"]):
        uow.commit()
        return None
    call = CallRepository(uow.session).get(data["call_id"])
    notice_id = str(uuid.uuid5(NOTICE_NAMESPACE, data["selection_id"]))
    notice = Notice.draft(
        notice_id,
        data["call_id"],
        data.get("call_title") or (call or {}).get("title") or data["call_id"],
        [_entry(e, call) for e in data["entries"]],
        [_entry(e, call) for e in data.get("reserves", ())],
        tz=((call or {}).get("window") or {}).get("timezone") or DEFAULT_TZ,
        rehearsal=call_is_rehearsal(call),
    )
    repo.add(notice, data["selection_id"], data)
    uow.commit()
    return notice_id


# -- notice lifecycle (staff)


def _load(uow: UnitOfWork, notice_id: str) -> tuple[Notice, int, NoticeRepository]:
    repo = NoticeRepository(uow.session)
    notice, version = repo.get(notice_id, for_update=True)
    return notice, version, repo


def _store(uow: UnitOfWork, repo: NoticeRepository, notice: Notice, version: int, events: list) -> Notice:
    repo.save(notice, version)
    emit_all(uow, events, notice, repo.snapshot(notice.id))
    uow.commit()
    return notice


def get_notice(uow: UnitOfWork, notice_id: str, *, public: bool) -> Notice:
    notice, _ = NoticeRepository(uow.session).get(notice_id)
    if public and notice.state is NoticeState.DRAFT:
        refuse("notice_not_found", {"notice_id": notice_id})
    return notice


def published_notice(uow: UnitOfWork, notice_id: str) -> Notice:
    notice = get_notice(uow, notice_id, public=True)
    if notice.state is not NoticeState.PUBLISHED:
        refuse("list_not_published", {"notice_id": notice_id})
    return notice


def call_working_days(uow: UnitOfWork, call_id: str) -> int:
    call = CallRepository(uow.session).get(call_id) or {}
    return int((call.get("notice") or {}).get("working_days") or DEFAULT_NOTICE_WORKING_DAYS)


def call_is_rehearsal(call: dict[str, Any] | None) -> bool:
    return bool((call or {}).get("rehearsal"))


def rehearsal_minutes(uow: UnitOfWork, call_id: str) -> float | None:
    """A rehearsal's compressed notice period, when its call sets one."""
    call = CallRepository(uow.session).get(call_id) or {}
    minutes = (call.get("notice") or {}).get("minutes")
    return float(minutes) if call_is_rehearsal(call) and minutes else None


def open_notice(
    uow: UnitOfWork, notice_id: str, working_days: int | None = None, now: dt.datetime | None = None
) -> Notice:
    notice, version, repo = _load(uow, notice_id)
    days = working_days or call_working_days(uow, notice.call_id)
    events = notice.open(_now(now), days, minutes=None if working_days else rehearsal_minutes(uow, notice.call_id))
    return _store(uow, repo, notice, version, events)


def file_objection(
    uow: UnitOfWork, notice_id: str, application_id: str, payload: dict[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    data = parse_objection(payload)
    notice, version, repo = _load(uow, notice_id)
    if notice.state is NoticeState.DRAFT:
        refuse("notice_not_found", {"notice_id": notice_id})
    objection, events = notice.file_objection(application_id, data, _now(now))
    repo.add_code(objection.tracking_code, notice.id, objection.id)
    merged = bool(events and events[0]["data"].get("merged"))
    _store(uow, repo, notice, version, events)
    return {"tracking_code": objection.tracking_code, "status": objection.status.value, "merged": merged,
            "notice_ends_at": notice.ends_at}


def objection_status(uow: UnitOfWork, code: str) -> dict[str, Any]:
    found = NoticeRepository(uow.session).by_code(normalise_tracking_code(code))
    if found is None:
        refuse("objection_not_found")
    notice, _ = NoticeRepository(uow.session).get(found[0])
    return notice.objection(found[1]).status_for_objector() | {"notice_id": notice.id}


def resolve_objection(
    uow: UnitOfWork,
    notice_id: str,
    objection_id: str,
    *,
    upheld: bool,
    note_zh: str,
    by: str,
    replace: bool = True,
    no_replacement_reason_zh: str = "",
    now: dt.datetime | None = None,
) -> Notice:
    notice, version, repo = _load(uow, notice_id)
    events = notice.resolve_objection(
        objection_id, upheld=upheld, note_zh=note_zh, resolved_by=by, now=_now(now), replace=replace,
        no_replacement_reason_zh=no_replacement_reason_zh,
    )
    return _store(uow, repo, notice, version, events)


def close_notice(uow: UnitOfWork, notice_id: str, now: dt.datetime | None = None) -> Notice:
    notice, version, repo = _load(uow, notice_id)
    return _store(uow, repo, notice, version, notice.close(_now(now)))


def publish_now(uow: UnitOfWork, notice_id: str, now: dt.datetime | None = None) -> Notice:
    notice, version, repo = _load(uow, notice_id)
    return _store(uow, repo, notice, version, notice.publish(_now(now)))


def key_dates(uow: UnitOfWork, call_id: str) -> list[dict[str, str]]:
    return list((CallRepository(uow.session).get(call_id) or {}).get("key_dates", []))


def resolve_key_date(dates: list[dict[str, str]], wanted: str, now: dt.datetime, tz: str) -> dt.datetime:
    """The next moment (09:00 local) of one of the call's key dates, named by date or label."""
    for item in dates:
        if wanted in (item["date"], item.get("label")):
            if len(item["date"]) == 10:
                year, month_day = int(item["date"][:4]), item["date"][5:]
                return key_date_moment(year, month_day, tz=tz)
            local_year = now.astimezone(ZoneInfo(tz)).year
            moment = key_date_moment(local_year, item["date"], tz=tz)
            return moment if moment > now else key_date_moment(local_year + 1, item["date"], tz=tz)
    raise InvalidInput([issue("key_date_unknown", "key_date", {"key_dates": [d["date"] for d in dates]})])


def schedule_publication(
    uow: UnitOfWork,
    notice_id: str,
    *,
    publish_at: dt.datetime | None = None,
    key_date: str | None = None,
    now: dt.datetime | None = None,
) -> Notice:
    """Publish at an explicit moment (e.g. a conference) or on one of the call's key dates."""
    moment = _now(now)
    notice, version, repo = _load(uow, notice_id)
    if (publish_at is None) == (key_date is None):
        raise InvalidInput([issue("schedule_target_required", "publish_at")])
    if key_date is not None:
        publish_at = resolve_key_date(key_dates(uow, notice.call_id), key_date, moment, notice.tz)
    assert publish_at is not None
    return _store(uow, repo, notice, version, notice.schedule(publish_at, moment))


def unschedule(uow: UnitOfWork, notice_id: str, now: dt.datetime | None = None) -> Notice:
    notice, version, repo = _load(uow, notice_id)
    return _store(uow, repo, notice, version, notice.unschedule(_now(now)))


def publish_due(uow: UnitOfWork, now: dt.datetime | None = None) -> list[str]:
    """What the timer runs: publish every scheduled list whose time has come, earliest first."""
    moment = _now(now)
    repo = NoticeRepository(uow.session)
    candidates = [repo.get(i)[0] for i in repo.scheduled_until(moment)]
    published = []
    for notice in due_for_publication(candidates, moment):
        try:
            publish_now(uow, notice.id, moment)
            published.append(notice.id)
        except Conflict as exc:  # changed meanwhile (unscheduled, published by staff): skip it
            uow.rollback()
            log.info("scheduled publication of %s skipped: %s", notice.id, exc.code)
    return published


def _listed_projects(uow: UnitOfWork, call_id: str) -> list[ListedProject]:
    """Every project on the call's published final list (rehearsal lists included)."""
    repo = NoticeRepository(uow.session)
    out = []
    for notice in repo.list(call_id=call_id, states=("published",), limit=1000):
        if notice.published_at is None:
            continue
        snapshot = repo.snapshot(notice.id)
        raw = {e["application_id"]: e for e in (*snapshot["entries"], *snapshot.get("reserves", ()))}
        for app_id in notice.listed_ids:
            entry = raw.get(app_id, {})
            out.append(ListedProject(app_id, notice.id, notice.published_at, entry.get("project_name", ""),
                                     entry.get("unit_code")))
    return out


def send_report_reminders(uow: UnitOfWork, now: dt.datetime | None = None) -> int:
    """What the timer runs: ``report.due.v1`` for each listed project that owes a report.

    Each reminder is claimed in the transaction that writes its outbox row: replicas running the
    same timer send it once.
    """
    moment = _now(now)
    reminders = ReminderRepository(uow.session)
    sent = 0
    for call_id, document in CallRepository(uow.session).all_documents():
        schedule = report_schedule(document)
        if schedule is None or not schedule.open_deadlines(moment):
            continue
        listed = _listed_projects(uow, call_id)
        filed = ReportRepository(uow.session).filed_times(call_id)
        for r in reports_due(schedule, moment, listed, filed, reminders.reminded(call_id)):
            if reminders.claim(r.project.application_id, r.due_at, call_id, moment):
                uow.emit(REPORT_DUE, f"notice/{r.project.notice_id}", {
                    "call_id": call_id, "application_id": r.project.application_id,
                    "notice_id": r.project.notice_id, "project_name": r.project.project_name,
                    "unit_code": r.project.unit_code, "due_at": rfc3339(r.due_at), "overdue": r.overdue})
                sent += 1
    uow.commit()
    return sent


# -- reports and cases


def _selected_projects(uow: UnitOfWork, application_id: str) -> tuple[Notice, dict[str, Any]]:
    """The published notice whose final list holds the project, and its snapshot entry."""
    repo = NoticeRepository(uow.session)
    for notice in repo.list(states=("published",), limit=1000):
        if application_id in notice.listed_ids:
            snapshot = repo.snapshot(notice.id)
            raw = {e["application_id"]: e for e in (*snapshot["entries"], *snapshot.get("reserves", ()))}
            return notice, raw[application_id]
    refuse("project_not_selected", {"application_id": application_id})


def report_kinds(uow: UnitOfWork, call_id: str) -> dict[str, str]:
    call = CallRepository(uow.session).get(call_id) or {}
    kinds = (call.get("reporting") or {}).get("kinds")
    return {k["code"]: k["label"] for k in kinds} if kinds else dict(DEFAULT_REPORT_KINDS)


def _may_report(principal: Principal, unit_code: str | None, applicant_org: str | None = None) -> None:
    """Staff; the project's recommending unit; the project's own team (an applicant account of the
    organisation that applied, by its credit code)."""
    if principal.role == "staff" or (principal.role == "unit" and principal.unit and principal.unit == unit_code):
        return
    if principal.role == "applicant" and principal.org and applicant_org and principal.org.upper() == applicant_org:
        return
    # 404: a unit or an organisation does not learn which other projects exist
    refuse("project_not_found")


def submit_report(
    uow: UnitOfWork, principal: Principal, body: dict[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """The team's report waits for its unit's confirmation; the unit's and staff's go to review."""
    notice, raw = _selected_projects(uow, body["application_id"])
    applicant_org = ApplicationRepository(uow.session).applicant_org(body["application_id"])
    _may_report(principal, raw.get("unit_code"), applicant_org)
    evidence = [EvidenceRef(f"佐证材料 {i}", site.evidence_url(eid), "link", True)
                for i, eid in enumerate(body.get("evidence_ids", []), start=1)]
    report, events = ProgressReport.submit(
        str(uuid.uuid4()), body["application_id"], body["kind"], body["title"], body["body"], principal.sub,
        _now(now), selected_ids=set(notice.listed_ids), kinds=report_kinds(uow, notice.call_id), evidence=evidence,
        role=principal.role,
    )
    ReportRepository(uow.session).add(report, notice.call_id, notice.id, raw.get("unit_code"), applicant_org)
    emit_all(uow, events)
    uow.commit()
    return report_view(report, notice.call_id, raw.get("unit_code"))


def report_view(report: ProgressReport, call_id: str, unit_code: str | None) -> dict[str, Any]:
    return {
        "id": report.id, "call_id": call_id, "application_id": report.application_id, "unit_code": unit_code,
        "kind": report.kind, "title": report.title, "body": report.body, "state": report.state.value,
        "revision": report.revision, "review_note": report.review_note, "submitted_at": report.submitted_at,
        "evidence": [{"title": e.title, "url": e.url} for e in report.evidence],
        "filed_by_role": report.filed_by_role, "confirmed_at": report.confirmed_at,
    }


def _visible_report(uow: UnitOfWork, principal: Principal, report_id: str) -> tuple[ProgressReport, dict[str, Any]]:
    report, meta = ReportRepository(uow.session).get(report_id)
    try:
        _may_report(principal, meta["unit_code"], meta["applicant_org"])
    except NotFound:
        raise refusal("report_not_found", report_id=report_id) from None
    return report, meta


def get_report(uow: UnitOfWork, principal: Principal, report_id: str) -> dict[str, Any]:
    report, meta = _visible_report(uow, principal, report_id)
    return report_view(report, meta["call_id"], meta["unit_code"])


def review_report(
    uow: UnitOfWork, principal: Principal, report_id: str, *, accept: bool, note: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Staff accept or return a report under review; the project's unit returns its team's report
    before confirming it."""
    repo = ReportRepository(uow.session)
    report, meta = _visible_report(uow, principal, report_id)
    events = (report.accept(principal.sub, _now(now), note) if accept
              else report.return_for_revision(principal.sub, _now(now), note, role=principal.role))
    repo.save(report, meta["version"])
    emit_all(uow, events)
    uow.commit()
    return report_view(report, meta["call_id"], meta["unit_code"])


def confirm_report(
    uow: UnitOfWork, principal: Principal, report_id: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The project's recommending unit confirms a report its team filed; staff review it next."""
    repo = ReportRepository(uow.session)
    report, meta = _visible_report(uow, principal, report_id)
    if principal.role != "unit":  # staff see every report but confirm none: the unit vouches for its project
        raise Forbidden("forbidden_role", "仅推荐单位可确认项目团队报送的信息",
                        "Only the project's recommending unit confirms its team's reports")
    events = report.confirm(principal.sub, _now(now))
    repo.save(report, meta["version"])
    emit_all(uow, events)
    uow.commit()
    return report_view(report, meta["call_id"], meta["unit_code"])


def resubmit_report(
    uow: UnitOfWork, principal: Principal, report_id: str, title: str, body: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    repo = ReportRepository(uow.session)
    report, meta = _visible_report(uow, principal, report_id)
    events = report.resubmit(title, body, _now(now), kinds=report_kinds(uow, meta["call_id"]), role=principal.role)
    repo.save(report, meta["version"])
    emit_all(uow, events)
    uow.commit()
    return report_view(report, meta["call_id"], meta["unit_code"])


def publish_case(
    uow: UnitOfWork, report_id: str, *, title: str | None, summary: str | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    report, meta = ReportRepository(uow.session).get(report_id)
    cases = CaseRepository(uow.session)
    if cases.exists_for_report(report_id):
        refuse("case_already_published", {"report_id": report_id})
    notice, _ = NoticeRepository(uow.session).get(meta["notice_id"])
    project_name = next(e.project_name for e in (*notice.selected, *notice.reserves)
                        if e.application_id == report.application_id)
    case, events = publish_as_case(report, str(uuid.uuid4()), project_name, _now(now), title=title, summary=summary)
    cases.add(case, meta["call_id"])
    emit_all(uow, events)
    uow.commit()
    return case.public_dict()


# -- year-end summary


def year_end(uow: UnitOfWork, call_id: str) -> dict[str, Any]:
    """Counts from what publish holds: every application intake created, in its latest state (from
    intake's application events), screening decisions and review totals (from review's events),
    the confirmed selections' snapshots (category/province/unit of listed and reserve projects),
    published final lists, objections, reports and cases."""
    call = CallRepository(uow.session).get(call_id)
    if call is None:
        refuse("call_not_found", {"call_id": call_id})
    review_data = ReviewDataRepository(uow.session)
    screening = review_data.screening_for_call(call_id)
    scores = review_data.mean_scores_for_call(call_id)
    notices = NoticeRepository(uow.session).list(call_id=call_id, limit=1000)
    known: dict[str, dict[str, Any]] = {}
    selected: list[SelectionEntry] = []
    objections = {"total": 0, "upheld": 0, "rejected": 0, "open": 0}
    publish_scores = False
    latest: Notice | None = None
    for notice in notices:
        for e in (*notice.selected, *notice.reserves):
            known.setdefault(e.application_id, {"application_id": e.application_id, "category": e.category,
                                                "province": e.province, "unit": e.unit,
                                                "applicant_type": e.applicant_type})
        for o in notice.objections:
            objections["total"] += 1
            objections[o.status.value if o.resolved else "open"] += 1
        if notice.state is NoticeState.PUBLISHED and (latest is None or notice.published_at > latest.published_at):
            latest = notice  # a re-notice replaces the earlier list: the latest publication is the list
    if latest is not None:
        selected, publish_scores = latest.final_list(), latest.publish_scores
    categories, units = _labels(call, "categories"), _labels(call, "recommending_units", label_key="name")
    types = _labels(call, "applicant_types")
    for app in ApplicationRepository(uow.session).for_call(call_id):  # intake's events: the fullest source
        known[app["application_id"]] = {
            "application_id": app["application_id"],
            "state": app["state"],
            "withdrawn_by": app["withdrawn_by"],
            "as_duplicate": app["as_duplicate"],
            "category": categories.get(app["category"] or "", app["category"]),
            "province": app["province"],
            "unit": units.get(app["unit_code"] or "", app["unit_code"]),
            "applicant_type": types.get(app["applicant_type"] or "", app["applicant_type"]),
        }
    for app_id in (*screening, *scores):
        known.setdefault(app_id, {"application_id": app_id})
    summary = year_end_summary(list(known.values()), screening, scores, selected, publish_scores=publish_scores)
    summary["call_id"] = call_id
    summary["call_title"] = (REHEARSAL_MARK if call_is_rehearsal(call) else "") + (call.get("title") or call_id)
    summary["rehearsal"] = call_is_rehearsal(call)
    summary["objections"] = objections
    summary["reports"] = ReportRepository(uow.session).count_by_kind(call_id)
    summary["cases_published"] = CaseRepository(uow.session).count(call_id)
    return summary
