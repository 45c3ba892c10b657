"""Request and response bodies of intake's HTTP API (they also make its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallLoadIn(_In):
    document: dict[str, Any] = Field(description="The call document (contracts/calls/call.schema.json)")
    note: str | None = Field(default=None, max_length=2000, description="Why the rules changed")
    acknowledge_changes: bool = False


class WindowIn(_In):
    closes: datetime = Field(description="New closing time, with its UTC offset (e.g. +08:00)")
    opens: datetime | None = None
    note: str = Field(min_length=1, max_length=2000, description="Why the window changes (kept with the version)")
    acknowledge_changes: bool = False


class DeadlinesIn(_In):
    review_due: datetime | None = Field(
        default=None, description="评审截止 / review deadline, with its UTC offset; null removes it")
    review_remind_days_before: int | None = Field(default=None, ge=0, le=60)
    report_due: list[datetime] | None = Field(
        default=None, max_length=24,
        description="跟踪报告截止 / tracking-report deadlines; null keeps them, [] removes them")
    report_remind_days_before: int | None = Field(default=None, ge=0, le=60)
    note: str = Field(min_length=1, max_length=2000, description="Why the deadlines change (kept with the version)")


class CallLoadOut(BaseModel):
    call_id: str
    version: int
    changed: bool = Field(description="false: the same document as the current version; nothing was stored")
    changes: list[dict[str, Any]] = Field(
        description="every field this version changes: {field, from, to} (e.g. field window.closes); "
        "never empty when changed / 本次变更的每一项"
    )
    tightenings: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the changes that could invalidate accepted applications (code, messages, path, details) / "
        "可能影响已受理申报的收紧项",
    )


class ApplicationCreateIn(_In):
    call_id: str = Field(min_length=1, max_length=64)
    form: dict[str, Any] = Field(
        default_factory=dict, description="The recommendation form (推荐表), may be incomplete while a draft"
    )
    submit: bool = Field(
        default=False,
        description="Also submit to the recommending unit in the same step (创建并提交): the form must then pass "
        "every submission rule, or nothing is created",
    )


class FormIn(_In):
    form: dict[str, Any]


class ReasonIn(_In):
    reason: str = Field(min_length=1, max_length=2000)


class OptionalReasonIn(_In):
    reason: str | None = Field(default=None, max_length=2000)


class OpinionIn(_In):
    opinion: str = Field(min_length=1, max_length=2000, description="The unit's opinion (推荐意见)")


class EvidenceWarningOut(BaseModel):
    """A warning media gave when it stored a piece of evidence the form cites (not a refusal)."""

    evidence_id: str
    path: str = Field(description="where the form cites it, e.g. image_evidence_ids[0]")
    code: str = Field(description="e.g. low_resolution")
    message_zh: str
    message_en: str
    details: dict[str, Any] = {}


class DuplicateFlagOut(BaseModel):
    """A near-duplicate finding from the review service, as the unit and staff see it."""

    suspicion_id: str
    other_application_id: str
    call_id: str | None = None
    other_call_id: str | None = None
    score: float | None = None
    reasons: list[dict[str, Any]] = []
    cluster_id: str | None = None
    cross_call: bool = False
    status: str = Field(description="open (疑似重复，待核查) or settled (已处理)")
    outcome: str | None = Field(default=None, description="same_project or different_projects, once settled")
    keep_id: str | None = None
    action: str | None = None
    decided_by: str | None = None
    note: str | None = None
    flagged_at: datetime | None = None
    settled_at: datetime | None = None


class ApplicationOut(BaseModel):
    id: str
    call_id: str
    call_version: int
    state: str
    state_label_zh: str
    unit_code: str | None
    form: dict[str, Any]
    unit_opinion: str | None = None
    reason: str | None = None
    batch_id: str | None = None
    submitted_at: datetime | None = None
    forwarded_at: datetime | None = None
    history: list[dict[str, Any]] = []
    imported_by: str | None = Field(default=None, description="the unit that imported it from XLSX, if it did")
    duplicate_flags: list[DuplicateFlagOut] | None = Field(
        default=None, description="review's duplicate findings; shown to the unit and staff, null for the applicant"
    )
    evidence_warnings: list[EvidenceWarningOut] = Field(
        default_factory=list,
        description="media's warnings on the evidence the form cites (e.g. low_resolution under 1280×720) / "
        "证明材料提示（如图片分辨率低于1280×720）",
    )


class ApplicationListQuery(_In):
    call_id: str | None = Field(default=None, max_length=64)
    state: str | None = Field(default=None, max_length=20)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class ApplicationSummary(BaseModel):
    id: str
    call_id: str
    state: str
    unit_code: str | None
    project_name: str | None
    updated_at: datetime
    imported_by: str | None = None
    duplicate_flags: list[DuplicateFlagOut] | None = None


class ApplicationList(BaseModel):
    items: list[ApplicationSummary]


class BatchIn(_In):
    application_ids: list[str] = Field(min_length=1, max_length=1000)
    idempotency_key: str = Field(min_length=8, max_length=120)
    endorse_opinion: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="Endorse every submitted application of the batch with this opinion, then forward them "
        "all (批量审核并推荐); without it every application must already be endorsed",
    )


class BatchOut(BaseModel):
    batch_id: str
    unit_code: str
    forwarded_at: str
    items: list[dict[str, Any]]
    replayed: bool


class ImportQuery(_In):
    call_id: str = Field(min_length=1, max_length=64, description="the call the workbook's rows apply to")


class ImportRowError(BaseModel):
    row: int = Field(description="the Excel row number (the header is row 1)")
    issues: list[dict[str, Any]]


class ImportRowCreated(BaseModel):
    row: int
    application_id: str
    project_name: str | None = None


class ImportReport(BaseModel):
    import_id: str
    call_id: str
    unit_code: str
    created: list[ImportRowCreated]
    errors: list[ImportRowError]
    replayed: bool
