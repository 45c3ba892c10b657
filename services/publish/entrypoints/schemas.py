"""Request and response bodies of publish's HTTP API (they also make its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenIn(_In):
    working_days: int | None = Field(
        default=None, ge=1, le=30, description="Notice length in Chinese working days (default: the call's)"
    )


class ObjectionIn(_In):
    application_id: str = Field(min_length=1, max_length=64, description="The project objected to")
    name: str = Field(max_length=200, description="The objector's name (kept confidential)")
    contact: str = Field(max_length=200, description="Mobile, landline with area code, or e-mail (confidential)")
    relation: str = Field(max_length=500, description="Relation to the project")
    reason: str = Field(max_length=5000, description="Facts, at least 20 characters")
    evidence_ids: list[str] = Field(default_factory=list, max_length=20,
                                    description="Evidence uploaded through media (ownership is not checked)")


class ObjectionReceipt(BaseModel):
    tracking_code: str
    status: str
    merged: bool = Field(description="True when this was merged into the same person's earlier objection")
    notice_ends_at: datetime | None


class ObjectionStatusOut(BaseModel):
    tracking_code: str
    notice_id: str
    status: str
    filed_at: str
    resolved_at: str | None
    resolution_note_zh: str


class ResolveIn(_In):
    outcome: Literal["upheld", "dismissed"]
    note_zh: str = Field(min_length=1, max_length=2000, description="The decision (处理意见)")
    replace: bool = Field(default=True, description="Upheld: bring in the next-ranked reserve")
    no_replacement_reason_zh: str = Field(default="", max_length=1000)


class ScheduleIn(_In):
    publish_at: AwareDatetime | None = Field(default=None, description="An explicit moment, e.g. a conference")
    key_date: str | None = Field(default=None, max_length=64,
                                 description="One of the call's key dates, by date (MM-DD) or label")


class NoticeListQuery(_In):
    call_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class FormatQuery(_In):
    format: Literal["json", "xlsx", "pdf"] = "json"


class ReportIn(_In):
    application_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=64, description="A report kind of the call, e.g. work_update")
    title: str = Field(max_length=500)
    body: str = Field(max_length=20000)
    evidence_ids: list[str] = Field(default_factory=list, max_length=20)


class ReportReviewIn(_In):
    note: str = Field(default="", max_length=2000)


class ReportResubmitIn(_In):
    title: str = Field(max_length=500)
    body: str = Field(max_length=20000)


class ReportListQuery(_In):
    call_id: str | None = Field(default=None, max_length=64)
    state: Literal["submitted", "accepted", "returned"] | None = None
    application_id: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=100_000)


class CaseIn(_In):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    summary: str | None = Field(default=None, min_length=1, max_length=5000)


class PublicEvidenceOut(BaseModel):
    title: str
    url: str
    kind: str


class PublicEntryOut(BaseModel):
    application_id: str
    rank: int
    project_name: str
    organisation: str
    category: str
    province: str
    unit: str
    score: float | None = None
    summary: str
    evidence: list[PublicEvidenceOut]


class PublicNoticeOut(BaseModel):
    id: str
    call_id: str
    call_name: str
    title: str
    state: str
    working_days: int
    rehearsal: bool = Field(False, description="A rehearsal (演练): not a real list; kept out of feeds and lists")
    period_minutes: float | None = Field(None, description="A rehearsal's notice period in minutes, if so set")
    opens_at: datetime | None
    ends_at: datetime | None
    publish_at: datetime | None
    published_at: datetime | None
    entries: list[PublicEntryOut] = Field(description="On notice: the current list; published: the final list")
    objections: dict[str, int] = Field(description="Counts only")


class NoticeList(BaseModel):
    items: list[PublicNoticeOut]


class StaffObjectionOut(BaseModel):
    id: str
    tracking_code: str
    application_id: str
    name: str
    contact: str
    relation: str
    reasons: list[str]
    evidence_ids: list[str]
    filed_at: datetime
    status: str
    resolution_note_zh: str
    resolved_by: str
    resolved_at: datetime | None
    replacement: dict[str, Any] | None
    history: list[dict[str, Any]]


class StaffNoticeOut(PublicNoticeOut):
    reserves: list[PublicEntryOut]
    replacements: list[dict[str, Any]]
    key_dates: list[dict[str, str]]


class StaffObjectionList(BaseModel):
    items: list[StaffObjectionOut]


class ReportOut(BaseModel):
    id: str
    call_id: str
    application_id: str
    unit_code: str | None
    kind: str
    title: str
    body: str
    state: str
    revision: int
    review_note: str
    submitted_at: datetime
    evidence: list[dict[str, str]]


class ReportList(BaseModel):
    items: list[ReportOut]


class CaseOut(BaseModel):
    id: str
    application_id: str
    project_name: str
    title: str
    summary: str
    evidence: list[PublicEvidenceOut]
    published_at: str


class CaseList(BaseModel):
    items: list[CaseOut]
