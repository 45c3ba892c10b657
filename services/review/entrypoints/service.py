"""The review nameko service: consumes intake's events, keeps the project index, serves staff search."""

from __future__ import annotations

from collections.abc import Callable

from gongyi.dependencies import Database, SettingsProvider
from gongyi.errors import Unavailable
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database, check_search
from gongyi.http.auth import Principal
from gongyi.http.platform import platform_routes
from services.review import handlers
from services.review.domain.search_query import FILTERS, SearchParams, build_query, shape_response
from services.review.entrypoints.api import api
from services.review.entrypoints.dependencies import SearchIndex
from services.review.entrypoints.duplicates_routes import DuplicateRoutes
from services.review.entrypoints.experts_routes import ExpertRoutes
from services.review.entrypoints.schemas import SearchQuery, SearchResult
from services.review.entrypoints.scoring_routes import ScoringRoutes
from services.review.entrypoints.screening_routes import ScreeningRoutes
from services.review.entrypoints.search_routes import SearchRoutes
from services.review.entrypoints.selection_routes import SelectionRoutes
from services.review.usecases import calls, screening


class ReviewService(platform_routes(api), DuplicateRoutes,
                    ScreeningRoutes, ExpertRoutes, ScoringRoutes, SelectionRoutes, SearchRoutes):
    name = "review"
    db = Database()
    search = SearchIndex()
    settings = SettingsProvider()

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
            "search": lambda: check_search(self.search.client),
        }

    @event_handler("intake", "application.forwarded.v1")
    def on_application_forwarded(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_forwarded(uow, event)
        self.search.kick()

    @event_handler("intake", "application.withdrawn.v1")
    def on_application_withdrawn(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_withdrawn(uow, event)
        self.search.kick()

    @event_handler("intake", "call.loaded.v1")
    def on_call_loaded(self, event: dict) -> None:
        with self.db as uow:
            calls.record_call_loaded(uow, event)

    @event_handler("media", "evidence.stored.v1")
    def on_evidence_stored(self, event: dict) -> None:
        with self.db as uow:
            screening.record_evidence(uow, event, "stored")

    @event_handler("media", "evidence.rejected.v1")
    def on_evidence_rejected(self, event: dict) -> None:
        with self.db as uow:
            screening.record_evidence(uow, event, "rejected")

    @event_handler("media", "evidence.deleted.v1")
    def on_evidence_deleted(self, event: dict) -> None:
        with self.db as uow:
            screening.record_evidence(uow, event, "deleted")

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
        params = SearchParams(
            q=query.q,
            filters={k: getattr(query, k) for k in FILTERS},
            start_year_from=query.start_year_from,
            start_year_to=query.start_year_to,
            score_min=query.score_min,
            score_max=query.score_max,
            duplicate_flag=query.duplicate_flag,
            sort=query.sort,
            size=query.size,
            cursor=query.cursor,
        )
        try:
            raw = self.search.index.search(build_query(params))
        except Exception as exc:  # the engine is a read model: say so, the data is safe in SQL
            from elasticsearch import ApiError, TransportError

            if isinstance(exc, (ApiError, TransportError)):
                raise Unavailable(
                    "search_unavailable", "检索服务暂不可用，请稍后重试", "Search is temporarily unavailable"
                ) from exc
            raise
        return shape_response(raw, query.size)
