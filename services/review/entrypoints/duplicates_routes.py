"""Duplicate detection's routes and event handlers, mixed into the review service."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gongyi.background import BackgroundLoop
from gongyi.dependencies import Database
from gongyi.events.consumer import event_handler
from gongyi.http.auth import Principal
from gongyi.search import make_search_client
from services.review.entrypoints.api import api
from services.review.handlers import duplicates as dup
from services.review.storage.duplicates.index import DuplicateIndex
from services.review.storage.unit_of_work import ReviewUnitOfWork

log = logging.getLogger(__name__)


class DuplicateChecks(BackgroundLoop):
    """Keeps the candidate index caught up with ``dup_signals`` and runs the checks, one at a time.

    Every replica runs this loop; ``dup_keys`` and the postings are changed only under a
    PostgreSQL advisory lock (storage/duplicates/repository.lock_postings), so replicas cannot interleave
    their posting writes. Stop keys need no separate refresh: each posting carries its count."""

    loop_name = "review.duplicate-checks"
    idle_wait = 0.5
    # as SearchIndex.linger: a pass gathers what arrives meanwhile (fewer, larger posting writes
    # and check transactions)
    linger = 0.2
    batch = 200

    def setup(self) -> None:
        super().setup()
        settings = self.container.config["GONGYI"]
        self.client = make_search_client(settings.search_url)
        self.index = DuplicateIndex(self.client, settings.search_index_prefix)
        self._ensured = False

    def _db(self) -> Database:
        return next(d for d in self.container.dependencies if isinstance(d, Database))

    def make_uow(self) -> ReviewUnitOfWork:
        return self._db().make_uow()

    def get_dependency(self, worker_ctx) -> DuplicateChecks:  # noqa: ANN001
        return self

    def step(self) -> int:
        engine = self._db().engine
        if not self._ensured:
            if self.index.ensure():  # a new, empty index: fill it from SQL first
                dup.rebuild_index(engine, self.index)
            self._ensured = True
        return dup.sync_and_check(engine, self.index, self.make_uow, self.batch)

    def describe_failure(self, exc: Exception) -> str:
        return f"duplicate checks failed ({exc})"  # SQL keeps what is pending

    def on_failure(self, exc: Exception) -> None:
        self._ensured = False


class Reason(BaseModel):
    code: str
    message_zh: str
    message_en: str
    weight: float | None = None


class SettlementOut(BaseModel):
    settlement_id: str
    outcome: str
    keep_id: str | None
    action: str | None
    decided_by: str
    decided_at: str | None
    note: str


class DuplicateApplication(BaseModel):
    application_id: str
    call_id: str | None
    unit_code: str | None
    project_name: str | None
    org_name: str | None


class SuspicionOut(BaseModel):
    suspicion_id: str
    application_ids: list[str]
    call_ids: list[str | None] = Field(description="the call of each application / 各申报所属征集活动")
    score: float
    reasons: list[Reason]
    counter_reasons: list[Reason]
    cross_call: bool
    cross_unit: bool
    cluster_id: str
    status: Literal["open", "settled", "cleared"]
    created_at: str
    updated_at: str
    settlement: SettlementOut | None = None


class SuspicionDetail(SuspicionOut):
    applications: list[DuplicateApplication]
    cluster_application_ids: list[str]


class DuplicateCluster(BaseModel):
    cluster_id: str
    application_ids: list[str]
    suspicion_ids: list[str]


class SuspicionList(BaseModel):
    total: int
    items: list[SuspicionOut]
    clusters: list[DuplicateCluster]


class SuspicionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str | None = Field(default=None, max_length=64)
    status: Literal["open", "settled", "cleared"] | None = None
    size: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class SettleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["same_project", "different_projects"]
    keep_id: str | None = Field(default=None, max_length=64, description="same_project: the application kept")
    action: Literal["withdrawn", "merged"] | None = Field(
        default=None, description="same_project: what happens to the other (default withdrawn)"
    )
    note: str = Field(default="", max_length=2000)


_NOT_FOUND = (404, "duplicate_not_found", "no such suspected duplicate")


class DuplicateRoutes:
    duplicate_checks = DuplicateChecks()

    @event_handler("intake", "application.forwarded.v1")
    def dup_on_application_forwarded(self, event: dict) -> None:
        with self.db as uow:
            dup.record_application(uow, event)
        self.duplicate_checks.kick()

    @event_handler("media", "evidence.stored.v1")
    def dup_on_evidence_stored(self, event: dict) -> None:
        with self.db as uow:
            dup.record_evidence(uow, event)
        self.duplicate_checks.kick()

    @event_handler("intake", "application.withdrawn.v1")
    def dup_on_application_withdrawn(self, event: dict) -> None:
        with self.db as uow:
            dup.record_withdrawn(uow, event)
        self.duplicate_checks.kick()

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
        "/duplicates/{suspicion_id}",
        summary="One suspected duplicate / 疑似重复详情",
        roles=("staff",),
        response=SuspicionDetail,
        errors=[_NOT_FOUND],
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
            _NOT_FOUND,
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
