"""The review nameko service: consumes intake's events, keeps the project index, serves staff search."""

from __future__ import annotations

from collections.abc import Callable

from gongyi.dependencies import Database, SettingsProvider
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database, check_search
from gongyi.http.auth import Principal
from gongyi.http.platform import platform_routes
from services.review import handlers
from services.review.domain.search_query import build_query, shape_response
from services.review.entrypoints.api import api
from services.review.entrypoints.dependencies import SearchIndex
from services.review.entrypoints.duplicates_routes import DuplicateRoutes
from services.review.entrypoints.experts_routes import ExpertRoutes
from services.review.entrypoints.schemas import SearchQuery, SearchResult
from services.review.entrypoints.scoring_routes import ScoringRoutes
from services.review.entrypoints.screening_routes import ScreeningRoutes
from services.review.entrypoints.search_routes import SearchRoutes, engine_call, search_params
from services.review.entrypoints.selection_routes import SelectionRoutes
from services.review.handlers import calls, screening
from services.review.storage.unit_of_work import ReviewUnitOfWork


class ReviewService(platform_routes(api), DuplicateRoutes,
                    ScreeningRoutes, ExpertRoutes, ScoringRoutes, SelectionRoutes, SearchRoutes):
    name = "review"
    db = Database(ReviewUnitOfWork)
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
        # search_params and build_query are the whole translation: bench/search.py sends the same body raw
        raw = engine_call(lambda: self.search.index.search(build_query(search_params(query))))
        return shape_response(raw, query.size)
