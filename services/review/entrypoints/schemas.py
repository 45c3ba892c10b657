"""Request and response bodies of review's HTTP API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=200, description="Chinese full text / 全文检索")
    call_id: list[str] = Field(default_factory=list)
    category: list[str] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list)
    province: list[str] = Field(default_factory=list)
    unit_code: list[str] = Field(default_factory=list)
    applicant_type: list[str] = Field(default_factory=list)
    start_year_from: int | None = Field(default=None, ge=1900, le=2100)
    start_year_to: int | None = Field(default=None, ge=1900, le=2100)
    score_min: float | None = Field(default=None, ge=0, le=100)
    score_max: float | None = Field(default=None, ge=0, le=100)
    duplicate_flag: bool | None = None
    sort: Literal["relevance", "time", "score"] = "relevance"
    size: int = Field(default=20, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=2000)


class SearchHit(BaseModel):
    """One project of a result list: its list fields (the long texts come from GET projects/{id})."""

    application_id: str
    call_id: str
    status: str
    unit_code: str | None = None
    category: str | None = None
    project_name: str | None = None
    applicant_name: str | None = None
    applicant_type: str | None = None
    credit_code: str | None = None
    province: str | None = None
    start_year: int | None = None
    still_running: bool | None = None
    summary: str | None = None
    forwarded_at: str | None = None
    duplicate_flag: bool | None = None
    score: float | None = None
    highlight: dict[str, list[str]] = Field(
        default_factory=dict, description="Matched fragments per field, <em>-tagged; empty without q")
    relevance: float | None = None


class SearchResult(BaseModel):
    total: int
    items: list[SearchHit]
    facets: dict[str, list[dict[str, Any]]] = Field(
        description="Value counts per filter field over the whole result set; on the first page only (empty with a "
        "cursor)")
    next_cursor: str | None
