"""Objections (异议) the public raises against a project during the notice period.

An objector's name and contact are personal data: they stay in this aggregate, are shown only
to organiser staff, and never enter an event, a public page or an export. Duplicates from the
same person about the same project (same normalised contact) merge into one objection whose
reasons are appended, so staff judge one case and the objector keeps one tracking code.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from gongyi.errors import Conflict, InvalidInput, Issue
from gongyi.timestamps import rfc3339

from .rate_limit import RateLimiter
from .tracking_codes import new_tracking_code

__all__ = [
    "MIN_REASON_CHARS",
    "MAX_REASON_CHARS",
    "MAX_EVIDENCE",
    "ObjectionInput",
    "ObjectionStatus",
    "Objection",
    "ReasonEntry",
    "RateLimiter",
    "normalise_contact",
    "contact_kind",
    "parse_objection",
    "find_duplicate",
]

MIN_REASON_CHARS = 20
MAX_REASON_CHARS = 2000
MAX_EVIDENCE = 10

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")  # area code + number, e.g. 0371 65905052


def normalise_contact(contact: str) -> str:
    """One key per person: e-mails lower-cased, phones reduced to digits without +86."""
    text = unicodedata.normalize("NFKC", contact).strip()
    if "@" in text:
        return text.lower()
    digits = re.sub(r"[\s\-()（）]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def contact_kind(contact: str) -> str | None:
    """``email``, ``mobile`` or ``landline``; None when it is none of them."""
    key = normalise_contact(contact)
    if _EMAIL.match(key):
        return "email"
    if _MOBILE.match(key):
        return "mobile"
    if _LANDLINE.match(key):
        return "landline"
    return None


class ObjectionInput(BaseModel):
    """What the public form sends."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    name: str
    contact: str
    relation: str
    reason: str
    evidence_ids: list[str] = []


def _issue(code: str, zh: str, en: str, path: str, **details: Any) -> Issue:
    return Issue(code, zh, en, path, details)


def parse_objection(payload: dict[str, Any]) -> ObjectionInput:
    """Validate a form payload; every problem is one ``Issue`` in ``InvalidInput``."""
    try:
        data = ObjectionInput.model_validate(payload)
    except ValidationError as exc:
        issues = [
            _issue(
                "invalid_field",
                "字段缺失或格式不正确",
                f"Missing or malformed field: {err['msg']}",
                ".".join(str(p) for p in err["loc"]),
            )
            for err in exc.errors()
        ]
        raise InvalidInput(issues) from exc
    issues: list[Issue] = []
    if not 1 <= len(data.name) <= 50:
        issues.append(_issue("name_length", "姓名须为 1–50 个字", "Name must be 1-50 characters", "name"))
    if contact_kind(data.contact) is None:
        issues.append(
            _issue(
                "contact_invalid",
                "请填写有效的手机号码、固定电话或电子邮箱",
                "Give a valid mobile number, landline or e-mail address",
                "contact",
            )
        )
    if not 1 <= len(data.relation) <= 100:
        issues.append(
            _issue(
                "relation_length",
                "请说明与被异议项目的关系（不超过 100 字）",
                "State your relation to the project (at most 100 characters)",
                "relation",
            )
        )
    if len(data.reason) < MIN_REASON_CHARS:
        issues.append(
            _issue(
                "reason_too_short",
                f"异议理由不少于 {MIN_REASON_CHARS} 字，请写明具体事实",
                f"The reason must be at least {MIN_REASON_CHARS} characters and state facts",
                "reason",
                min=MIN_REASON_CHARS,
                actual=len(data.reason),
            )
        )
    if len(data.reason) > MAX_REASON_CHARS:
        issues.append(
            _issue(
                "reason_too_long",
                f"异议理由不超过 {MAX_REASON_CHARS} 字",
                f"The reason must be at most {MAX_REASON_CHARS} characters",
                "reason",
                max=MAX_REASON_CHARS,
                actual=len(data.reason),
            )
        )
    if len(data.evidence_ids) > MAX_EVIDENCE:
        issues.append(
            _issue(
                "too_much_evidence",
                f"证明材料最多 {MAX_EVIDENCE} 个",
                f"At most {MAX_EVIDENCE} evidence files",
                "evidence_ids",
            )
        )
    if issues:
        raise InvalidInput(issues)
    return data


class ObjectionStatus(StrEnum):
    FILED = "filed"
    UPHELD = "upheld"
    REJECTED = "rejected"


@dataclass
class ReasonEntry:
    text: str
    filed_at: dt.datetime


