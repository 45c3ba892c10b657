"""What staff see and decide: suspicions with their reasons and groups, and their settlement."""

from __future__ import annotations

import uuid
from typing import Any

from gongyi.errors import InvalidInput
from gongyi.timestamps import rfc3339
from services.review.domain.duplicates import (
    settle_different_projects,
    settle_same_project,
)
from services.review.domain.refusals import issue, refuse
from services.review.handlers.duplicates.checks import recluster_and_announce
from services.review.handlers.duplicates.common import SETTLED
from services.review.storage.duplicates.repository import (
    DuplicateRepository,
)
from services.review.storage.unit_of_work import ReviewUnitOfWork


def _settlement_view(repo: DuplicateRepository, settlement_id: str | None) -> dict[str, Any] | None:
    if not settlement_id:
        return None
    s = repo.settlement(settlement_id)
    if s is None:
        return None
    return {
        "settlement_id": s["settlement_id"],
        "outcome": s["outcome"],
        "keep_id": s["keep_id"],
        "action": s["action"],
        "decided_by": s["decided_by"],
        "decided_at": rfc3339(s["decided_at"]) if s["decided_at"] else None,
        "note": s["note"],
    }


def _applications(repo: DuplicateRepository, ids: list[str]) -> list[dict[str, Any]]:
    out = []
    for i in ids:
        row = repo.get_signals_row(i)
        src = (row or {}).get("source") or {}
        out.append(
            {
                "application_id": i,
                "call_id": (row or {}).get("call_id"),
                "unit_code": src.get("unit_code"),
                "project_name": src.get("project_name"),
                "org_name": src.get("org_name"),
            }
        )
    return out


def suspicion_view(repo: DuplicateRepository, s: dict[str, Any], detail: bool = False) -> dict[str, Any]:
    view = {
        "suspicion_id": s["suspicion_id"],
        "application_ids": [s["a_id"], s["b_id"]],
        "call_ids": [s["a_call"], s["b_call"]],
        "score": s["score"],
        "reasons": s["reasons"],
        "counter_reasons": s["counter_reasons"],
        "cross_call": s["cross_call"],
        "cross_unit": s["cross_unit"],
        "cluster_id": s["cluster_id"],
        "status": s["status"],
        "created_at": rfc3339(s["created_at"]),
        "updated_at": rfc3339(s["updated_at"]),
        "settlement": _settlement_view(repo, s["settlement_id"]),
    }
    if detail:
        view["applications"] = _applications(repo, [s["a_id"], s["b_id"]])
        members = repo.cluster_members(s["cluster_id"]) if s["status"] == "open" else []
        view["cluster_application_ids"] = sorted({i for m in members for i in (m["a_id"], m["b_id"])})
    return view


def list_suspicions(
    uow: ReviewUnitOfWork, call_id: str | None, status: str | None, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    repo = uow.duplicates
    total, rows = repo.list_suspicions(call_id, status, limit, offset)
    items = [suspicion_view(repo, r) for r in rows]
    clusters: dict[str, dict[str, Any]] = {}
    for r in rows:
        c = clusters.setdefault(r["cluster_id"], {"cluster_id": r["cluster_id"], "application_ids": set(),
                                                   "suspicion_ids": []})
        c["application_ids"] |= {r["a_id"], r["b_id"]}
        c["suspicion_ids"].append(r["suspicion_id"])
    return {
        "total": total,
        "items": items,
        "clusters": [{**c, "application_ids": sorted(c["application_ids"])} for c in clusters.values()],
    }


def get_suspicion(uow: ReviewUnitOfWork, suspicion_id: str) -> dict[str, Any]:
    repo = uow.duplicates
    s = repo.get_suspicion(suspicion_id)
    if s is None:
        refuse("duplicate_not_found", {"suspicion_id": suspicion_id})
    return suspicion_view(repo, s, detail=True)


def suspicions_for(uow: ReviewUnitOfWork, application_id: str) -> list[dict[str, Any]]:
    """Open and settled suspicions involving one application (for screening and intake views)."""
    repo = uow.duplicates
    return [suspicion_view(repo, s) for s in repo.suspicions_involving(application_id, ["open", "settled"])]


def settle(
    uow: ReviewUnitOfWork,
    suspicion_id: str,
    outcome: str,
    decided_by: str,
    keep_id: str | None = None,
    action: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Staff's decision on one suspected pair; a pair settled as different is never raised again."""
    repo = uow.duplicates
    s = repo.get_suspicion(suspicion_id, lock=True)
    if s is None:
        refuse("duplicate_not_found", {"suspicion_id": suspicion_id})
    if s["status"] == "settled":
        refuse("duplicate_already_settled", {"suspicion_id": suspicion_id, "settlement_id": s["settlement_id"]})
    ids = [s["a_id"], s["b_id"]]
    if outcome == "same_project":
        if keep_id is None:
            raise InvalidInput([issue("keep_id_required", "keep_id")])
        decision = settle_same_project(ids, keep_id, decided_by, action or "withdrawn", note)
    else:
        decision = settle_different_projects(ids, decided_by, note)
    settlement_id = str(uuid.uuid4())
    repo.save_settlement(
        {
            "settlement_id": settlement_id,
            "suspicion_id": suspicion_id,
            "outcome": decision.kind,
            "application_ids": ids,
            "keep_id": decision.keep_id,
            "action": decision.action,
            "decided_by": decided_by,
            "decided_at": decision.decided_at,
            "note": note,
        },
        [(s["a_id"], s["b_id"])],
    )
    repo.update_suspicion(
        suspicion_id, {"status": "settled", "settlement_id": settlement_id, "updated_at": decision.decided_at}
    )
    uow.emit(
        SETTLED,
        f"duplicate/{suspicion_id}",
        {
            "suspicion_id": suspicion_id,
            "application_ids": ids,
            "outcome": decision.kind,
            "keep_id": decision.keep_id,
            "action": decision.action,
            "decided_by": decided_by,
            "note": note,
        },
    )
    # the rest of the group may split now that this pair is closed
    recluster_and_announce(uow, repo, set(ids), decision.decided_at)
    uow.commit()
    return suspicion_view(repo, repo.get_suspicion(suspicion_id), detail=True)
