"""The ranked review queue: for one application, its most similar others with scores and reasons,
flagged or not, so a reviewer sees the near-misses below the flag threshold too (docs/duplicates.md).

Same candidates (the engine's postings), same term statistics and same scoring as the background
check (``EngineLookup`` + ``most_similar``); only the threshold is not applied."""

from __future__ import annotations

from typing import Any

from services.review.domain.duplicates import FLAG_THRESHOLD, ProjectSignals, Suspicion, most_similar
from services.review.domain.refusals import refuse
from services.review.handlers.duplicates.checks import _reason_dicts, make_lookup
from services.review.handlers.duplicates.common import suspicion_id_for
from services.review.handlers.duplicates.suspicions import _applications, suspicion_view
from services.review.storage.duplicates.index import DuplicateIndex
from services.review.storage.unit_of_work import ReviewUnitOfWork

DEFAULT_TOP_N = 10


def _entry(uow: ReviewUnitOfWork, application_id: str, s: Suspicion, other: dict[str, Any]) -> dict[str, Any]:
    repo = uow.duplicates
    sid = suspicion_id_for(s.a_id, s.b_id)
    stored = repo.get_suspicion(sid)
    return {
        **other,
        "score": s.score,
        "flagged": s.score >= FLAG_THRESHOLD,
        "reasons": _reason_dicts(r for r in s.reasons if r.weight),
        "counter_reasons": _reason_dicts(s.counter_reasons),
        "context": _reason_dicts(r for r in s.reasons if not r.weight),
        "suspicion_id": sid if stored else None,
        "suspicion_status": stored["status"] if stored else None,
    }


def similar_to(
    uow: ReviewUnitOfWork, index: DuplicateIndex, application_id: str, top_n: int = DEFAULT_TOP_N
) -> dict[str, Any]:
    """``application_id``'s ``top_n`` most similar active applications, strongest first, each with
    its score, whether it reaches the flag threshold, its reasons and its suspicion (if one was
    recorded); and the application's recorded suspicions (open and settled)."""
    repo = uow.duplicates
    row = repo.get_signals_row(application_id)
    if row is None or row["status"] != "active":
        refuse("project_not_found", {"application_id": application_id})
    signals = ProjectSignals.from_dict(row["signals"])
    engine = make_lookup(repo, index)
    ranked = most_similar(signals, engine.lookup, top_n, engine.term_stats)
    others = {a["application_id"]: a for a in _applications(repo, [
        s.b_id if s.a_id == application_id else s.a_id for s in ranked])}
    items = [_entry(uow, application_id, s, others[s.b_id if s.a_id == application_id else s.a_id])
             for s in ranked]
    return {
        "application": _applications(repo, [application_id])[0],
        "flag_threshold": FLAG_THRESHOLD,
        "items": items,
        "suspicions": [suspicion_view(repo, s) for s in repo.suspicions_involving(application_id, ["open", "settled"])],
    }
