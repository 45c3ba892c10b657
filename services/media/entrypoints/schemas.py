"""Request and response bodies of media's HTTP API (they also make its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

UploadKind = Literal["image", "video", "document"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UploadQuery(_In):
    kind: UploadKind = Field(description="What the file is meant to be; checked against its content")
    filename: str | None = Field(
        default=None, max_length=4096, description="Shown to people only; never used to name or type the object"
    )


class UploadStartIn(_In):
    kind: UploadKind
    size: int = Field(ge=0, le=1 << 40, description="Bytes the client will PUT")
    filename: str | None = Field(default=None, max_length=4096)


class UploadStartOut(BaseModel):
    upload_id: str
    url: str = Field(description="Presigned PUT into the quarantine bucket")
    method: str
    expires_at: datetime
    max_bytes: int


class MediaReportIn(_In):
    url: str = Field(max_length=4096, description="The article's http(s) address")
    outlet: str = Field(max_length=1000)
    title: str = Field(max_length=1000)
    published_on: date
    screenshot_evidence_id: str = Field(max_length=200, description="A stored image you uploaded (清晰截图)")


class Warning(BaseModel):
    code: str
    message_zh: str
    message_en: str
    path: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class EvidenceOut(BaseModel):
    id: str
    kind: Literal["image", "video", "document", "media_report"]
    status: str
    mime: str | None = None
    size: int | None = None
    sha256: str | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    phash: str | None = None
    display_name: str | None = None
    link: str | None = None
    normalised_link: str | None = None
    outlet: str | None = None
    title: str | None = None
    published_on: date | None = None
    screenshot_evidence_id: str | None = None
    warnings: list[Warning] = Field(default_factory=list)
    attached: bool = False
    public: bool = False
    stored_at: datetime | None = None


class DownloadOut(BaseModel):
    url: str = Field(description="Short-lived presigned GET (Content-Disposition: attachment)")
    expires_at: datetime
    content_type: str
    filename: str


def evidence_out(row: dict[str, Any], owner_view: bool) -> EvidenceOut:
    """The metadata a reader sees; who else it is attached to is for the owner and staff only."""
    fields = {k: row.get(k) for k in EvidenceOut.model_fields if k in row and k not in ("attached", "warnings")}
    return EvidenceOut(
        **fields,
        warnings=row.get("warnings") or [],
        attached=bool(row.get("attached_to")) if owner_view else False,
    )
