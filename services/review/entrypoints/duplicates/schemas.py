"""Duplicate detection's request and response schemas (the OpenAPI document shows them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class QueueEntry(DuplicateApplication):
    score: float = Field(description="same score as a flagged pair's / 与疑似重复同一评分")
    flagged: bool = Field(description="score reaches the flag threshold / 达到疑似重复阈值")
    reasons: list[Reason]
    counter_reasons: list[Reason]
    context: list[Reason] = Field(description="other channel, other call / 不同推荐单位、不同征集活动")
    suspicion_id: str | None = Field(description="the recorded suspicion of the pair, if any / 已记录的疑似重复")
    suspicion_status: Literal["open", "settled", "cleared"] | None


class DuplicateQueue(BaseModel):
    application: DuplicateApplication
    flag_threshold: float
    items: list[QueueEntry] = Field(description="most similar first, flagged or not / 按相似度排序，含未达阈值者")
    suspicions: list[SuspicionOut]


class DuplicateQueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    top_n: int = Field(default=10, ge=1, le=50, description="how many similar projects / 返回条数")
