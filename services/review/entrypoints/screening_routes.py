"""Routes for call rules, project detail and initial screening (初审筛选)."""

from __future__ import annotations

from gongyi.http.auth import Principal
from services.review.entrypoints.api import api
from services.review.entrypoints.process_schemas import DecisionsIn, RefreshQuery
from services.review.handlers import calls, screening, search_extras

CALL_404 = (404, "call_not_found", "review has not received this call's rules")
PROJECT_404 = (404, "project_not_found", "no such project")


class ScreeningRoutes:
    @api.route("GET", "/calls/{call_id}/rules", summary="A call's review rules / 征集活动评审规则",
               roles=("staff",), errors=[CALL_404])
    def call_rules(self, principal: Principal, call_id: str) -> dict:
        with self.db as uow:
            return calls.call_summary(uow, call_id)

    @api.route("GET", "/projects/{application_id}", summary="A project for staff / 项目详情",
               roles=("staff",), errors=[PROJECT_404])
    def project_detail(self, principal: Principal, application_id: str) -> dict:
        """Contacts (personal data) only for staff whose token carries `pii: true`."""
        with self.db as uow:
            return search_extras.project_detail(uow, principal, application_id)

    @api.route("GET", "/projects/{application_id}/screening", summary="Automatic screening report / 初审报告",
               roles=("staff",), query=RefreshQuery, errors=[PROJECT_404, CALL_404])
    def screening_report(self, principal: Principal, application_id: str, query: RefreshQuery) -> dict:
        with self.db as uow:
            return screening.report(uow, application_id, refresh=query.refresh)

    @api.route("POST", "/screening/decisions", summary="Screening decisions, one or a batch / 初审结论",
               roles=("staff",), body=DecisionsIn,
               errors=[(422, "screening_reason_required", "a fail or an override needs a reason (in issues)")])
    def screening_decisions(self, principal: Principal, body: DecisionsIn) -> dict:
        """All or nothing: if any decision breaks a rule, none is stored."""
        with self.db as uow:
            items = screening.decide_many(uow, principal, [d.model_dump() for d in body.decisions])
        return {"items": items}
