"""Conflicts of interest between an expert and a project (利益冲突回避).

Like HotCRP, conflicts come from three places: what the system can see (same organisation,
and, where the call says so, same province or same recommending unit), what the expert
declared when joining the pool, and what the expert declares on opening a project. A conflict
is absolute: the assignment never places a conflicted expert and a review from one is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gongyi.errors import InvalidInput
from services.review.domain.refusals import issue, refuse

from .experts import Expert
from .names import normalise_credit_code, normalise_org_name


@dataclass(frozen=True)
class ProjectProfile:
    """What conflicts and assignment need to know about an application."""

    id: str
    category: str
    applicant_name: str = ""
    applicant_credit_code: str | None = None
    province: str | None = None
    unit_code: str | None = None

    @classmethod
    def from_application(cls, application_id: str, application: Mapping[str, Any]) -> ProjectProfile:
        applicant = application.get("applicant") or {}
        return cls(
            id=application_id,
            category=application.get("category", ""),
            applicant_name=applicant.get("name", "") or "",
            applicant_credit_code=applicant.get("credit_code"),
            province=applicant.get("province"),
            unit_code=application.get("unit_code"),
        )


@dataclass(frozen=True)
class ConflictPolicy:
    """Per-call switches for the conflicts that depend on the call's scale: in a national call
    same-province experts may be acceptable, in a provincial call everyone shares a province."""

    same_province: bool = False
    same_recommending_unit: bool = True


@dataclass(frozen=True)
class ConflictDeclaration:
    """Declared by an expert on opening a project (查看项目时主动申报回避)."""

    expert_id: str
    project_id: str
    reason: str
    declared_at: datetime | None = None


@dataclass(frozen=True)
class ConflictReason:
    code: str
    message_zh: str
    message_en: str
    details: Mapping[str, Any] = field(default_factory=dict)


def conflicts_of(
    expert: Expert,
    project: ProjectProfile,
    policy: ConflictPolicy,
    declarations: Iterable[ConflictDeclaration] = (),
) -> list[ConflictReason]:
    """Every reason the expert must not review the project; empty means no conflict."""
    reasons: list[ConflictReason] = []
    project_code = normalise_credit_code(project.applicant_credit_code)
    project_org = normalise_org_name(project.applicant_name)
    expert_code = normalise_credit_code(expert.credit_code)
    if project_code and expert_code and project_code == expert_code:
        reasons.append(ConflictReason("same_organisation_credit_code", "专家与申报单位统一社会信用代码相同",
                                      "The expert's organisation has the applicant's credit code",
                                      {"credit_code": project_code}))
    elif project_org and project_org == normalise_org_name(expert.organisation):
        reasons.append(ConflictReason("same_organisation_name", "专家所在单位与申报单位同名",
                                      "The expert works for the applicant organisation",
                                      {"organisation": expert.organisation}))
    if project.id in expert.declared_application_ids:
        reasons.append(ConflictReason("declared_application", "专家已申报回避该项目",
                                      "The expert declared a conflict with this application"))
    declared_codes = {normalise_credit_code(c) for c in expert.declared_credit_codes}
    declared_orgs = {normalise_org_name(o) for o in expert.declared_organisations}
    if (project_code and project_code in declared_codes) or (project_org and project_org in declared_orgs):
        reasons.append(ConflictReason("declared_organisation", "专家已申报与申报单位存在利益关系",
                                      "The expert declared a conflict with the applicant organisation"))
    for d in declarations:
        if d.expert_id == expert.id and d.project_id == project.id:
            reasons.append(ConflictReason("declared_on_open", "专家查看项目时申报回避",
                                          "The expert declared a conflict on opening the project",
                                          {"reason": d.reason}))
            break
    if policy.same_province and project.province and project.province == expert.province:
        reasons.append(ConflictReason("same_province", "专家与申报单位在同一省份，按本次征集规则回避",
                                      "Same province as the applicant, which this call treats as a conflict",
                                      {"province": project.province}))
    if policy.same_recommending_unit and project.unit_code and project.unit_code in expert.unit_codes:
        reasons.append(ConflictReason("same_recommending_unit", "专家隶属于该项目的推荐单位",
                                      "The expert belongs to the project's recommending unit",
                                      {"unit_code": project.unit_code}))
    return reasons


def conflict_table(
    experts: Iterable[Expert],
    projects: Iterable[ProjectProfile],
    policy: ConflictPolicy,
    declarations: Iterable[ConflictDeclaration] = (),
) -> dict[tuple[str, str], list[ConflictReason]]:
    """``{(expert_id, project_id): reasons}`` for conflicted pairs only."""
    decl = list(declarations)
    pool = list(experts)
    table: dict[tuple[str, str], list[ConflictReason]] = {}
    for p in projects:
        for e in pool:
            reasons = conflicts_of(e, p, policy, decl)
            if reasons:
                table[(e.id, p.id)] = reasons
    return table


def declare_on_open(expert_id: str, project_id: str, reason: str, at: datetime) -> ConflictDeclaration:
    """An expert opens a project and recognises a conflict; a reason is mandatory for the audit."""
    if not (reason or "").strip():
        raise InvalidInput([issue("conflict_reason_required", "reason")])
    return ConflictDeclaration(expert_id, project_id, reason.strip(), at)


def ensure_no_conflict(
    expert: Expert, project: ProjectProfile, policy: ConflictPolicy,
    declarations: Iterable[ConflictDeclaration] = (),
) -> None:
    """Guard for opening or scoring a project: refuse with ``expert_conflicted``."""
    reasons = conflicts_of(expert, project, policy, declarations)
    if reasons:
        refuse("expert_conflicted", {"reasons": [r.code for r in reasons]})
