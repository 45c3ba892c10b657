"""Expert scoring (专家评分): drafts, submission (locked), staff reopening with a reason."""

from __future__ import annotations

import uuid
from typing import Any

from gongyi.http.auth import Principal
from services.review.domain.refusals import refuse
from services.review.domain.scoring import Review, reopen, save_draft, submit, validate_scores, weighted_total
from services.review.events import published
from services.review.handlers.assignment import _assigned_project
from services.review.handlers.common import audit, current_call, expert_id_of, now, project_or_404
from services.review.storage.unit_of_work import ReviewUnitOfWork


def _row(uow: ReviewUnitOfWork, app_id: str, expert_id: str) -> Any:
    return uow.reviews.get(app_id, expert_id)


def _domain(row: Any) -> Review:
    return Review(row.expert_id, row.application_id, dict(row.scores), row.comments, row.status, row.submitted_at,
                  row.version)


def out(row: Any) -> dict[str, Any]:
    return {"review_id": row.review_id, "application_id": row.application_id, "expert_id": row.expert_id,
            "call_id": row.call_id, "scores": row.scores, "comments": row.comments, "status": row.status,
            "total": row.total, "version": row.version, "submitted_at": row.submitted_at,
            "updated_at": row.updated_at}


def _save(uow: ReviewUnitOfWork, row: Any, review: Review, call_id: str, total: float | None) -> Any:
    values = dict(scores=dict(review.scores), comments=review.comments, status=review.status, total=total,
                  version=review.version, submitted_at=review.submitted_at, updated_at=now())
    if row is None:
        review_id = str(uuid.uuid4())
        uow.reviews.add(review_id=review_id, application_id=review.project_id, expert_id=review.expert_id,
                        call_id=call_id, **values)
    else:
        uow.reviews.change(row.review_id, **values)
    return _row(uow, review.project_id, review.expert_id)


def save(uow: ReviewUnitOfWork, principal: Principal, app_id: str, scores: dict[str, Any],
         comments: str) -> dict[str, Any]:
    expert_id = expert_id_of(principal)
    project = _assigned_project(uow, expert_id, app_id)
    _, rules = current_call(uow, project["call_id"])
    # a draft may be partial, but every score given must be a number in its criterion's range
    validate_scores(scores, [c for c in rules.criteria if c.code in scores] or [])
    row = _row(uow, app_id, expert_id)
    current = _domain(row) if row else Review(expert_id, app_id)
    review = save_draft(current, scores, comments, expert_id)
    before = out(row) if row else None
    row = _save(uow, row, review, project["call_id"], None)
    audit(uow, principal, "review.save", "review", row.review_id, before=before, after=out(row))
    uow.commit()
    return out(row)


def submit_review(uow: ReviewUnitOfWork, principal: Principal, app_id: str) -> dict[str, Any]:
    expert_id = expert_id_of(principal)
    project = _assigned_project(uow, expert_id, app_id)
    _, rules = current_call(uow, project["call_id"])
    row = _row(uow, app_id, expert_id)
    if row is None:
        refuse("review_not_found/unsaved", {"application_id": app_id})
    submitted = submit(_domain(row), rules.criteria, now(), by_expert=expert_id)
    total = weighted_total(submitted.scores, rules.criteria)
    before = out(row)
    row = _save(uow, row, submitted, project["call_id"], total)
    uow.emit(published.REVIEW_SUBMITTED, f"review/{row.review_id}",
             published.review_submitted(row.review_id, app_id, expert_id, total, submitted.submitted_at))
    audit(uow, principal, "review.submit", "review", row.review_id, before=before, after=out(row))
    uow.commit()
    return out(row)


def reopen_review(uow: ReviewUnitOfWork, principal: Principal, app_id: str, expert_id: str,
                  reason: str) -> dict[str, Any]:
    row = _row(uow, app_id, expert_id)
    if row is None:
        refuse("review_not_found", {"application_id": app_id, "expert_id": expert_id})
    draft, record = reopen(_domain(row), principal.sub, reason, now())
    before = out(row)
    row = _save(uow, row, draft, row.call_id, None)
    audit(uow, principal, "review.reopen", "review", row.review_id, before=before, after=out(row),
          reason=record.reason)
    uow.commit()
    return out(row)


def reviews_of(uow: ReviewUnitOfWork, principal: Principal, app_id: str) -> list[dict[str, Any]]:
    if principal.role == "expert":
        expert_id = expert_id_of(principal)
        _assigned_project(uow, expert_id, app_id)
        row = _row(uow, app_id, expert_id)
        return [out(row)] if row else []
    project_or_404(uow, app_id)
    return [out(r) for r in uow.reviews.of_application(app_id)]
