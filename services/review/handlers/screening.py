"""Initial screening (初审筛选): the automatic report per application and staff decisions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from gongyi.errors import InvalidInput, Issue, NotFound
from gongyi.http.auth import Principal
from services.review.domain.refusals import issue
from services.review.domain.screening import Finding, ScreeningReport, decide, screen
from services.review.events import published
from services.review.handlers.common import application_view, audit, current_call, now, plain, project_or_404
from services.review.handlers.duplicates import suspicions_for
from services.review.storage.unit_of_work import ReviewUnitOfWork

PASSED, FAILED = "screening_passed", "screening_failed"


def evidence_ids(form: dict[str, Any]) -> list[str]:
    ids = list(form.get("image_evidence_ids") or []) + list(form.get("video_evidence_ids") or [])
    ids += [r["screenshot_evidence_id"] for r in form.get("media_reports") or []
            if isinstance(r, dict) and r.get("screenshot_evidence_id")]
    return list(dict.fromkeys(ids))


def _evidence_warnings(uow: ReviewUnitOfWork, form: dict[str, Any]) -> list[dict[str, Any]]:
    ids = evidence_ids(form)
    if not ids:
        return []
    out = []
    for r in uow.screening.evidence_notes(ids):
        for w in r.warnings or []:
            out.append({"evidence_id": r.evidence_id, **w})
    return out


def duplicate_suspicions(uow: ReviewUnitOfWork, application_id: str) -> list[dict[str, Any]]:
    """Open suspicions from duplicate detection; a pair settled by staff no longer warns."""
    return [s for s in suspicions_for(uow, application_id) if s["status"] == "open"]


def report(uow: ReviewUnitOfWork, application_id: str, refresh: bool = False) -> dict[str, Any]:
    """The stored report, recomputed when the project or the call's rules changed since (or when asked)."""
    project = project_or_404(uow, application_id)
    row = uow.screening.report(application_id)
    _, rules = current_call(uow, project["call_id"])
    stale = row is None or row.project_version != project["version"] or row.call_version != rules.version
    if stale or refresh:
        result = screen(application_view(project), rules.screening, now(),
                        evidence_warnings=_evidence_warnings(uow, project["form"] or {}),
                        duplicate_suspicions=duplicate_suspicions(uow, application_id))
        values = dict(call_id=project["call_id"], call_version=rules.version, project_version=project["version"],
                      outcome=result.outcome, findings=plain([asdict(f) for f in result.findings]),
                      screened_at=result.screened_at)
        uow.screening.put_report(application_id, row is not None, **values)
        uow.commit()
        row = uow.screening.report(application_id)
    decisions = uow.screening.decisions(application_id)
    return {
        "application_id": application_id,
        "call_id": row.call_id,
        "call_version": row.call_version,
        "outcome": row.outcome,
        "findings": row.findings,
        "screened_at": row.screened_at,
        "decisions": [_decision_out(d) for d in decisions],
        "status": project["status"],
    }


def _decision_out(d: Any) -> dict[str, Any]:
    return {"decision": d.decision, "reason": d.reason, "overrides": d.overrides, "report_outcome": d.report_outcome,
            "decided_by": d.decided_by, "decided_at": d.decided_at}


def decide_many(uow: ReviewUnitOfWork, principal: Principal, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All or nothing: every decision is checked first, then all are stored with one event each."""
    issues: list[Issue] = []
    prepared = []
    for i, item in enumerate(items):
        app_id = item["application_id"]
        try:
            rep = report(uow, app_id)
        except NotFound:
            issues.append(issue("project_not_found/decision", f"decisions/{i}/application_id",
                                {"application_id": app_id}))
            continue
        if rep["status"] == "withdrawn":
            issues.append(issue("project_withdrawn", f"decisions/{i}", {"application_id": app_id}))
            continue
        domain_report = ScreeningReport(tuple(Finding(f["rule"], f["outcome"], f["reason_zh"], f["reason_en"],
                                                      f["details"]) for f in rep["findings"]), rep["screened_at"])
        try:
            prepared.append((rep, decide(app_id, domain_report, item["decision"], principal.sub, now(),
                                         item.get("reason") or "")))
        except InvalidInput as exc:
            issues += [Issue(x.code, x.message_zh, x.message_en, f"decisions/{i}/{x.path}",
                             {**x.details, "application_id": app_id}) for x in exc.issues]
    if issues:
        raise InvalidInput(issues)
    out = []
    for rep, d in prepared:
        uow.screening.add_decision(
            application_id=d.application_id, call_id=rep["call_id"], decision=d.decision, reason=d.reason,
            report_outcome=d.report_outcome, overrides=list(d.overrides), decided_by=d.decided_by,
            decided_at=d.decided_at)
        status = PASSED if d.decision == "pass" else FAILED
        uow.projects.set_status(d.application_id, status)
        uow.emit(published.SCREENING_DECIDED, f"application/{d.application_id}", published.screening_decided(
            d.application_id, rep["call_id"], d.decision, d.reason, d.decided_by, d.decided_at))
        audit(uow, principal, "screening.decide", "application", d.application_id,
              before={"status": rep["status"]}, after={"status": status, "decision": d.decision,
                                                       "overrides": list(d.overrides)}, reason=d.reason)
        out.append({"application_id": d.application_id, "decision": d.decision, "status": status,
                    "overrides": list(d.overrides), "decided_at": d.decided_at})
    uow.commit()
    return out


def record_evidence(uow: ReviewUnitOfWork, event: dict[str, Any], status: str) -> bool:
    """Keep media's verdict on a piece of evidence for the screening report."""
    if not uow.claim(event, f"review.record_evidence_{status}"):
        return False
    data = event["data"]
    if status == "stored":
        warnings = data.get("warnings") or []
    else:
        warnings = [{"code": data.get("code") or data.get("reason") or status,
                     "message_zh": data.get("message_zh", ""), "message_en": data.get("message_en", "")}]
    uow.screening.put_evidence_note(data["evidence_id"], kind=data.get("kind"), status=status,
                                    warnings=plain(warnings), updated_at=now())
    uow.commit()
    return True
