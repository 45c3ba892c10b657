"""Routes for aggregation, ranking and the final selection (终评)."""

from __future__ import annotations

from gongyi.http.auth import Principal
from services.review.entrypoints.api import api
from services.review.entrypoints.process_schemas import AdjustIn, ConfirmIn, ProposalIn, RankingQuery
from services.review.handlers import ranking

CALL_404 = (404, "call_not_found", "review has not received this call's rules")
PROPOSAL_404 = (404, "proposal_not_found", "no such proposal for this call")
CONFIRMED = (409, "selection_already_confirmed", "the proposal is already confirmed")


class SelectionRoutes:
    @api.route("GET", "/calls/{call_id}/ranking", summary="Aggregate and rank / 汇总排名", roles=("staff",),
               query=RankingQuery, errors=[CALL_404])
    def call_ranking(self, principal: Principal, call_id: str, query: RankingQuery) -> dict:
        """Overall and per category; the method and every input are stored (`ranking_id`)."""
        with self.db as uow:
            return ranking.compute_ranking(uow, principal, call_id, query.method, query.zscore,
                                           query.trim_min_reviews, query.spread_threshold)

    @api.route("GET", "/rankings/{ranking_id}", summary="A stored ranking, recomputed / 排名复核", roles=("staff",),
               errors=[(404, "ranking_not_found", "no such ranking")])
    def stored_ranking(self, principal: Principal, ranking_id: str) -> dict:
        with self.db as uow:
            return ranking.get_ranking(uow, ranking_id)

    @api.route("POST", "/calls/{call_id}/selection/proposal", summary="Propose the selection / 建议名单",
               roles=("staff",), body=ProposalIn,
               errors=[CALL_404, (404, "ranking_not_found", "no such ranking"),
                       (422, "category_minimums_exceed_quota", "bounds and quota cannot be met (in issues)")])
    def propose_selection(self, principal: Principal, call_id: str, body: ProposalIn) -> dict:
        bounds = None if body.per_category is None else {c: (b.min, b.max) for c, b in body.per_category.items()}
        with self.db as uow:
            return ranking.propose(uow, principal, call_id, body.ranking_id, body.quota, bounds)

    @api.route("POST", "/calls/{call_id}/selection/adjust", summary="Adjust the proposal / 调整名单",
               roles=("staff",), body=AdjustIn, errors=[PROPOSAL_404, CONFIRMED])
    def adjust_selection(self, principal: Principal, call_id: str, body: AdjustIn) -> dict:
        with self.db as uow:
            return ranking.adjust(uow, principal, call_id, body.proposal_id, body.add, body.remove, body.reason)

    @api.route("POST", "/calls/{call_id}/selection/confirm", summary="Confirm the selection / 确认入选名单",
               roles=("staff",), body=ConfirmIn, errors=[PROPOSAL_404, CONFIRMED, CALL_404])
    def confirm_selection(self, principal: Principal, call_id: str, body: ConfirmIn) -> dict:
        """An immutable snapshot, sent as `selection.confirmed.v1` (publish consumes it)."""
        with self.db as uow:
            return ranking.confirm(uow, principal, call_id, body.proposal_id, body.reserves)

    @api.route("GET", "/calls/{call_id}/selection", summary="The confirmed selection / 已确认名单",
               roles=("staff",), errors=[(404, "selection_not_found", "nothing confirmed yet")])
    def confirmed_selection(self, principal: Principal, call_id: str) -> dict:
        with self.db as uow:
            return ranking.confirmed(uow, call_id)
