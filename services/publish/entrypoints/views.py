"""Shapes of publish's HTTP answers: public JSON (whitelist only), staff JSON, pages and files."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from gongyi import pii
from gongyi.errors import NotFound
from services.publish import site
from services.publish.domain.notice import Notice, NoticeState
from services.publish.domain.public_view import public_list_dicts
from services.publish.domain.reports import TypicalCase

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"


def _counts(notice: Notice) -> dict[str, int]:
    return {
        "total": len(notice.objections),
        "unresolved": len(notice.unresolved_objections()),
        "upheld": sum(o.status.value == "upheld" for o in notice.objections),
        "rejected": sum(o.status.value == "rejected" for o in notice.objections),
    }


def public_notice(notice: Notice) -> dict[str, Any]:
    final = notice.state is NoticeState.PUBLISHED
    entries = notice.public_entries() if final else public_list_dicts(
        notice.current_entries(), publish_scores=notice.publish_scores
    )
    return {
        "id": notice.id,
        "call_id": notice.call_id,
        "call_name": notice.call_name,
        "title": notice.final_list_title if final else notice.title,
        "state": notice.state.value,
        "working_days": notice.working_days,
        "rehearsal": notice.rehearsal,
        "period_minutes": notice.period_minutes,
        "opens_at": notice.opens_at,
        "ends_at": notice.ends_at,
        "publish_at": notice.publish_at,
        "published_at": notice.published_at,
        "entries": entries,
        "objections": _counts(notice),
    }


def staff_notice(notice: Notice, key_dates: list[dict[str, str]]) -> dict[str, Any]:
    return public_notice(notice) | {
        "reserves": public_list_dicts(notice.reserves, publish_scores=True),
        "replacements": [r.to_dict() for r in notice.replacements],
        "key_dates": key_dates,
    }


def staff_objections(notice: Notice, full_identity: bool = False) -> list[dict[str, Any]]:
    """The objector's name and contact in full only for staff with the ``pii`` claim (gongyi/pii.py)."""
    shown = (lambda v: v) if full_identity else pii.mask
    return [
        {
            "id": o.id,
            "tracking_code": o.tracking_code,
            "application_id": o.application_id,
            "name": shown(o.name),
            "contact": shown(o.contact),
            "relation": o.relation,
            "reasons": [r.text for r in o.reasons],
            "evidence_ids": o.evidence_ids,
            "filed_at": o.filed_at,
            "status": o.status.value,
            "resolution_note_zh": o.resolution_note_zh,
            "resolved_by": o.resolved_by,
            "resolved_at": o.resolved_at,
            "replacement": o.replacement.to_dict() if o.replacement else None,
            "history": o.history,
        }
        for o in notice.objections
    ]


def case_links(cases: list[TypicalCase]) -> list[tuple[str, str]]:
    return [(c.title, site.case_url(c.id)) for c in cases]


def html(text: str) -> Response:
    return Response(text, status=200, content_type=HTML)


def file(data: bytes, media_type: str, filename: str) -> Response:
    return Response(data, status=200, content_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def project_not_on_list(application_id: str) -> NotFound:
    return NotFound("project_not_found", "该项目不在入选名单中", "No such project on the final list",
                    {"application_id": application_id})