@dataclass
class Replacement:
    """What an upheld objection did to the list."""

    removed_application_id: str
    replacement_application_id: str | None
    reason_zh: str
    reason_en: str
    at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "removed_application_id": self.removed_application_id,
            "replacement_application_id": self.replacement_application_id,
            "reason_zh": self.reason_zh,
            "reason_en": self.reason_en,
            "at": rfc3339(self.at),
        }


@dataclass
class Objection:
    id: str
    tracking_code: str
    notice_id: str
    application_id: str
    name: str
    contact: str
    contact_key: str
    relation: str
    reasons: list[ReasonEntry]
    evidence_ids: list[str]
    filed_at: dt.datetime
    status: ObjectionStatus = ObjectionStatus.FILED
    resolution_note_zh: str = ""
    resolved_by: str = ""
    resolved_at: dt.datetime | None = None
    replacement: Replacement | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        objection_id: str,
        notice_id: str,
        application_id: str,
        data: ObjectionInput,
        now: dt.datetime,
        code_factory: Callable[[], str] = new_tracking_code,
    ) -> Objection:
        return cls(
            id=objection_id,
            tracking_code=code_factory(),
            notice_id=notice_id,
            application_id=application_id,
            name=data.name,
            contact=data.contact,
            contact_key=normalise_contact(data.contact),
            relation=data.relation,
            reasons=[ReasonEntry(data.reason, now)],
            evidence_ids=list(dict.fromkeys(data.evidence_ids)),
            filed_at=now,
        )

    @property
    def resolved(self) -> bool:
        return self.status is not ObjectionStatus.FILED

    @property
    def reason_text(self) -> str:
        return "\n\n".join(r.text for r in self.reasons)

    def merge(self, data: ObjectionInput, now: dt.datetime) -> None:
        """Append a repeat submission; a rejected objection with new reasons is looked at again."""
        if self.status is ObjectionStatus.UPHELD:
            raise Conflict(
                "objection_already_upheld",
                "该异议已成立并处理完毕",
                "This objection was already upheld and acted on",
                {"tracking_code": self.tracking_code},
            )
        if self.status is ObjectionStatus.REJECTED:
            self.history.append(
                {
                    "status": self.status.value,
                    "note_zh": self.resolution_note_zh,
                    "at": _iso(self.resolved_at),
                }
            )
            self.status = ObjectionStatus.FILED
            self.resolution_note_zh = ""
            self.resolved_by = ""
            self.resolved_at = None
        if data.reason not in (r.text for r in self.reasons):
            self.reasons.append(ReasonEntry(data.reason, now))
        for eid in data.evidence_ids:
            if eid not in self.evidence_ids:
                self.evidence_ids.append(eid)

    def resolve(self, upheld: bool, note_zh: str, resolved_by: str, now: dt.datetime) -> None:
        if self.resolved:
            raise Conflict(
                "objection_already_resolved",
                "该异议已处理",
                "This objection has already been resolved",
                {"tracking_code": self.tracking_code, "status": self.status.value},
            )
        if not note_zh.strip():
            raise InvalidInput(
                [
                    _issue(
                        "resolution_note_required",
                        "请填写处理意见",
                        "A resolution note is required",
                        "note_zh",
                    )
                ]
            )
        self.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.REJECTED
        self.resolution_note_zh = note_zh.strip()
        self.resolved_by = resolved_by
        self.resolved_at = now

    def status_for_objector(self) -> dict[str, Any]:
        """What the tracking-code lookup shows: status and outcome, no identity, no reasons."""
        return {
            "tracking_code": self.tracking_code,
            "status": self.status.value,
            "filed_at": rfc3339(self.filed_at),
            "resolved_at": _iso(self.resolved_at),
            "resolution_note_zh": self.resolution_note_zh,
        }

    def event_data(self) -> dict[str, Any]:
        """Event payload: identifiers and state only, never the objector's identity or reason."""
        return {
            "objection_id": self.id,
            "notice_id": self.notice_id,
            "application_id": self.application_id,
            "tracking_code": self.tracking_code,
            "status": self.status.value,
            "reason_count": len(self.reasons),
            "evidence_ids": list(self.evidence_ids),
            "filed_at": rfc3339(self.filed_at),
        }


def find_duplicate(
    objections: Iterable[Objection], notice_id: str, application_id: str, contact: str
) -> Objection | None:
    key = normalise_contact(contact)
    for objection in objections:
        if (objection.notice_id, objection.application_id, objection.contact_key) == (
            notice_id,
            application_id,
            key,
        ):
            return objection
    return None


def _iso(moment: dt.datetime | None) -> str | None:
    return rfc3339(moment)
