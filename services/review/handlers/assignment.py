"""Assigning experts (专家分配): automatic, manual, declines and conflicts declared on opening."""

from __future__ import annotations

from typing import Any

from gongyi.errors import Forbidden, NotFound
from gongyi.http.auth import Principal
from services.review.domain.assignment import (
    AssignmentPolicy,
    AssignmentResult,
    BalanceReport,
    assign,
    replace_declined,
)
from services.review.domain.blind import blind_view
from services.review.domain.conflicts import ProjectProfile, conflicts_of, declare_on_open, ensure_no_conflict
from services.review.domain.refusals import refusal, refuse
from services.review.events import published
from services.review.handlers import expert_pool
from services.review.handlers.common import (
    application_view,
    audit,
    current_call,
    expert_id_of,
    now,
    plain,
    project_or_404,
)
from services.review.handlers.screening import PASSED
from services.review.storage.unit_of_work import ReviewUnitOfWork

INACTIVE = ("removed", "declined", "conflicted")


def profile(project: dict[str, Any]) -> ProjectProfile:
    return ProjectProfile.from_application(project["application_id"], application_view(project))


def _call_projects(uow: ReviewUnitOfWork, call_id: str) -> list[dict[str, Any]]:
    return uow.projects.in_call_with_status(call_id, PASSED)


