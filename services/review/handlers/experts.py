"""The expert pool (专家库) and conflicts declared by experts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gongyi.db import UnitOfWork
from gongyi.errors import Conflict, NotFound
from gongyi.http.auth import Principal
from services.review.domain.conflicts import ConflictDeclaration
from services.review.domain.experts import Expert
from services.review.handlers.common import audit, findable, now, plain
from services.review.storage.tables import assignments, conflict_declarations, experts

PUBLIC_FIELDS = ("expert_id", "name", "organisation", "credit_code", "province", "expertise", "unit_codes",
                 "declared_application_ids", "declared_organisations", "declared_credit_codes", "max_load",
                 "call_ids")


def to_domain(profile: dict[str, Any]) -> Expert:
    return Expert.from_dict({**profile, "id": profile["expert_id"]})


def pool(uow: UnitOfWork, call_id: str) -> list[Expert]:
    """Active experts serving the call (an expert with no calls listed serves every call)."""
    rows = uow.session.execute(sa.select(experts.c.profile).where(experts.c.active.is_(True))).all()
    return [to_domain(r.profile) for r in rows
            if not r.profile.get("call_ids") or call_id in r.profile["call_ids"]]


def get_profile(uow: UnitOfWork, expert_id: str) -> dict[str, Any]:
    row = None if not findable(expert_id) else uow.session.execute(
        sa.select(experts.c.profile).where(experts.c.expert_id == expert_id)).first()
    if row is None:
        raise NotFound("expert_not_found", "专家不存在", f"No expert {expert_id!r}", {"expert_id": expert_id})
    return dict(row.profile)


def declarations(uow: UnitOfWork) -> tuple[ConflictDeclaration, ...]:
    rows = uow.session.execute(sa.select(conflict_declarations)).all()
    return tuple(ConflictDeclaration(r.expert_id, r.application_id, r.reason, r.declared_at) for r in rows)


def _out(profile: dict[str, Any], load: int, with_contact: bool) -> dict[str, Any]:
    out = {k: profile.get(k) for k in PUBLIC_FIELDS}
    out["load"] = load
    if with_contact:
        out["contact"] = profile.get("contact")
    return out


def _loads(uow: UnitOfWork) -> dict[str, int]:
    rows = uow.session.execute(
        sa.select(assignments.c.expert_id, sa.func.count()).where(assignments.c.status == "active")
        .group_by(assignments.c.expert_id)).all()
    return {r[0]: r[1] for r in rows}


def create(uow: UnitOfWork, principal: Principal, profile: dict[str, Any], with_contact: bool) -> dict[str, Any]:
    expert_id = profile["expert_id"]
    exists = uow.session.execute(sa.select(experts.c.expert_id).where(experts.c.expert_id == expert_id)).first()
    if exists:
        raise Conflict("expert_exists", "专家编号已存在", f"Expert {expert_id!r} exists", {"expert_id": expert_id})
    at = now()
    uow.session.execute(experts.insert().values(expert_id=expert_id, profile=plain(profile), active=True,
                                                created_at=at, updated_at=at))
    audit(uow, principal, "expert.create", "expert", expert_id, after={k: profile.get(k) for k in PUBLIC_FIELDS})
    uow.commit()
    return _out(profile, 0, with_contact)


def update(uow: UnitOfWork, principal: Principal, expert_id: str, profile: dict[str, Any],
           with_contact: bool) -> dict[str, Any]:
    """Replace a profile; seats that the new profile makes conflicted are withdrawn and refilled."""
    from services.review.handlers.assignment import withdraw_conflicted_seats

    before = get_profile(uow, expert_id)
    profile = {**profile, "expert_id": expert_id}
    uow.session.execute(experts.update().where(experts.c.expert_id == expert_id)
                        .values(profile=plain(profile), updated_at=now()))
    audit(uow, principal, "expert.update", "expert", expert_id,
          before={k: before.get(k) for k in PUBLIC_FIELDS}, after={k: profile.get(k) for k in PUBLIC_FIELDS})
    withdraw_conflicted_seats(uow, principal, expert_id)
    uow.commit()
    return _out(profile, _loads(uow).get(expert_id, 0), with_contact)


def list_experts(uow: UnitOfWork, with_contact: bool) -> list[dict[str, Any]]:
    loads = _loads(uow)
    rows = uow.session.execute(sa.select(experts.c.profile).order_by(experts.c.expert_id)).all()
    return [_out(r.profile, loads.get(r.profile["expert_id"], 0), with_contact) for r in rows]
