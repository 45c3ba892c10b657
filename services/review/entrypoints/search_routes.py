"""Staff search extras (more-like-this, export) and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Response

from gongyi.errors import Unavailable
from gongyi.http.auth import Principal
from services.review.domain.search_query import FILTERS, SearchParams
from services.review.entrypoints.api import api
from services.review.entrypoints.process_schemas import AuditQuery, ExportQuery, SimilarQuery
from services.review.handlers import audit_log, search_extras

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNAVAILABLE = (503, "search_unavailable", "the search engine is down")


def search_params(query: Any) -> SearchParams:
    return SearchParams(
        q=query.q, filters={k: getattr(query, k) for k in FILTERS}, start_year_from=query.start_year_from,
        start_year_to=query.start_year_to, score_min=query.score_min, score_max=query.score_max,
        duplicate_flag=query.duplicate_flag, sort=query.sort, size=query.size, cursor=query.cursor)


def engine_call(fn: Callable[[], Any]) -> Any:
    """The engine is a read model: when it is down say so (503); the data is safe in SQL."""
    from elasticsearch import ApiError, TransportError

    try:
        return fn()
    except (ApiError, TransportError) as exc:
        raise Unavailable("search_unavailable", "检索服务暂不可用，请稍后重试",
                          "Search is temporarily unavailable") from exc


class SearchRoutes:
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
