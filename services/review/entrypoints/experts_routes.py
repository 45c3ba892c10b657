"""Routes for the expert pool, assignment, and what an expert sees."""

from __future__ import annotations

from gongyi.http.auth import Principal
from services.review.entrypoints.api import api
from services.review.entrypoints.process_schemas import (
    AutoAssignQuery,
    ExpertIn,
    ExpertUpdateIn,
    ManualAssignIn,
    OptionalReasonIn,
    ReasonIn,
)
from services.review.handlers import assignment, experts
from services.review.handlers.common import may_see_personal_data

PROJECT_404 = (404, "project_not_found", "no such project (or not assigned to this expert)")
EXPERT_404 = (404, "expert_not_found", "no such expert")
CONFLICTED = (403, "expert_conflicted", "the expert has a conflict of interest with the project")
NO_SCOPE = (403, "expert_scope_missing", "the token carries no expert id")


class ExpertRoutes:
    @api.route("POST", "/experts", summary="Add an expert to the pool / 添加专家", roles=("staff",), body=ExpertIn,
               status=201, errors=[(409, "expert_exists", "the expert id is taken")])
    def create_expert(self, principal: Principal, body: ExpertIn) -> dict:
        with self.db as uow:
            return experts.create(uow, principal, body.model_dump(), may_see_personal_data(principal))

    @api.route("GET", "/experts", summary="The expert pool / 专家库", roles=("staff",))
    def list_experts(self, principal: Principal) -> dict:
        with self.db as uow:
            return {"items": experts.list_experts(uow, may_see_personal_data(principal))}

    @api.route("PUT", "/experts/{expert_id}", summary="Change an expert's profile / 修改专家信息",
               roles=("staff",), body=ExpertUpdateIn, errors=[EXPERT_404])
    def update_expert(self, principal: Principal, expert_id: str, body: ExpertUpdateIn) -> dict:
        """Seats the new profile makes conflicted are withdrawn and refilled."""
        with self.db as uow:
            return experts.update(uow, principal, expert_id, body.model_dump(), may_see_personal_data(principal))

    @api.route("POST", "/calls/{call_id}/assignments/auto", summary="Assign k experts per project / 自动分配专家",
               roles=("staff",), query=AutoAssignQuery, errors=[(404, "call_not_found", "no such call")])
    def auto_assign(self, principal: Principal, call_id: str, query: AutoAssignQuery) -> dict:
        """Projects that passed screening get k unconflicted experts, loads balanced when feasible;
        `problems` says per project why it is short or unbalanced."""
        with self.db as uow:
            return assignment.auto_assign(uow, principal, call_id, query.k)

    @api.route("GET", "/projects/{application_id}/assignments", summary="A project's experts / 项目评审专家",
               roles=("staff",), errors=[PROJECT_404])
    def project_assignments(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return assignment.project_seats(uow, application_id)

    @api.route("POST", "/projects/{application_id}/assignments", summary="Assign an expert by hand / 手动分配",
               roles=("staff",), body=ManualAssignIn,
               errors=[PROJECT_404, EXPERT_404, CONFLICTED, (409, "already_assigned", "already assigned")])
    def add_assignment(self, principal: Principal, application_id: str, body: ManualAssignIn) -> dict:
        with self.db as uow:
            return assignment.add(uow, principal, application_id, body.expert_id, body.reason)

    @api.route("POST", "/projects/{application_id}/assignments/{expert_id}/remove",
               summary="Remove an expert from a project / 撤回分配", roles=("staff",), body=ReasonIn,
               errors=[PROJECT_404, (404, "assignment_not_found", "the expert is not assigned")])
    def remove_assignment(self, principal: Principal, application_id: str, expert_id: str, body: ReasonIn) -> dict:
        with self.db as uow:
            return assignment.remove(uow, principal, application_id, expert_id, body.reason)

    @api.route("POST", "/projects/{application_id}/conflict", summary="Declare a conflict on opening / 申报回避",
               roles=("expert",), body=ReasonIn, errors=[PROJECT_404, NO_SCOPE])
    def declare_conflict(self, principal: Principal, application_id: str, body: ReasonIn) -> dict:
        """The expert is unassigned, never shown the project again, and replaced."""
        with self.db as uow:
            return assignment.declare_conflict(uow, principal, application_id, body.reason)

    @api.route("GET", "/expert/projects", summary="Projects assigned to me / 我的评审项目", roles=("expert",),
               errors=[NO_SCOPE])
    def my_projects(self, principal: Principal) -> dict:
        with self.db as uow:
            return {"items": assignment.expert_projects(uow, principal)}

    @api.route("GET", "/expert/projects/{application_id}", summary="An assigned project (blind if the call says so)"
               " / 评审项目详情", roles=("expert",), errors=[PROJECT_404, NO_SCOPE])
    def my_project(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return assignment.expert_project(uow, principal, application_id)

    @api.route("POST", "/expert/projects/{application_id}/decline", summary="Decline a project / 拒绝评审",
               roles=("expert",), body=OptionalReasonIn, errors=[PROJECT_404, NO_SCOPE,
                                                                 (404, "assignment_not_found", "not assigned")])
    def decline(self, principal: Principal, application_id: str, body: OptionalReasonIn) -> dict:
        with self.db as uow:
            return assignment.decline(uow, principal, application_id, body.reason)
