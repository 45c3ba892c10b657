"""The expert pool (专家库) and conflicts declared by experts."""

from __future__ import annotations

from typing import Any

from gongyi.errors import Conflict, NotFound
from gongyi.http.auth import Principal
from services.review.domain.conflicts import ConflictDeclaration
from services.review.domain.experts import Expert
from services.review.handlers.common import audit, findable, now, plain
from services.review.storage.unit_of_work import ReviewUnitOfWork

PUBLIC_FIELDS = ("expert_id", "name", "organisation", "credit_code", "province", "expertise", "unit_codes",
                 "declared_application_ids", "declared_organisations", "declared_credit_codes", "max_load",
                 "call_ids")


def to_domain(profile: dict[str, Any]) -> Expert:
    return Expert.from_dict({**profile, "id": profile["expert_id"]})


def pool(uow: ReviewUnitOfWork, call_id: str) -> list[Expert]:
    """Active experts serving the call (an expert with no calls listed serves every call)."""
    return [to_domain(p) for p in uow.experts.active_profiles()
            if not p.get("call_ids") or call_id in p["call_ids"]]


def get_profile(uow: ReviewUnitOfWork, expert_id: str) -> dict[str, Any]:
    profile = None if not findable(expert_id) else uow.experts.profile(expert_id)
    if profile is None:
        raise NotFound("expert_not_found", "专家不存在", f"No expert {expert_id!r}", {"expert_id": expert_id})
    return dict(profile)


def declarations(uow: ReviewUnitOfWork) -> tuple[ConflictDeclaration, ...]:
    return tuple(ConflictDeclaration(r.expert_id, r.application_id, r.reason, r.declared_at)
                 for r in uow.experts.declarations())


def _out(profile: dict[str, Any], load: int, with_contact: bool) -> dict[str, Any]:
    out = {k: profile.get(k) for k in PUBLIC_FIELDS}
    out["load"] = load
    if with_contact:
        out["contact"] = profile.get("contact")
    return out


def _loads(uow: ReviewUnitOfWork) -> dict[str, int]:
    return uow.assignments.active_loads()


def create(uow: ReviewUnitOfWork, principal: Principal, profile: dict[str, Any], with_contact: bool) -> dict[str, Any]:
    expert_id = profile["expert_id"]
    if uow.experts.exists(expert_id):
        raise Conflict("expert_exists", "专家编号已存在", f"Expert {expert_id!r} exists", {"expert_id": expert_id})
    at = now()
    uow.experts.add(expert_id, plain(profile), at)
    audit(uow, principal, "expert.create", "expert", expert_id, after={k: profile.get(k) for k in PUBLIC_FIELDS})
    uow.commit()
    return _out(profile, 0, with_contact)


def update(uow: ReviewUnitOfWork, principal: Principal, expert_id: str, profile: dict[str, Any],
           with_contact: bool) -> dict[str, Any]:
    """Replace a profile; seats that the new profile makes conflicted are withdrawn and refilled."""
    from services.review.handlers.assignment import withdraw_conflicted_seats

    before = get_profile(uow, expert_id)
    profile = {**profile, "expert_id": expert_id}
    uow.experts.replace_profile(expert_id, plain(profile), now())
    audit(uow, principal, "expert.update", "expert", expert_id,
          before={k: before.get(k) for k in PUBLIC_FIELDS}, after={k: profile.get(k) for k in PUBLIC_FIELDS})
    withdraw_conflicted_seats(uow, principal, expert_id)
    uow.commit()
    return _out(profile, _loads(uow).get(expert_id, 0), with_contact)


def list_experts(uow: ReviewUnitOfWork, with_contact: bool) -> list[dict[str, Any]]:
    loads = _loads(uow)
    return [_out(p, loads.get(p["expert_id"], 0), with_contact) for p in uow.experts.all_profiles()]
