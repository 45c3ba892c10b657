"""What review keeps of a forwarded application, and what goes into the search index.

Contacts are personal data: they stay in the database for staff and never enter the index.
"""

from __future__ import annotations

from datetime import date
from typing import Any

NARRATIVE = ("summary", "implementation_results", "innovation")


def _start_year(form: dict[str, Any]) -> int | None:
    started = form.get("started_on")
    if not started:
        return None
    try:
        return date.fromisoformat(str(started)[:10]).year
    except ValueError:
        return None


def index_document(project: dict[str, Any]) -> dict[str, Any]:
    """The search document of one project (no personal data)."""
    form = project.get("form") or {}
    applicant = form.get("applicant") or {}
    captions = [r.get("title") for r in form.get("media_reports") or [] if r.get("title")]
    return {
        "application_id": project["application_id"],
        "call_id": project["call_id"],
        "status": project["status"],
        "unit_code": project.get("unit_code"),
        "category": form.get("category"),
        "project_name": form.get("project_name"),
        "applicant_name": applicant.get("name"),
        "applicant_type": applicant.get("type"),
        "credit_code": applicant.get("credit_code"),
        "province": applicant.get("province"),
        "start_year": _start_year(form),
        "still_running": form.get("still_running"),
        **{name: form.get(name) for name in NARRATIVE},
        "evidence_captions": captions,
        "forwarded_at": project.get("forwarded_at"),
        "duplicate_flag": bool(project.get("duplicate_flag", False)),
        "score": project.get("score"),
    }
