"""Initial screening (初审筛选): the automatic report per application and staff decisions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa

from gongyi.db import UnitOfWork
from gongyi.errors import InvalidInput, Issue, NotFound
from gongyi.http.auth import Principal
from services.review.domain.screening import Finding, ScreeningReport, decide, screen
from services.review.events import published
from services.review.handlers.common import application_view, audit, current_call, now, plain, project_or_404
from services.review.storage.repository import ProjectRepository
from services.review.storage.tables import evidence_notes, screening_decisions, screening_reports

PASSED, FAILED = "screening_passed", "screening_failed"


def evidence_ids(form: dict[str, Any]) -> list[str]:
    ids = list(form.get("image_evidence_ids") or []) + list(form.get("video_evidence_ids") or [])
    ids += [r["screenshot_evidence_id"] for r in form.get("media_reports") or []
            if isinstance(r, dict) and r.get("screenshot_evidence_id")]
    return list(dict.fromkeys(ids))


def _evidence_warnings(uow: UnitOfWork, form: dict[str, Any]) -> list[dict[str, Any]]:
    ids = evidence_ids(form)
    if not ids:
        return []
    rows = uow.session.execute(sa.select(evidence_notes).where(evidence_notes.c.evidence_id.in_(ids))).all()
    out = []
    for r in rows:
        for w in r.warnings or []:
            out.append({"evidence_id": r.evidence_id, **w})
    return out


def duplicate_suspicions(uow: UnitOfWork, application_id: str) -> list[dict[str, Any]]:
    """Open suspicions from duplicate detection; a pair settled by staff no longer warns."""
    from services.review.handlers.duplicates import suspicions_for

    return [s for s in suspicions_for(uow.session, application_id) if s["status"] == "open"]


def report(uow: UnitOfWork, application_id: str, refresh: bool = False) -> dict[str, Any]:
    """The stored report, recomputed when the project or the call's rules changed since (or when asked)."""
    project = project_or_404(uow.session, application_id)
    row = uow.session.execute(
        sa.select(screening_reports).where(screening_reports.c.application_id == application_id)).first()
    _, rules = current_call(uow.session, project["call_id"])
    stale = row is None or row.project_version != project["version"] or row.call_version != rules.version
    if stale or refresh:
        result = screen(application_view(project), rules.screening, now(),
                        evidence_warnings=_evidence_warnings(uow, project["form"] or {}),
                        duplicate_suspicions=duplicate_suspicions(uow, application_id))
        values = dict(call_id=project["call_id"], call_version=rules.version, project_version=project["version"],
                      outcome=result.outcome, findings=plain([asdict(f) for f in result.findings]),
                      screened_at=result.screened_at)
        if row is None:
            uow.session.execute(screening_reports.insert().values(application_id=application_id, **values))
        else:
            uow.session.execute(screening_reports.update()
                                .where(screening_reports.c.application_id == application_id).values(**values))
        uow.commit()
        row = uow.session.execute(
            sa.select(screening_reports).where(screening_reports.c.application_id == application_id)).first()
    decisions = uow.session.execute(
        sa.select(screening_decisions).where(screening_decisions.c.application_id == application_id)
        .order_by(screening_decisions.c.id)).all()
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


def decide_many(uow: UnitOfWork, principal: Principal, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All or nothing: every decision is checked first, then all are stored with one event each."""
    issues: list[Issue] = []
    prepared = []
    for i, item in enumerate(items):
        app_id = item["application_id"]
        try:
            rep = report(uow, app_id)
        except NotFound:
            issues.append(Issue("project_not_found", "项目不存在", "No such project", f"decisions/{i}/application_id",
                                {"application_id": app_id}))
            continue
        if rep["status"] == "withdrawn":
            issues.append(Issue("project_withdrawn", "项目已撤回，不能筛选", "The project was withdrawn",
                                f"decisions/{i}", {"application_id": app_id}))
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
    repo = ProjectRepository(uow.session)
    out = []
    for rep, d in prepared:
        uow.session.execute(screening_decisions.insert().values(
            application_id=d.application_id, call_id=rep["call_id"], decision=d.decision, reason=d.reason,
            report_outcome=d.report_outcome, overrides=list(d.overrides), decided_by=d.decided_by,
            decided_at=d.decided_at))
        status = PASSED if d.decision == "pass" else FAILED
        repo.set_status(d.application_id, status)
        uow.emit(published.SCREENING_DECIDED, f"application/{d.application_id}", published.screening_decided(
            d.application_id, rep["call_id"], d.decision, d.reason, d.decided_by, d.decided_at))
        audit(uow, principal, "screening.decide", "application", d.application_id,
              before={"status": rep["status"]}, after={"status": status, "decision": d.decision,
                                                       "overrides": list(d.overrides)}, reason=d.reason)
        out.append({"application_id": d.application_id, "decision": d.decision, "status": status,
                    "overrides": list(d.overrides), "decided_at": d.decided_at})
    uow.commit()
    return out


def record_evidence(uow: UnitOfWork, event: dict[str, Any], status: str) -> bool:
    """Keep media's verdict on a piece of evidence for the screening report."""
    if not uow.claim(event, f"review.record_evidence_{status}"):
        return False
    data = event["data"]
    if status == "stored":
        warnings = data.get("warnings") or []
    else:
        warnings = [{"code": data.get("code") or data.get("reason") or status,
                     "message_zh": data.get("message_zh", ""), "message_en": data.get("message_en", "")}]
    values = dict(kind=data.get("kind"), status=status, warnings=plain(warnings), updated_at=now())
    exists = uow.session.execute(
        sa.select(evidence_notes.c.evidence_id).where(evidence_notes.c.evidence_id == data["evidence_id"])).first()
    if exists:
        uow.session.execute(evidence_notes.update().where(evidence_notes.c.evidence_id == data["evidence_id"])
                            .values(**values))
    else:
        uow.session.execute(evidence_notes.insert().values(evidence_id=data["evidence_id"], **values))
    uow.commit()
    return True
