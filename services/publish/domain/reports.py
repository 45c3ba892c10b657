"""Progress reports (信息报送) from selected projects and the typical-case library.

The report kinds come from the call (the 2018 provincial plan names 工作动态, 重大活动,
典型案例, 阶段性成果). Who files and who confirms (``MOVES``):

- the project's own team (role ``applicant`` of the applicant organisation) files a report; it
  waits for the project's recommending unit, which confirms it (then staff review it) or returns it
  to the team with a note;
- the recommending unit or staff file reports that go straight to staff review;
- staff accept a report or return it with a note; a returned one may be revised and resubmitted by
  the team (it waits for the unit again), the unit or staff (straight to review).

Accepted reports may be published as typical cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gongyi.errors import Conflict, Forbidden, InvalidInput, Issue

from .domain_events import iso, make_event
from .public_view import is_public_url, redact_text
from .selection import EvidenceRef
from .year_end import year_end_pdf, year_end_summary, year_end_xlsx

__all__ = [
    "DEFAULT_REPORT_KINDS",
    "MOVES",
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
    AWAITING_UNIT = "awaiting_unit"  # filed by the project's team, not yet confirmed by its unit
    SUBMITTED = "submitted"  # awaiting staff review
    ACCEPTED = "accepted"
    RETURNED = "returned"


# every move: the states it starts from and the roles that may make it (the handlers also check
# that an applicant or unit belongs to the project)
MOVES: dict[str, tuple[frozenset[ReportState], frozenset[str]]] = {
    "confirm": (frozenset({ReportState.AWAITING_UNIT}), frozenset({"unit"})),
    "unit_return": (frozenset({ReportState.AWAITING_UNIT}), frozenset({"unit"})),
    "accept": (frozenset({ReportState.SUBMITTED}), frozenset({"staff"})),
    "return": (frozenset({ReportState.SUBMITTED}), frozenset({"staff"})),
    "resubmit": (frozenset({ReportState.RETURNED}), frozenset({"applicant", "unit", "staff"})),
}
FILERS = frozenset({"applicant", "unit", "staff"})


def state_after_filing(role: str) -> ReportState:
    """The team's reports wait for their unit; the unit's and staff's go to staff review."""
    return ReportState.AWAITING_UNIT if role == "applicant" else ReportState.SUBMITTED


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
    filed_by_role: str = "unit"
    confirmed_by: str = ""
    confirmed_at: dt.datetime | None = None

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
        role: str = "unit",
    ) -> tuple[ProgressReport, list[Event]]:
        """Only projects on a published list report progress (``selected_ids``); ``role`` is the
        filer's (``applicant``: the project's team, whose report waits for its unit)."""
        if role not in FILERS:
            raise Forbidden("forbidden_role", "当前角色不能报送工作信息", f"Role {role} may not file reports")
        if application_id not in selected_ids:
            raise Conflict(
                "project_not_selected",
                "仅入选项目可报送工作信息",
                "Only selected projects can submit progress reports",
                {"application_id": application_id},
            )
        _validate(title, body, kind, kinds)
        report = cls(
            report_id, application_id, kind, title.strip(), body.strip(), submitted_by, now, list(evidence),
            state=state_after_filing(role), filed_by_role=role,
        )
        return report, [report._event("report.submitted.v1", now, role)]

    def _check(self, move: str, role: str) -> None:
        sources, roles = MOVES[move]
        if role not in roles:
            raise Forbidden("forbidden_role", "当前角色不能执行此操作", f"Role {role} may not {move} a report",
                            {"move": move})
        if self.state not in sources:
            code, zh, en = {
                "confirm": ("report_not_awaiting_unit", "该报送信息不在待推荐单位确认状态",
                            "This report is not awaiting its unit's confirmation"),
                "unit_return": ("report_not_awaiting_unit", "该报送信息不在待推荐单位确认状态",
                                "This report is not awaiting its unit's confirmation"),
                "resubmit": ("report_not_returned", "只有被退回的报送信息可以修改后重新提交",
                             "Only a returned report can be revised and resubmitted"),
            }.get(move, ("report_not_submitted", "该报送信息不在待审核状态", "This report is not awaiting review"))
            raise Conflict(code, zh, en, {"state": self.state.value})

    def confirm(self, confirmer: str, now: dt.datetime) -> list[Event]:
        """The project's recommending unit confirms its team's report: it goes to staff review."""
        self._check("confirm", "unit")
        self.state = ReportState.SUBMITTED
        self.confirmed_by, self.confirmed_at = confirmer, now
        return [self._event("report.confirmed.v1", now, "unit")]

    def _event(self, event_type: str, now: dt.datetime, by_role: str = "staff") -> Event:
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
                "filed_by_role": self.filed_by_role,
                "by_role": by_role,
            },
        )

    def _review(self, accept: bool, note: str, reviewer: str, now: dt.datetime, role: str = "staff") -> list[Event]:
        self._check("accept" if accept else ("unit_return" if role == "unit" else "return"), role)
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
        return [self._event("report.accepted.v1" if accept else "report.returned.v1", now, role)]

    def accept(self, reviewer: str, now: dt.datetime, note: str = "") -> list[Event]:
        return self._review(True, note, reviewer, now)

    def return_for_revision(self, reviewer: str, now: dt.datetime, note: str, role: str = "staff") -> list[Event]:
        """Staff return a report under review; the unit returns its team's report before confirming."""
        return self._review(False, note, reviewer, now, role)

    def resubmit(
        self, title: str, body: str, now: dt.datetime, *, kinds: Mapping[str, str] = DEFAULT_REPORT_KINDS,
        role: str = "unit",
    ) -> list[Event]:
        self._check("resubmit", role)
        _validate(title, body, self.kind, kinds)
        self.title, self.body = title.strip(), body.strip()
        self.state = state_after_filing(role)
        self.filed_by_role = role
        self.confirmed_by, self.confirmed_at = "", None
        self.revision += 1
        self.submitted_at = now
        return [self._event("report.submitted.v1", now, role)]


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
