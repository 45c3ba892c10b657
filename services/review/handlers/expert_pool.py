"""The expert pool as assignment and scoring read it: profiles as domain experts, and the
conflicts experts declared."""

from __future__ import annotations

from typing import Any

from services.review.domain.conflicts import ConflictDeclaration
from services.review.domain.experts import Expert
from services.review.domain.refusals import refuse
from services.review.handlers.common import findable
from services.review.storage.unit_of_work import ReviewUnitOfWork


def to_domain(profile: dict[str, Any]) -> Expert:
    return Expert.from_dict({**profile, "id": profile["expert_id"]})


def pool(uow: ReviewUnitOfWork, call_id: str) -> list[Expert]:
    """Active experts serving the call (an expert with no calls listed serves every call)."""
    return [to_domain(p) for p in uow.experts.active_profiles()
            if not p.get("call_ids") or call_id in p["call_ids"]]


def get_profile(uow: ReviewUnitOfWork, expert_id: str) -> dict[str, Any]:
    profile = None if not findable(expert_id) else uow.experts.profile(expert_id)
    if profile is None:
        refuse("expert_not_found", {"expert_id": expert_id})
    return dict(profile)


def declarations(uow: ReviewUnitOfWork) -> tuple[ConflictDeclaration, ...]:
    return tuple(ConflictDeclaration(r.expert_id, r.application_id, r.reason, r.declared_at)
                 for r in uow.experts.declarations())