def _seats(uow: ReviewUnitOfWork, call_id: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    rows = uow.assignments.of_call(call_id)
    active: dict[str, list[str]] = {}
    blocked = []
    for r in rows:
        if r.status == "active":
            active.setdefault(r.application_id, []).append(r.expert_id)
        else:
            blocked.append((r.application_id, r.expert_id))
    return active, blocked


def _set_seat(uow: ReviewUnitOfWork, principal: Principal, call_id: str, app_id: str, expert_id: str, status: str,
              reason: str) -> None:
    """Upsert one seat, emit its event and audit it."""
    was = uow.assignments.status(app_id, expert_id)
    uow.assignments.put(app_id, expert_id, was is not None, call_id=call_id, status=status, reason=reason,
                        updated_by=principal.sub, updated_at=now())
    event = published.ASSIGNMENT_MADE if status == "active" else published.ASSIGNMENT_REMOVED
    uow.emit(event, f"application/{app_id}", published.assignment(app_id, call_id, expert_id, reason))
    audit(uow, principal, f"assignment.{status}", "assignment", f"{app_id}/{expert_id}",
          before={"status": was} if was is not None else None, after={"status": status}, reason=reason)


def _issues(problems: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {p: [i.to_dict() for i in issues] for p, issues in problems.items()}


def auto_assign(uow: ReviewUnitOfWork, principal: Principal, call_id: str, k: int | None = None) -> dict[str, Any]:
    _, rules = current_call(uow, call_id)
    k = k or rules.experts_per_project
    rows = _call_projects(uow, call_id)
    active, blocked = _seats(uow, call_id)
    policy = AssignmentPolicy(conflicts=rules.conflicts, declarations=expert_pool.declarations(uow))
    pool = expert_pool.pool(uow, call_id)
    mine = {r["application_id"] for r in rows}
    result = assign([profile(r) for r in rows], pool, k, policy,
                    existing={p: es for p, es in active.items() if p in mine}, declined=blocked)
    made = removed = 0
    for app_id in sorted(mine):
        before, after = active.get(app_id, []), result.assignments.get(app_id, ())
        for e in before:
            if e not in after:
                _set_seat(uow, principal, call_id, app_id, e, "conflicted", "conflict_of_interest")
                removed += 1
        for e in after:
            if e not in before:
                _set_seat(uow, principal, call_id, app_id, e, "active", "auto")
                made += 1
    uow.commit()
    return {
        "call_id": call_id,
        "k": k,
        "made": made,
        "removed": removed,
        "assignments": {p: list(es) for p, es in result.assignments.items() if p in mine},
        "loads": dict(result.loads),
        "problems": _issues(dict(result.problems)),
        "balance": plain(result.balance.__dict__),
        "complete": all(len(result.assignments.get(p, ())) >= k for p in mine),
    }


def add(uow: ReviewUnitOfWork, principal: Principal, app_id: str, expert_id: str, reason: str) -> dict[str, Any]:
    project = project_or_404(uow, app_id)
    _, rules = current_call(uow, project["call_id"])
    expert = expert_pool.to_domain(expert_pool.get_profile(uow, expert_id))
    ensure_no_conflict(expert, profile(project), rules.conflicts, expert_pool.declarations(uow))
    active, _ = _seats(uow, project["call_id"])
    if expert_id in active.get(app_id, []):
        refuse("already_assigned", {"application_id": app_id, "expert_id": expert_id})
    _set_seat(uow, principal, project["call_id"], app_id, expert_id, "active", reason or "manual")
    uow.commit()
    return seats_of(uow, app_id)


def remove(uow: ReviewUnitOfWork, principal: Principal, app_id: str, expert_id: str, reason: str) -> dict[str, Any]:
    project = project_or_404(uow, app_id)
    active, _ = _seats(uow, project["call_id"])
    if expert_id not in active.get(app_id, []):
        refuse("assignment_not_found", {"application_id": app_id, "expert_id": expert_id})
    _set_seat(uow, principal, project["call_id"], app_id, expert_id, "removed", reason)
    uow.commit()
    return seats_of(uow, app_id)


def seats_of(uow: ReviewUnitOfWork, app_id: str) -> dict[str, Any]:
    rows = uow.assignments.of_application(app_id)
    return {"application_id": app_id,
            "experts": [{"expert_id": r.expert_id, "status": r.status, "reason": r.reason} for r in rows]}


def project_seats(uow: ReviewUnitOfWork, app_id: str) -> dict[str, Any]:
    """A project's seats; 404 for a project review does not know."""
    project_or_404(uow, app_id)
    return seats_of(uow, app_id)


def _replace(uow: ReviewUnitOfWork, principal: Principal, project: dict[str, Any], expert_id: str, status: str,
             reason: str) -> dict[str, Any]:
    """The expert leaves the project (declined or conflicted); a replacement is chosen by the domain."""
    call_id = project["call_id"]
    app_id = project["application_id"]
    _, rules = current_call(uow, call_id)
    active, blocked = _seats(uow, call_id)
    pool = expert_pool.pool(uow, call_id)
    loads = {e.id: 0 for e in pool}
    for es in active.values():
        for e in es:
            loads[e] = loads.get(e, 0) + 1
    current = AssignmentResult(rules.experts_per_project, {p: tuple(es) for p, es in active.items()}, loads, {},
                               BalanceReport(True, True, 0, 0), tuple(blocked))
    policy = AssignmentPolicy(conflicts=rules.conflicts, declarations=expert_pool.declarations(uow))
    result = replace_declined(current, app_id, expert_id, [profile(project)], pool, policy)
    _set_seat(uow, principal, call_id, app_id, expert_id, status, reason)
    replacement = [e for e in result.assignments[app_id] if e not in active.get(app_id, [])]
    for e in replacement:
        _set_seat(uow, principal, call_id, app_id, e, "active", f"replaces {expert_id}")
    return {"application_id": app_id, "left": expert_id, "replacement": replacement[0] if replacement else None,
            "problems": _issues(dict(result.problems)).get(app_id, [])}


def decline(uow: ReviewUnitOfWork, principal: Principal, app_id: str, reason: str) -> dict[str, Any]:
    expert_id = expert_id_of(principal)
    project = project_or_404(uow, app_id)
    active, _ = _seats(uow, project["call_id"])
    if expert_id not in active.get(app_id, []):
        refuse("assignment_not_found/expert", {"application_id": app_id})
    out = _replace(uow, principal, project, expert_id, "declined", reason or "declined")
    uow.commit()
    return out


def declare_conflict(uow: ReviewUnitOfWork, principal: Principal, app_id: str, reason: str) -> dict[str, Any]:
    """The expert recognises a conflict on opening a project: never shown again, seat refilled."""
    expert_id = expert_id_of(principal)
    if uow.assignments.status(app_id, expert_id) is None:
        # only on a project offered or assigned to this expert; an unknown id gets the very same 404,
        # so declaring conflicts cannot probe which project ids exist
        refuse("project_not_found/expert", {"application_id": app_id})
    project = project_or_404(uow, app_id)
    declaration = declare_on_open(expert_id, app_id, reason, now())
    if not uow.experts.has_declared(expert_id, app_id):
        uow.experts.add_declaration(expert_id, app_id, declaration.reason, declaration.declared_at)
    audit(uow, principal, "conflict.declare", "application", app_id, after={"expert_id": expert_id},
          reason=declaration.reason)
    active, _ = _seats(uow, project["call_id"])
    out: dict[str, Any] = {"application_id": app_id, "expert_id": expert_id, "declared": True, "replacement": None}
    if expert_id in active.get(app_id, []):
        out.update(_replace(uow, principal, project, expert_id, "conflicted", "declared_on_open"))
    uow.commit()
    return out


def withdraw_conflicted_seats(uow: ReviewUnitOfWork, principal: Principal, expert_id: str) -> None:
    """After a profile change: every active seat of the expert that is now conflicted is refilled."""
    expert = expert_pool.to_domain(expert_pool.get_profile(uow, expert_id))
    decl = expert_pool.declarations(uow)
    for app_id in uow.assignments.active_projects_of(expert_id):
        project = project_or_404(uow, app_id)
        _, rules = current_call(uow, project["call_id"])
        if conflicts_of(expert, profile(project), rules.conflicts, decl):
            _replace(uow, principal, project, expert_id, "conflicted", "conflict_of_interest")


# -- what an expert sees


def _assigned_project(uow: ReviewUnitOfWork, expert_id: str, app_id: str) -> dict[str, Any]:
    project = project_or_404(uow, app_id)
    if uow.assignments.status(app_id, expert_id) != "active":
        # 404, not 403: an expert does not learn which projects exist beyond their own
        refuse("project_not_found/expert", {"application_id": app_id})
    _, rules = current_call(uow, project["call_id"])
    expert = expert_pool.to_domain(expert_pool.get_profile(uow, expert_id))
    try:
        ensure_no_conflict(expert, profile(project), rules.conflicts, expert_pool.declarations(uow))
    except Forbidden as exc:
        raise refusal("project_not_found/expert", {"application_id": app_id}) from exc
    return project


def expert_view(project: dict[str, Any], blind: bool) -> dict[str, Any]:
    app = application_view(project)
    app.pop("contact", None)  # personal data: experts never need it
    app.pop("forwarded_at", None)
    view = blind_view(app, blind)
    view.setdefault("blind", False)
    return view


def expert_projects(uow: ReviewUnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    expert_id = expert_id_of(principal)
    out = []
    for app_id in uow.assignments.active_projects_of(expert_id):
        try:
            project = _assigned_project(uow, expert_id, app_id)
        except NotFound:
            continue
        _, rules = current_call(uow, project["call_id"])
        view = expert_view(project, rules.blind)
        review = uow.reviews.get(app_id, expert_id)
        out.append({"application_id": app_id, "call_id": project["call_id"], "blind": rules.blind,
                    "project_name": view.get("project_name"), "category": view.get("category"),
                    "review_status": review.status if review else "not_started"})
    return out


def expert_project(uow: ReviewUnitOfWork, principal: Principal, app_id: str) -> dict[str, Any]:
    expert_id = expert_id_of(principal)
    project = _assigned_project(uow, expert_id, app_id)
    _, rules = current_call(uow, project["call_id"])
    audit(uow, principal, "project.open", "application", app_id)
    uow.commit()
    return {"application_id": app_id, "call_id": project["call_id"], "blind": rules.blind,
            "application": expert_view(project, rules.blind),
            "criteria": [{"code": c.code, "label": c.name_zh, "max_score": c.max_score, "weight": c.weight,
                          "definition": c.definition_zh} for c in rules.criteria]}
