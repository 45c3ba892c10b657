"""Request bodies and query parameters of review's process routes (screening to selection)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.review.entrypoints.schemas import SearchQuery

# No NUL characters anywhere: PostgreSQL text cannot hold them.
Text = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"^[^\x00]*\S[^\x00]*$")]
Key = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
AppId = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=r"^[^\x00]+$")]
Short = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionIn(Strict):
    application_id: AppId
    decision: Literal["pass", "fail"]
    reason: Text = ""


class DecisionsIn(Strict):
    decisions: list[DecisionIn] = Field(min_length=1, max_length=500)


class RefreshQuery(Strict):
    refresh: bool = False


class ContactIn(Strict):
    phone: Short | None = None
    email: Short | None = None


class ExpertIn(Strict):
    expert_id: Key
    name: Short = Field(min_length=1)
    organisation: Short = ""
    credit_code: Short | None = None
    province: Short | None = None
    expertise: list[Key] = Field(default_factory=list, max_length=50, description="category codes")
    unit_codes: list[Key] = Field(default_factory=list, max_length=50, description="recommending units")
    declared_application_ids: list[AppId] = Field(default_factory=list, max_length=500)
    declared_organisations: list[Short] = Field(default_factory=list, max_length=100)
    declared_credit_codes: list[Short] = Field(default_factory=list, max_length=100)
    max_load: int | None = Field(default=None, ge=0, le=10_000)
    call_ids: list[Key] = Field(default_factory=list, max_length=100,
                                description="calls the expert serves; empty = every call")
    contact: ContactIn | None = Field(default=None, description="personal data / 个人信息")


class ExpertUpdateIn(ExpertIn):
    expert_id: Key | None = None  # the path names the expert


class ReasonIn(Strict):
    reason: Reason


class OptionalReasonIn(Strict):
    reason: Text = ""


class AutoAssignQuery(Strict):
    k: int | None = Field(default=None, ge=1, le=50, description="experts per project; default from the call")


class ManualAssignIn(Strict):
    expert_id: Key
    reason: Text = ""


class ReviewIn(Strict):
    scores: dict[Key, Any] = Field(default_factory=dict, max_length=50)
    comments: Text = ""


class RankingQuery(Strict):
    method: Literal["mean", "median", "trimmed_mean"] | None = None
    zscore: bool = False
    trim_min_reviews: int | None = Field(default=None, ge=3, le=100)
    spread_threshold: float | None = Field(default=None, ge=0, le=100)


class CategoryBounds(Strict):
    min: int = Field(ge=0, le=10_000)
    max: int | None = Field(default=None, ge=0, le=10_000, description="omitted or null: only a minimum, no cap")


class ProposalIn(Strict):
    ranking_id: AppId | None = None
    quota: int | None = Field(default=None, ge=1, le=10_000)
    per_category: dict[Key, CategoryBounds] | None = None


class AdjustIn(Strict):
    proposal_id: AppId
    add: list[AppId] = Field(default_factory=list, max_length=500)
    remove: list[AppId] = Field(default_factory=list, max_length=500)
    reason: Reason


class ConfirmIn(Strict):
    proposal_id: AppId
    reserves: int = Field(default=5, ge=0, le=500)


class SimilarQuery(Strict):
    size: int = Field(default=10, ge=1, le=50)
    call_id: list[Short] = Field(default_factory=list, description="only projects of these calls")


class ExportQuery(SearchQuery):
    format: Literal["csv", "xlsx"] = "csv"
    include_contacts: bool = Field(default=False, description="only for staff allowed to see personal data")


class AuditQuery(Strict):
    entity_id: Short | None = None
    actor: Short | None = None
    action: Short | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
