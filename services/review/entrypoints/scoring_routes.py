"""Routes for expert scoring (专家评分)."""

from __future__ import annotations

from gongyi.http.auth import Principal
from services.review.entrypoints.api import api
from services.review.entrypoints.process_schemas import ReasonIn, ReviewIn
from services.review.handlers import scoring

PROJECT_404 = (404, "project_not_found", "no such project (or not assigned to this expert)")
LOCKED = (409, "review_locked", "the review is submitted and locked")


class ScoringRoutes:
    @api.route("GET", "/reviews/{application_id}", summary="Reviews of a project (an expert: their own) / 评分",
               roles=("expert", "staff"), errors=[PROJECT_404])
    def get_reviews(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return {"items": scoring.reviews_of(uow, principal, application_id)}

    @api.route("PUT", "/reviews/{application_id}", summary="Save my scores (draft) / 保存评分",
               roles=("expert",), body=ReviewIn, errors=[PROJECT_404, LOCKED])
    def save_review(self, principal: Principal, application_id: str, body: ReviewIn) -> dict:
        with self.db as uow:
            return scoring.save(uow, principal, application_id, body.scores, body.comments)

    @api.route("POST", "/reviews/{application_id}/submit", summary="Submit my review (locks it) / 提交评分",
               roles=("expert",), errors=[PROJECT_404, LOCKED, (404, "review_not_found", "nothing saved yet"),
                                          (422, "invalid_input", "a criterion is missing or out of range")])
    def submit_review(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return scoring.submit_review(uow, principal, application_id)

    @api.route("POST", "/reviews/{application_id}/{expert_id}/reopen", summary="Reopen a review / 退回评分",
               roles=("staff",), body=ReasonIn,
               errors=[(404, "review_not_found", "no such review"), (409, "review_not_submitted", "not submitted")])
    def reopen_review(self, principal: Principal, application_id: str, expert_id: str, body: ReasonIn) -> dict:
        with self.db as uow:
            return scoring.reopen_review(uow, principal, application_id, expert_id, body.reason)
