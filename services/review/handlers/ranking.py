"""Aggregation, ranking and the final selection (终评).

Every ranking is stored with its method and every input, so it can be recomputed; a confirmed
selection is an immutable snapshot sent as ``selection.confirmed.v1``.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from gongyi.errors import InvalidInput
from gongyi.http.auth import Principal
from gongyi.timestamps import rfc3339
from services.review.domain.aggregation import AggregationMethod, AggregationResult, ReviewInput, aggregate
from services.review.domain.ranking import (
    ProjectMeta,
    RankedProject,
    SelectedProject,
    Selection,
    inputs_digest,
    propose_selection,
    rank,
    take_snapshot,
)
from services.review.domain.refusals import issue, refuse
from services.review.events import published
from services.review.handlers.common import audit, current_call, findable, now, plain
from services.review.handlers.screening import evidence_ids
from services.review.storage.unit_of_work import ReviewUnitOfWork

DEFAULT_RESERVES = 5


def _inputs(uow: ReviewUnitOfWork, call_id: str, criteria_order: list[str]) -> tuple[ReviewInput, ...]:
    """Submitted reviews whose expert still holds the seat (a later conflict voids a review)."""
    rows = uow.reviews.submitted_inputs(call_id)
    return tuple(ReviewInput(r.application_id, r.expert_id, float(r.total),
                             tuple((c, float(r.scores[c])) for c in criteria_order if c in r.scores)) for r in rows)


def _meta(uow: ReviewUnitOfWork, ids: list[str]) -> dict[str, dict[str, Any]]:
    return uow.projects.many(ids)


def _project_meta(rows: dict[str, dict[str, Any]]) -> dict[str, ProjectMeta]:
    return {pid: ProjectMeta(pid, r.get("category") or "", r.get("forwarded_at")) for pid, r in rows.items()}


def _ranked_out(result: AggregationResult, ranked: tuple[RankedProject, ...],
                meta: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in ranked:
        agg = result.for_project(r.project_id)
        out.append({
            **asdict(r),
            "application_id": r.project_id,
            "project_name": meta.get(r.project_id, {}).get("project_name"),
            "mean": agg.mean, "median": agg.median, "trimmed_mean": agg.trimmed_mean, "std": agg.std,
            "spread": agg.spread, "expert_ids": list(agg.expert_ids), "raw_totals": list(agg.raw_totals),
            "totals": list(agg.totals), "criterion_means": dict(agg.criterion_means),
        })
    return out


def compute_ranking(uow: ReviewUnitOfWork, principal: Principal, call_id: str, statistic: str | None = None,
                    zscore: bool = False, trim_min_reviews: int | None = None,
                    spread_threshold: float | None = None) -> dict[str, Any]:
    _, rules = current_call(uow, call_id)
    method = rules.method(statistic, zscore, trim_min_reviews, spread_threshold)
    order = [c.code for c in rules.criteria]
    inputs = _inputs(uow, call_id, order)
    result = aggregate(inputs, method)
    meta = _meta(uow, [p.project_id for p in result.projects])
    ranked = rank(result, _project_meta(meta), order)
    overall = _ranked_out(result, ranked, meta)
    per_category: dict[str, list[dict[str, Any]]] = {}
    for entry in overall:
        per_category.setdefault(entry["category"], []).append(entry)
    for entries in per_category.values():
        entries.sort(key=lambda e: e["category_rank"])
    body = {
        "overall": overall,
        "per_category": per_category,
        "calibration": [asdict(c) for c in result.calibration],
        "overall_mean": result.overall_mean,
        "overall_std": result.overall_std,
        "inputs_digest": inputs_digest(result),
    }
    ranking_id = str(uuid.uuid4())
    at = now()
    uow.rankings.add_ranking(
        ranking_id=ranking_id, call_id=call_id, method=asdict(method), inputs=plain([asdict(i) for i in inputs]),
        result=plain(body), computed_by=principal.sub, computed_at=at)
    audit(uow, principal, "ranking.compute", "call", call_id, after={"ranking_id": ranking_id,
                                                                    "method": asdict(method)})
    uow.commit()
    return {"ranking_id": ranking_id, "call_id": call_id, "computed_at": at, "method": asdict(method),
            "n_inputs": len(inputs), **plain(body)}


def _load_ranking(uow: ReviewUnitOfWork, ranking_id: str) -> Any:
    row = None if not findable(ranking_id, 36) else uow.rankings.ranking(ranking_id)
    if row is None:
        refuse("ranking_not_found", {"ranking_id": ranking_id})
    return row


def _recompute(uow: ReviewUnitOfWork,
               row: Any) -> tuple[AggregationResult, tuple[RankedProject, ...], AggregationMethod]:
    """The ranking again from its stored method and inputs (nothing read from the reviews table)."""
    _, rules = current_call(uow, row.call_id)
    method = AggregationMethod(**row.method)
    inputs = tuple(ReviewInput(i["project_id"], i["expert_id"], i["total"],
                               tuple((c, v) for c, v in i["criterion_scores"])) for i in row.inputs)
    result = aggregate(inputs, method)
    meta = _meta(uow, [p.project_id for p in result.projects])
    return result, rank(result, _project_meta(meta), [c.code for c in rules.criteria]), method


def get_ranking(uow: ReviewUnitOfWork, ranking_id: str) -> dict[str, Any]:
    row = _load_ranking(uow, ranking_id)
    result, ranked, _ = _recompute(uow, row)
    meta = _meta(uow, [p.project_id for p in result.projects])
    recomputed = plain(_ranked_out(result, ranked, meta))
    return {"ranking_id": row.ranking_id, "call_id": row.call_id, "computed_at": row.computed_at,
            "method": row.method, "inputs": row.inputs, "n_inputs": len(row.inputs), **row.result,
            "recomputed_matches": recomputed == row.result["overall"]}


def _latest_ranking_id(uow: ReviewUnitOfWork, call_id: str) -> str | None:
    return uow.rankings.latest_ranking_id(call_id)


def propose(uow: ReviewUnitOfWork, principal: Principal, call_id: str, ranking_id: str | None, quota: int | None,
            per_category: dict[str, tuple[int, int | None]] | None) -> dict[str, Any]:
    _, rules = current_call(uow, call_id)
    ranking_id = ranking_id or _latest_ranking_id(uow, call_id)
    if ranking_id is None:
        ranking_id = compute_ranking(uow, principal, call_id)["ranking_id"]
    row = _load_ranking(uow, ranking_id)
    if row.call_id != call_id:
        refuse("ranking_not_found/other_call", {"ranking_id": ranking_id})
    _, ranked, _ = _recompute(uow, row)
    bounds = per_category if per_category is not None else dict(rules.per_category)
    selection = propose_selection(ranked, quota or rules.quota, bounds)
    proposal_id = str(uuid.uuid4())
    uow.rankings.add_proposal(
        proposal_id=proposal_id, call_id=call_id, ranking_id=ranking_id, quota=selection.quota,
        per_category={c: list(b) for c, b in selection.per_category.items()},
        selected=[{"application_id": s.project_id, "basis": s.basis} for s in selection.selected],
        issues=[i.to_dict() for i in selection.issues], adjustments=[], status="proposed",
        created_by=principal.sub, updated_at=now())
    audit(uow, principal, "selection.propose", "call", call_id,
          after={"proposal_id": proposal_id, "selected": list(selection.project_ids)})
    uow.commit()
    return proposal_out(uow, proposal_id, skipped=[list(s) for s in selection.skipped])


def _proposal(uow: ReviewUnitOfWork, call_id: str, proposal_id: str) -> Any:
    row = None if not findable(proposal_id, 36) else uow.rankings.proposal(proposal_id, call_id)
    if row is None:
        refuse("proposal_not_found", {"proposal_id": proposal_id})
    return row


def proposal_out(uow: ReviewUnitOfWork, proposal_id: str, skipped: list | None = None) -> dict[str, Any]:
    row = uow.rankings.proposal(proposal_id)
    ranking = {e["application_id"]: e for e in _load_ranking(uow, row.ranking_id).result["overall"]}
    selected = [{**{k: ranking[s["application_id"]][k] for k in ("application_id", "rank", "category", "score",
                                                                 "project_name", "tie_break")},
                 "basis": s["basis"]} for s in row.selected]
    out = {"proposal_id": row.proposal_id, "call_id": row.call_id, "ranking_id": row.ranking_id,
           "quota": row.quota, "per_category": row.per_category, "status": row.status, "selected": selected,
           "issues": row.issues, "adjustments": row.adjustments}
    if skipped is not None:
        out["skipped"] = skipped
    return out


def adjust(uow: ReviewUnitOfWork, principal: Principal, call_id: str, proposal_id: str, add: list[str],
           remove: list[str], reason: str) -> dict[str, Any]:
    row = _proposal(uow, call_id, proposal_id)
    if row.status != "proposed":
        refuse("selection_already_confirmed/adjust")
    if not (reason or "").strip():
        raise InvalidInput([issue("adjust_reason_required", "reason")])
    ranked = {e["application_id"]: e for e in _load_ranking(uow, row.ranking_id).result["overall"]}
    current = [s["application_id"] for s in row.selected]
    issues = [issue("not_in_ranking", f"add/{i}", {"application_id": a}) for i, a in enumerate(add) if a not in ranked]
    issues += [issue("not_selected", f"remove/{i}", {"application_id": r})
               for i, r in enumerate(remove) if r not in current]
    if issues:
        raise InvalidInput(issues)
    selected = [s for s in row.selected if s["application_id"] not in remove]
    selected += [{"application_id": a, "basis": "staff_adjustment"} for a in add if a not in current]
    selected.sort(key=lambda s: ranked[s["application_id"]]["rank"])
    adjustments = list(row.adjustments) + [{"add": add, "remove": remove, "reason": reason.strip(),
                                            "by": principal.sub, "at": rfc3339(now())}]
    uow.rankings.change_proposal(proposal_id, selected=selected, adjustments=adjustments, updated_at=now())
    audit(uow, principal, "selection.adjust", "proposal", proposal_id, before={"selected": current},
          after={"selected": [s["application_id"] for s in selected]}, reason=reason.strip())
    uow.commit()
    return proposal_out(uow, proposal_id)


def _entry(rank: int, score: float, project: dict[str, Any]) -> dict[str, Any]:
    form = project.get("form") or {}
    applicant = form.get("applicant") or {}
    return {"application_id": project["application_id"], "rank": rank, "score": round(score, 6),
            "project_name": form.get("project_name") or project.get("project_name"),
            "organisation": applicant.get("name"), "category": form.get("category") or project.get("category"),
            "province": applicant.get("province"), "unit_code": project.get("unit_code"),
            "summary": form.get("summary"), "evidence_ids": evidence_ids(form)}


def confirm(uow: ReviewUnitOfWork, principal: Principal, call_id: str, proposal_id: str,
            reserves: int = DEFAULT_RESERVES) -> dict[str, Any]:
    row = _proposal(uow, call_id, proposal_id)
    if row.status != "proposed":
        refuse("selection_already_confirmed", {"proposal_id": proposal_id})
    _, rules = current_call(uow, call_id)
    ranking_row = _load_ranking(uow, row.ranking_id)
    result, ranked, method = _recompute(uow, ranking_row)
    by_id = {r.project_id: r for r in ranked}
    chosen = [s for s in row.selected if s["application_id"] in by_id]
    selection = Selection(row.quota, {c: tuple(b) for c, b in row.per_category.items()},
                          tuple(SelectedProject(s["application_id"], by_id[s["application_id"]].category,
                                                by_id[s["application_id"]].rank, by_id[s["application_id"]].score,
                                                s["basis"]) for s in chosen), ())
    at = now()
    snapshot = take_snapshot(call_id, ranked, selection, method, at, result)
    meta = _meta(uow, [r.project_id for r in ranked])
    picked = {s["application_id"] for s in chosen}
    entries = [_entry(r.rank, r.score, meta[r.project_id]) for r in ranked if r.project_id in picked]
    reserve_list = [_entry(r.rank, r.score, meta[r.project_id]) for r in ranked if r.project_id not in picked]
    reserve_list = reserve_list[:max(0, reserves)]
    selection_id = str(uuid.uuid4())
    snap = {**asdict(snapshot), "adjustments": row.adjustments, "ranking_id": row.ranking_id}
    uow.rankings.add_selection(
        selection_id=selection_id, call_id=call_id, proposal_id=proposal_id, snapshot=plain(snap),
        snapshot_hash=snapshot.content_hash, confirmed_by=principal.sub, confirmed_at=at)
    uow.rankings.change_proposal(proposal_id, status="confirmed", updated_at=at)
    data = {
        "selection_id": selection_id, "call_id": call_id, "call_title": rules.title, "confirmed_at": rfc3339(at),
        "confirmed_by": principal.sub,
        "method": {**asdict(method), "ranking_id": row.ranking_id, "inputs_digest": snapshot.inputs_digest},
        "snapshot_hash": snapshot.content_hash, "entries": entries, "reserves": reserve_list,
    }
    uow.emit(published.SELECTION_CONFIRMED, f"selection/{selection_id}", plain(data))
    audit(uow, principal, "selection.confirm", "selection", selection_id, before={"proposal_id": proposal_id},
          after={"snapshot_hash": snapshot.content_hash, "selected": [e["application_id"] for e in entries]})
    uow.commit()
    return plain(data)


def confirmed(uow: ReviewUnitOfWork, call_id: str) -> dict[str, Any]:
    row = None if not findable(call_id) else uow.rankings.latest_selection(call_id)
    if row is None:
        refuse("selection_not_found", {"call_id": call_id})
    return {"selection_id": row.selection_id, "call_id": row.call_id, "proposal_id": row.proposal_id,
            "snapshot_hash": row.snapshot_hash, "confirmed_by": row.confirmed_by, "confirmed_at": row.confirmed_at,
            "snapshot": row.snapshot}
