"""The events publish sends (routing key = type), built from the domain's event dicts.

The domain returns CloudEvents-shaped dicts; here they become outbox rows with publish's subjects
(``notice/<id>``, ``objection/<id>``, ``report/<id>``, ``case/<id>``). List entries follow the
shared catalogue (``unit_code``, ``evidence_ids``) rather than the domain's page projection.
None of them carries personal data: objectors appear as ids and tracking codes only.
"""

from __future__ import annotations

from typing import Any

from gongyi.db import UnitOfWork
from services.publish.domain.notice import Notice

NOTICE_OPENED = "notice.opened.v1"
OBJECTION_FILED = "objection.filed.v1"
OBJECTION_RESOLVED = "objection.resolved.v1"
NOTICE_CLOSED = "notice.closed.v1"
LIST_SCHEDULED = "list.scheduled.v1"
LIST_UNSCHEDULED = "list.unscheduled.v1"
LIST_PUBLISHED = "list.published.v1"
REPORT_SUBMITTED = "report.submitted.v1"
REPORT_CONFIRMED = "report.confirmed.v1"
REPORT_ACCEPTED = "report.accepted.v1"
REPORT_RETURNED = "report.returned.v1"
CASE_PUBLISHED = "case.published.v1"
REPORT_DUE = "report.due.v1"

_SUBJECT_KIND = {
    "notice": "notice",
    "list": "notice",
    "objection": "objection",
    "report": "report",
    "case": "case",
}


def catalogue_entries(notice: Notice, snapshot: dict[str, Any], *, final: bool) -> list[dict[str, Any]]:
    """The public list in the catalogue's shape: snapshot ids (unit code, evidence ids) joined in."""
    raw = {e["application_id"]: e for e in (*snapshot.get("entries", ()), *snapshot.get("reserves", ()))}
    public = {p["application_id"]: p for p in (notice.public_entries() if final else _current_public(notice))}
    out = []
    for entry in notice.final_list() if final else notice.current_entries():
        src = raw.get(entry.application_id, {})
        item = {
            "application_id": entry.application_id,
            "rank": entry.rank,
            "project_name": entry.project_name,
            "organisation": entry.organisation,
            "category": entry.category,
            "province": entry.province,
            "unit_code": src.get("unit_code", ""),
            "unit": entry.unit,
            "summary": public[entry.application_id]["summary"],
            "evidence_ids": list(src.get("evidence_ids", ())),
        }
        if notice.publish_scores and entry.score is not None:
            item["score"] = entry.score
        out.append(item)
    return out


def _current_public(notice: Notice) -> list[dict[str, Any]]:
    from services.publish.domain.public_view import public_list_dicts

    return public_list_dicts(notice.current_entries(), publish_scores=notice.publish_scores)


def emit_all(
    uow: UnitOfWork, events: list[dict[str, Any]], notice: Notice | None = None, snapshot: dict[str, Any] | None = None
) -> None:
    """Put the domain's events in the outbox (same transaction as the change)."""
    for event in events:
        kind = event["type"].split(".", 1)[0]
        data = dict(event["data"])
        if event["type"] in (NOTICE_OPENED, LIST_PUBLISHED) and notice is not None and snapshot is not None:
            data["entries"] = catalogue_entries(notice, snapshot, final=event["type"] == LIST_PUBLISHED)
        uow.emit(event["type"], f"{_SUBJECT_KIND[kind]}/{event['subject']}", data)
