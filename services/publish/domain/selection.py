"""The confirmed selection snapshot the publish service receives from review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EVIDENCE_KINDS = ("image", "video", "media_report", "link", "document")


@dataclass(frozen=True)
class EvidenceRef:
    """A piece of evidence; only ``public=True`` ones ever reach a public page."""

    title: str
    url: str
    kind: str = "link"
    public: bool = False


@dataclass(frozen=True)
class SelectionEntry:
    """One ranked project. ``rank`` is the position on the list this object belongs to;
    ``review_rank`` keeps the rank review gave it when a final list renumbers."""

    application_id: str
    project_name: str
    organisation: str
    category: str
    province: str
    unit: str
    rank: int
    score: float | None = None
    summary: str = ""
    evidence: tuple[EvidenceRef, ...] = field(default_factory=tuple)
    applicant_type: str = ""
    review_rank: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SelectionEntry:
        evidence = tuple(
            e if isinstance(e, EvidenceRef) else EvidenceRef(**e) for e in data.get("evidence", ())
        )
        score = data.get("score")
        return cls(
            application_id=str(data["application_id"]),
            project_name=str(data["project_name"]),
            organisation=str(data["organisation"]),
            category=str(data["category"]),
            province=str(data.get("province", "")),
            unit=str(data.get("unit", "")),
            rank=int(data["rank"]),
            score=None if score is None else float(score),
            summary=str(data.get("summary", "")),
            evidence=evidence,
            applicant_type=str(data.get("applicant_type", "")),
            review_rank=data.get("review_rank"),
        )
