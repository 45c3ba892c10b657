"""The expert pool (专家库) and conflicts declared by experts."""

from __future__ import annotations

from typing import Any

from gongyi.http.auth import Principal
from services.review.domain.refusals import refuse
from services.review.handlers.assignment import withdraw_conflicted_seats
from services.review.handlers.common import audit, now, plain
from services.review.handlers.expert_pool import get_profile
from services.review.storage.unit_of_work import ReviewUnitOfWork

PUBLIC_FIELDS = ("expert_id", "name", "organisation", "credit_code", "province", "expertise", "unit_codes",
                 "declared_application_ids", "declared_organisations", "declared_credit_codes", "max_load",
                 "call_ids")


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
        refuse("expert_exists", {"expert_id": expert_id})
    at = now()
    uow.experts.add(expert_id, plain(profile), at)
    audit(uow, principal, "expert.create", "expert", expert_id, after={k: profile.get(k) for k in PUBLIC_FIELDS})
    uow.commit()
    return _out(profile, 0, with_contact)


def update(uow: ReviewUnitOfWork, principal: Principal, expert_id: str, profile: dict[str, Any],
           with_contact: bool) -> dict[str, Any]:
    """Replace a profile; seats that the new profile makes conflicted are withdrawn and refilled."""
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
