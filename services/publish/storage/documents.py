"""The publish aggregates as JSON documents (and back) for the ``document`` columns.

Plain functions over the domain dataclasses; datetimes are ISO 8601 with their offset.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongyi.timestamps import rfc3339
from services.publish.domain.notice import Notice, NoticeState
from services.publish.domain.objections import Objection, ObjectionStatus, ReasonEntry, Replacement
from services.publish.domain.reports import ProgressReport, ReportState, TypicalCase
from services.publish.domain.selection import EvidenceRef, SelectionEntry


def _t(value: dt.datetime | None) -> str | None:
    return rfc3339(value)


def _dt(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _evidence(items: Any) -> list[dict[str, Any]]:
    return [{"title": e.title, "url": e.url, "kind": e.kind, "public": e.public} for e in items]


def entry_doc(e: SelectionEntry) -> dict[str, Any]:
    return {
        "application_id": e.application_id,
        "project_name": e.project_name,
        "organisation": e.organisation,
        "category": e.category,
        "province": e.province,
        "unit": e.unit,
        "rank": e.rank,
        "score": e.score,
        "summary": e.summary,
        "evidence": _evidence(e.evidence),
        "applicant_type": e.applicant_type,
        "review_rank": e.review_rank,
    }


def _replacement_doc(r: Replacement | None) -> dict[str, Any] | None:
    return r.to_dict() if r is not None else None


def _replacement(d: dict[str, Any] | None) -> Replacement | None:
    if d is None:
        return None
    return Replacement(
        d["removed_application_id"], d["replacement_application_id"], d["reason_zh"], d["reason_en"], _dt(d["at"])
    )


def _objection_doc(o: Objection) -> dict[str, Any]:
    return {
        "id": o.id,
        "tracking_code": o.tracking_code,
        "notice_id": o.notice_id,
        "application_id": o.application_id,
        "name": o.name,
        "contact": o.contact,
        "contact_key": o.contact_key,
        "relation": o.relation,
        "reasons": [{"text": r.text, "filed_at": _t(r.filed_at)} for r in o.reasons],
        "evidence_ids": list(o.evidence_ids),
        "filed_at": _t(o.filed_at),
        "status": o.status.value,
        "resolution_note_zh": o.resolution_note_zh,
        "resolved_by": o.resolved_by,
        "resolved_at": _t(o.resolved_at),
        "replacement": _replacement_doc(o.replacement),
        "history": list(o.history),
    }


def _objection(d: dict[str, Any]) -> Objection:
    return Objection(
        id=d["id"],
        tracking_code=d["tracking_code"],
        notice_id=d["notice_id"],
        application_id=d["application_id"],
        name=d["name"],
        contact=d["contact"],
        contact_key=d["contact_key"],
        relation=d["relation"],
        reasons=[ReasonEntry(r["text"], _dt(r["filed_at"])) for r in d["reasons"]],
        evidence_ids=list(d["evidence_ids"]),
        filed_at=_dt(d["filed_at"]),
        status=ObjectionStatus(d["status"]),
        resolution_note_zh=d["resolution_note_zh"],
        resolved_by=d["resolved_by"],
        resolved_at=_dt(d["resolved_at"]),
        replacement=_replacement(d["replacement"]),
        history=list(d["history"]),
    )


def notice_to_doc(n: Notice) -> dict[str, Any]:
    return {
        "id": n.id,
        "call_id": n.call_id,
        "call_name": n.call_name,
        "title": n.title,
        "selected": [entry_doc(e) for e in n.selected],
        "reserves": [entry_doc(e) for e in n.reserves],
        "publish_scores": n.publish_scores,
        "tz": n.tz,
        "state": n.state.value,
        "working_days": n.working_days,
        "rehearsal": n.rehearsal,
        "period_minutes": n.period_minutes,
        "opens_at": _t(n.opens_at),
        "ends_at": _t(n.ends_at),
        "closed_at": _t(n.closed_at),
        "publish_at": _t(n.publish_at),
        "published_at": _t(n.published_at),
        "listed_ids": list(n.listed_ids),
        "objections": [_objection_doc(o) for o in n.objections],
        "replacements": [r.to_dict() for r in n.replacements],
    }


def notice_from_doc(d: dict[str, Any]) -> Notice:
    return Notice(
        id=d["id"],
        call_id=d["call_id"],
        call_name=d["call_name"],
        title=d["title"],
        selected=[SelectionEntry.from_mapping(e) for e in d["selected"]],
        reserves=[SelectionEntry.from_mapping(e) for e in d["reserves"]],
        publish_scores=d["publish_scores"],
        tz=d["tz"],
        state=NoticeState(d["state"]),
        working_days=d["working_days"],
        rehearsal=d.get("rehearsal", False),
        period_minutes=d.get("period_minutes"),
        opens_at=_dt(d["opens_at"]),
        ends_at=_dt(d["ends_at"]),
        closed_at=_dt(d["closed_at"]),
        publish_at=_dt(d["publish_at"]),
        published_at=_dt(d["published_at"]),
        listed_ids=list(d["listed_ids"]),
        objections=[_objection(o) for o in d["objections"]],
        replacements=[_replacement(r) for r in d["replacements"]],
    )


def report_to_doc(r: ProgressReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "application_id": r.application_id,
        "kind": r.kind,
        "title": r.title,
        "body": r.body,
        "submitted_by": r.submitted_by,
        "submitted_at": _t(r.submitted_at),
        "evidence": _evidence(r.evidence),
        "state": r.state.value,
        "review_note": r.review_note,
        "reviewed_by": r.reviewed_by,
        "reviewed_at": _t(r.reviewed_at),
        "revision": r.revision,
        "filed_by_role": r.filed_by_role,
        "confirmed_by": r.confirmed_by,
        "confirmed_at": _t(r.confirmed_at),
    }


def report_from_doc(d: dict[str, Any]) -> ProgressReport:
    return ProgressReport(
        id=d["id"],
        application_id=d["application_id"],
        kind=d["kind"],
        title=d["title"],
        body=d["body"],
        submitted_by=d["submitted_by"],
        submitted_at=_dt(d["submitted_at"]),
        evidence=[EvidenceRef(**e) for e in d["evidence"]],
        state=ReportState(d["state"]),
        review_note=d["review_note"],
        reviewed_by=d["reviewed_by"],
        reviewed_at=_dt(d["reviewed_at"]),
        revision=d["revision"],
        # reports stored before the team could file were all filed by a unit or staff
        filed_by_role=d.get("filed_by_role", "unit"),
        confirmed_by=d.get("confirmed_by", ""),
        confirmed_at=_dt(d.get("confirmed_at")),
    )


def case_to_doc(c: TypicalCase) -> dict[str, Any]:
    return {
        "id": c.id,
        "report_id": c.report_id,
        "application_id": c.application_id,
        "project_name": c.project_name,
        "title": c.title,
        "summary": c.summary,
        "evidence": _evidence(c.evidence),
        "published_at": _t(c.published_at),
    }


def case_from_doc(d: dict[str, Any]) -> TypicalCase:
    return TypicalCase(
        id=d["id"],
        report_id=d["report_id"],
        application_id=d["application_id"],
        project_name=d["project_name"],
        title=d["title"],
        summary=d["summary"],
        evidence=tuple(EvidenceRef(**e) for e in d["evidence"]),
        published_at=_dt(d["published_at"]),
    )
