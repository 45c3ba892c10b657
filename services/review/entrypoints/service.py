"""The review nameko service: screening, experts, scoring, ranking, duplicate detection and the
staff search. Thin: each route and consumer runs one use case of services/review/handlers/.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from elasticsearch import ApiError, TransportError
from nameko.timer import timer
from werkzeug.wrappers import Response

from gongyi.config import load_settings
from gongyi.dependencies import Database, SettingsProvider
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database, check_search
from gongyi.http.auth import Principal
from gongyi.http.platform import platform_routes
from services.review import handlers
from services.review.domain.refusals import refusal
from services.review.domain.search_query import FILTERS, SearchParams, build_query, shape_response
from services.review.entrypoints.api import api
from services.review.entrypoints.dependencies import SearchIndex
from services.review.entrypoints.duplicates.checks import DuplicateChecks
from services.review.entrypoints.duplicates.schemas import (
    DuplicateQueue,
    DuplicateQueueQuery,
    SettleBody,
    SuspicionDetail,
    SuspicionList,
    SuspicionQuery,
)
from services.review.entrypoints.process_schemas import (
    AdjustIn,
    AuditQuery,
    AutoAssignQuery,
    ConfirmIn,
    DecisionsIn,
    ExpertIn,
    ExpertUpdateIn,
    ExportQuery,
    ManualAssignIn,
    OptionalReasonIn,
    ProposalIn,
    RankingQuery,
    ReasonIn,
    RefreshQuery,
    ReviewIn,
    SimilarQuery,
)
from services.review.entrypoints.schemas import SearchQuery, SearchResult
from services.review.handlers import (
    assignment,
    audit_log,
    calls,
    experts,
    ranking,
    reminders,
    scoring,
    screening,
    search_extras,
)
from services.review.handlers import duplicates as dup
from services.review.handlers.common import may_see_personal_data
from services.review.storage.unit_of_work import ReviewUnitOfWork

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REMINDER_TIMER_SECONDS = load_settings().reminder_interval_s
UNAVAILABLE = (503, "search_unavailable", "the search engine is down")
CALL_404 = (404, "call_not_found", "review has not received this call's rules")
PROJECT_404 = (404, "project_not_found", "no such project")
EXPERT_PROJECT_404 = (404, "project_not_found", "no such project (or not assigned to this expert)")
EXPERT_404 = (404, "expert_not_found", "no such expert")
CONFLICTED = (403, "expert_conflicted", "the expert has a conflict of interest with the project")
NO_SCOPE = (403, "expert_scope_missing", "the token carries no expert id")
LOCKED = (409, "review_locked", "the review is submitted and locked")
PROPOSAL_404 = (404, "proposal_not_found", "no such proposal for this call")
CONFIRMED = (409, "selection_already_confirmed", "the proposal is already confirmed")
DUPLICATE_404 = (404, "duplicate_not_found", "no such suspected duplicate")


def search_params(query: Any) -> SearchParams:
    return SearchParams(
        q=query.q, filters={k: getattr(query, k) for k in FILTERS}, start_year_from=query.start_year_from,
        start_year_to=query.start_year_to, score_min=query.score_min, score_max=query.score_max,
        duplicate_flag=query.duplicate_flag, sort=query.sort, size=query.size, cursor=query.cursor)


def engine_call(fn: Callable[[], Any]) -> Any:
    """The engine is a read model: when it is down say so (503); the data is safe in SQL."""
    try:
        return fn()
    except (ApiError, TransportError) as exc:
        raise refusal("search_unavailable") from exc


class ReviewService(platform_routes(api)):
    name = "review"
    db = Database(ReviewUnitOfWork)
    search = SearchIndex()
    duplicate_checks = DuplicateChecks()
    settings = SettingsProvider()

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
            "search": lambda: check_search(self.search.client),
        }

    # -- consumers: one per event; each use case claims the event itself, so a redelivery after
    # a partial failure runs only the use cases that had not committed

    @event_handler("intake", "application.forwarded.v1")
    def on_application_forwarded(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_forwarded(uow, event)
        self.search.kick()
        with self.db as uow:
            dup.record_application(uow, event)
        self.duplicate_checks.kick()

    @event_handler("intake", "application.withdrawn.v1")
    def on_application_withdrawn(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_withdrawn(uow, event)
        self.search.kick()
        with self.db as uow:
            dup.record_withdrawn(uow, event)
        self.duplicate_checks.kick()

    @event_handler("intake", "call.loaded.v1")
    def on_call_loaded(self, event: dict) -> None:
        with self.db as uow:
            calls.record_call_loaded(uow, event)

    @timer(interval=REMINDER_TIMER_SECONDS)
    def send_review_reminders(self) -> None:
        with self.db as uow:
            reminders.send_review_reminders(uow)

    @event_handler("media", "evidence.stored.v1")
    def on_evidence_stored(self, event: dict) -> None:
        with self.db as uow:
            screening.record_evidence(uow, event, "stored")
        with self.db as uow:
            dup.record_evidence(uow, event)
        self.duplicate_checks.kick()

    @event_handler("media", "evidence.rejected.v1")
    def on_evidence_rejected(self, event: dict) -> None:
        with self.db as uow:
            screening.record_evidence(uow, event, "rejected")

    @event_handler("media", "evidence.deleted.v1")
    def on_evidence_deleted(self, event: dict) -> None:
        with self.db as uow:
            screening.record_evidence(uow, event, "deleted")

    # -- duplicate detection (docs/duplicates.md)

    @api.route(
        "GET",
        "/duplicates",
        summary="Suspected duplicates with reasons and groups / 疑似重复申报列表",
        roles=("staff",),
        query=SuspicionQuery,
        response=SuspicionList,
    )
    def dup_list(self, principal: Principal, query: SuspicionQuery) -> dict[str, Any]:
        with self.db as uow:
            return dup.list_suspicions(uow, query.call_id, query.status, query.size, query.offset)

    @api.route(
        "GET",
        "/duplicates/similar/{application_id}",
        summary="Review queue: a project's most similar others, flagged or not / 相似项目复核队列",
        roles=("staff",),
        query=DuplicateQueueQuery,
        response=DuplicateQueue,
        errors=[PROJECT_404, UNAVAILABLE],
    )
    def dup_similar(self, principal: Principal, application_id: str, query: DuplicateQueueQuery) -> dict[str, Any]:
        with self.db as uow:
            return engine_call(lambda: dup.similar_to(uow, self.duplicate_checks.index, application_id, query.top_n))

    @api.route(
        "GET",
        "/duplicates/{suspicion_id}",
        summary="One suspected duplicate / 疑似重复详情",
        roles=("staff",),
        response=SuspicionDetail,
        errors=[DUPLICATE_404],
    )
    def dup_get(self, principal: Principal, suspicion_id: str) -> dict[str, Any]:
        with self.db as uow:
            return dup.get_suspicion(uow, suspicion_id)

    @api.route(
        "POST",
        "/duplicates/{suspicion_id}/settle",
        summary="Settle a suspected duplicate / 认定疑似重复",
        roles=("staff",),
        body=SettleBody,
        response=SuspicionDetail,
        errors=[
            DUPLICATE_404,
            (409, "duplicate_already_settled", "the suspicion is already settled"),
            (400, "settlement_keep_not_in_group", "keep_id is not one of the two applications"),
            (422, "invalid_input", "keep_id missing for same_project"),
        ],
    )
    def dup_settle(self, principal: Principal, suspicion_id: str, body: SettleBody) -> dict[str, Any]:
        with self.db as uow:
            return dup.settle(
                uow, suspicion_id, body.outcome, principal.sub, body.keep_id, body.action, body.note
            )

    # -- the expert pool, assignment, and what an expert sees

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
               roles=("staff",), errors=[EXPERT_PROJECT_404])
    def project_assignments(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return assignment.project_seats(uow, application_id)

    @api.route("POST", "/projects/{application_id}/assignments", summary="Assign an expert by hand / 手动分配",
               roles=("staff",), body=ManualAssignIn,
               errors=[EXPERT_PROJECT_404, EXPERT_404, CONFLICTED, (409, "already_assigned", "already assigned")])
    def add_assignment(self, principal: Principal, application_id: str, body: ManualAssignIn) -> dict:
        with self.db as uow:
            return assignment.add(uow, principal, application_id, body.expert_id, body.reason)

    @api.route("POST", "/projects/{application_id}/assignments/{expert_id}/remove",
               summary="Remove an expert from a project / 撤回分配", roles=("staff",), body=ReasonIn,
               errors=[EXPERT_PROJECT_404, (404, "assignment_not_found", "the expert is not assigned")])
    def remove_assignment(self, principal: Principal, application_id: str, expert_id: str, body: ReasonIn) -> dict:
        with self.db as uow:
            return assignment.remove(uow, principal, application_id, expert_id, body.reason)

    @api.route("POST", "/projects/{application_id}/conflict", summary="Declare a conflict on opening / 申报回避",
               roles=("expert",), body=ReasonIn, errors=[EXPERT_PROJECT_404, NO_SCOPE])
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
               " / 评审项目详情", roles=("expert",), errors=[EXPERT_PROJECT_404, NO_SCOPE])
    def my_project(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return assignment.expert_project(uow, principal, application_id)

    @api.route("POST", "/expert/projects/{application_id}/decline", summary="Decline a project / 拒绝评审",
               roles=("expert",), body=OptionalReasonIn, errors=[EXPERT_PROJECT_404, NO_SCOPE,
                                                                 (404, "assignment_not_found", "not assigned")])
    def decline(self, principal: Principal, application_id: str, body: OptionalReasonIn) -> dict:
        with self.db as uow:
            return assignment.decline(uow, principal, application_id, body.reason)

    # -- expert scoring (专家评分)

    @api.route("GET", "/reviews/{application_id}", summary="Reviews of a project (an expert: their own) / 评分",
               roles=("expert", "staff"), errors=[EXPERT_PROJECT_404])
    def get_reviews(self, principal: Principal, application_id: str) -> dict:
        with self.db as uow:
            return {"items": scoring.reviews_of(uow, principal, application_id)}

    @api.route("PUT", "/reviews/{application_id}", summary="Save my scores (draft) / 保存评分",
               roles=("expert",), body=ReviewIn, errors=[EXPERT_PROJECT_404, LOCKED])
    def save_review(self, principal: Principal, application_id: str, body: ReviewIn) -> dict:
        with self.db as uow:
            return scoring.save(uow, principal, application_id, body.scores, body.comments)

    @api.route("POST", "/reviews/{application_id}/submit", summary="Submit my review (locks it) / 提交评分",
               roles=("expert",), errors=[EXPERT_PROJECT_404, LOCKED, (404, "review_not_found", "nothing saved yet"),
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

    # -- call rules, project detail and initial screening (初审筛选)

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

    # -- staff search extras (more-like-this, export) and the audit log

    @api.route("GET", "/projects/{application_id}/similar", summary="Similar projects / 相似项目",
               roles=("staff",), query=SimilarQuery,
               errors=[(404, "project_not_found", "no such project"), UNAVAILABLE])
    def similar_projects(self, principal: Principal, application_id: str, query: SimilarQuery) -> dict:
        with self.db as uow:
            return engine_call(lambda: search_extras.similar(self.search.index, uow, application_id, query.size,
                                                                   query.call_id))

    @api.route("GET", "/search/export", summary="Export a search result set / 导出检索结果", roles=("staff",),
               query=ExportQuery, produces=("text/csv", XLSX), errors=[UNAVAILABLE])
    def export_search(self, principal: Principal, query: ExportQuery) -> Response:
        """The whole result set (up to 10,000 rows); contacts only with `include_contacts=true` and a token
        allowed to see personal data."""
        with self.db as uow:
            header, rows = engine_call(lambda: search_extras.export_rows(
                self.search.index, uow, principal, search_params(query), query.include_contacts))
        if query.format == "xlsx":
            body, mime = search_extras.to_xlsx(header, rows), XLSX
        else:
            body, mime = search_extras.to_csv(header, rows), "text/csv; charset=utf-8"
        return Response(body, content_type=mime,
                        headers={"Content-Disposition": f'attachment; filename="projects.{query.format}"'})

    @api.route("GET", "/audit", summary="The audit log / 操作日志", roles=("staff",), query=AuditQuery)
    def audit(self, principal: Principal, query: AuditQuery) -> dict:
        with self.db as uow:
            return audit_log.entries(uow, query.entity_id, query.actor, query.action, query.limit, query.offset)

    # -- aggregation, ranking and the final selection (终评)

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

    # -- staff search

    @api.route(
        "GET",
        "/search",
        summary="Staff search over projects / 项目检索",
        roles=("staff",),
        query=SearchQuery,
        response=SearchResult,
        errors=[
            (400, "invalid_cursor", "the cursor is not valid"),
            (503, "search_unavailable", "the search engine is down"),
        ],
    )
    def search_projects(self, principal: Principal, query: SearchQuery) -> dict:
        # search_params and build_query are the whole translation: bench/search.py sends the same body raw
        raw = engine_call(lambda: self.search.index.search(build_query(search_params(query))))
        return shape_response(raw, query.size)
