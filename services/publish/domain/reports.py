"""Progress reports (信息报送) from selected projects and the typical-case library.

The report kinds come from the call (the 2018 provincial plan names 工作动态, 重大活动,
典型案例, 阶段性成果). A report is submitted, then accepted or returned with a note; a returned
one may be revised and resubmitted. Accepted reports may be published as typical cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gongyi.errors import Conflict, InvalidInput, Issue

from .domain_events import iso, make_event
from .public_view import is_public_url, redact_text
from .selection import EvidenceRef
from .year_end import year_end_pdf, year_end_summary, year_end_xlsx

__all__ = [
    "DEFAULT_REPORT_KINDS",
    "ProgressReport",
    "ReportState",
    "TypicalCase",
    "publish_as_case",
    "year_end_summary",
    "year_end_xlsx",
    "year_end_pdf",
]

# code -> Chinese label; a call may configure its own mapping.
DEFAULT_REPORT_KINDS: dict[str, str] = {
    "work_update": "工作动态",
    "major_event": "重大活动",
    "typical_case": "典型案例",
    "milestone": "阶段性成果",
}

MAX_TITLE_CHARS = 100
MAX_BODY_CHARS = 5000

Event = dict[str, Any]


class ReportState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    RETURNED = "returned"


def _validate(title: str, body: str, kind: str, kinds: Mapping[str, str]) -> None:
    issues: list[Issue] = []
    if kind not in kinds:
        issues.append(
            Issue(
                "report_kind_unknown",
                "报送类型不在本次活动允许的范围内",
                "This report kind is not configured for the call",
                "kind",
                {"allowed": list(kinds)},
            )
        )
    if not 1 <= len(title.strip()) <= MAX_TITLE_CHARS:
        issues.append(
            Issue(
                "title_length",
                f"标题须为 1–{MAX_TITLE_CHARS} 字",
                f"Title must be 1-{MAX_TITLE_CHARS} characters",
                "title",
            )
        )
    if not 1 <= len(body.strip()) <= MAX_BODY_CHARS:
        issues.append(
            Issue(
                "body_length",
                f"正文须为 1–{MAX_BODY_CHARS} 字",
                f"Body must be 1-{MAX_BODY_CHARS} characters",
                "body",
            )
        )
    if issues:
        raise InvalidInput(issues)


@dataclass
class ProgressReport:
    id: str
    application_id: str
    kind: str
    title: str
    body: str
    submitted_by: str
    submitted_at: dt.datetime
    evidence: list[EvidenceRef] = field(default_factory=list)
    state: ReportState = ReportState.SUBMITTED
    review_note: str = ""
    reviewed_by: str = ""
    reviewed_at: dt.datetime | None = None
    revision: int = 1

    @classmethod
    def submit(
        cls,
        report_id: str,
        application_id: str,
        kind: str,
        title: str,
        body: str,
        submitted_by: str,
        now: dt.datetime,
        *,
        selected_ids: Sequence[str] | set[str],
        kinds: Mapping[str, str] = DEFAULT_REPORT_KINDS,
        evidence: Sequence[EvidenceRef] = (),
    ) -> tuple[ProgressReport, list[Event]]:
        """Only projects on a published list report progress (``selected_ids``)."""
        if application_id not in selected_ids:
            raise Conflict(
                "project_not_selected",
                "仅入选项目可报送工作信息",
                "Only selected projects can submit progress reports",
                {"application_id": application_id},
            )
        _validate(title, body, kind, kinds)
        report = cls(
            report_id, application_id, kind, title.strip(), body.strip(), submitted_by, now, list(evidence)
        )
        return report, [report._event("report.submitted.v1", now)]

    def _event(self, event_type: str, now: dt.datetime) -> Event:
        return make_event(
            event_type,
            self.id,
            now,
            {
                "report_id": self.id,
                "application_id": self.application_id,
                "kind": self.kind,
                "title": self.title,
                "state": self.state.value,
                "revision": self.revision,
                "review_note": self.review_note,
            },
        )

    def _review(self, accept: bool, note: str, reviewer: str, now: dt.datetime) -> list[Event]:
        if self.state is not ReportState.SUBMITTED:
            raise Conflict(
                "report_not_submitted",
                "该报送信息不在待审核状态",
                "This report is not awaiting review",
                {"state": self.state.value},
            )
        if not accept and not note.strip():
            raise InvalidInput(
                [
                    Issue(
                        "return_note_required",
                        "退回时须说明理由",
                        "A note is required to return a report",
                        "note",
                    )
                ]
            )
        self.state = ReportState.ACCEPTED if accept else ReportState.RETURNED
        self.review_note = note.strip()
        self.reviewed_by = reviewer
        self.reviewed_at = now
        return [self._event("report.accepted.v1" if accept else "report.returned.v1", now)]

    def accept(self, reviewer: str, now: dt.datetime, note: str = "") -> list[Event]:
        return self._review(True, note, reviewer, now)

    def return_for_revision(self, reviewer: str, now: dt.datetime, note: str) -> list[Event]:
        return self._review(False, note, reviewer, now)

    def resubmit(
        self, title: str, body: str, now: dt.datetime, *, kinds: Mapping[str, str] = DEFAULT_REPORT_KINDS
    ) -> list[Event]:
        if self.state is not ReportState.RETURNED:
            raise Conflict(
                "report_not_returned",
                "只有被退回的报送信息可以修改后重新提交",
                "Only a returned report can be revised and resubmitted",
                {"state": self.state.value},
            )
        _validate(title, body, self.kind, kinds)
        self.title, self.body = title.strip(), body.strip()
        self.state = ReportState.SUBMITTED
        self.revision += 1
        self.submitted_at = now
        return [self._event("report.submitted.v1", now)]


@dataclass(frozen=True)
class TypicalCase:
    """A published case: public text only (contact details in the report body are redacted)."""

    id: str
    report_id: str
    application_id: str
    project_name: str
    title: str
    summary: str
    evidence: tuple[EvidenceRef, ...]
    published_at: dt.datetime

    def public_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "application_id": self.application_id,
            "project_name": self.project_name,
            "title": self.title,
            "summary": self.summary,
            "evidence": [{"title": e.title, "url": e.url, "kind": e.kind} for e in self.evidence],
            "published_at": iso(self.published_at),
        }


def publish_as_case(
    report: ProgressReport,
    case_id: str,
    project_name: str,
    now: dt.datetime,
    *,
    title: str | None = None,
    summary: str | None = None,
) -> tuple[TypicalCase, list[Event]]:
    """Put an accepted report into the case library (staff may edit title and summary)."""
    if report.state is not ReportState.ACCEPTED:
        raise Conflict(
            "report_not_accepted",
            "只有审核通过的报送信息可以作为典型案例发布",
            "Only an accepted report can be published as a typical case",
            {"state": report.state.value},
        )
    case = TypicalCase(
        id=case_id,
        report_id=report.id,
        application_id=report.application_id,
        project_name=project_name,
        title=redact_text(title or report.title),
        summary=redact_text(summary or report.body),
        evidence=tuple(
            EvidenceRef(redact_text(e.title), e.url, e.kind, True)
            for e in report.evidence
            if e.public and is_public_url(e.url)
        ),
        published_at=now,
    )
    return case, [
        make_event("case.published.v1", case.id, now, case.public_dict() | {"report_id": report.id})
    ]
