"""From intake's forwarded form and media's evidence facts to ``compute_signals``' inputs.

Only this module knows the form's field names; the detector reads its own neutral shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Narrative parts of the recommendation form (推荐表), in reading order.
FORM_NARRATIVE_FIELDS = ("summary", "implementation_results", "innovation")
# Evidence kinds that show the project itself. Documents (registration certificates, approvals)
# are the same for every project of one body, so they say nothing about the project.
PROJECT_EVIDENCE_KINDS = ("image", "video", "media_report")


def application_source(data: Mapping[str, Any]) -> dict[str, Any]:
    """The detector's view of an ``application.forwarded.v1`` payload (kept in SQL as ``source``)."""
    form = data.get("form") or {}
    applicant = form.get("applicant") or {}
    narrative = "\n".join(str(form[k]) for k in FORM_NARRATIVE_FIELDS if form.get(k))
    links = [r.get("url") for r in form.get("media_reports") or [] if isinstance(r, Mapping) and r.get("url")]
    return {
        "id": data["application_id"],
        "call_id": data["call_id"],
        "unit_code": data.get("unit_code") or form.get("unit_code"),
        "credit_code": applicant.get("credit_code"),
        "org_name": applicant.get("name") or data.get("applicant_name"),
        "project_name": data.get("project_name") or form.get("project_name"),
        "narrative": narrative,
        "links": links,
    }


def evidence_ids(form: Mapping[str, Any]) -> list[str]:
    """Every evidence id the form refers to: images, videos, media-report screenshots."""
    ids: list[str] = []
    for key in ("image_evidence_ids", "video_evidence_ids"):
        ids += [str(i) for i in form.get(key) or [] if i]
    ids += [
        str(r["screenshot_evidence_id"])
        for r in form.get("media_reports") or []
        if isinstance(r, Mapping) and r.get("screenshot_evidence_id")
    ]
    return list(dict.fromkeys(ids))


def evidence_items(source: Mapping[str, Any], evidence: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``compute_signals``' evidence list: stored evidence facts plus the form's report links."""
    items: list[dict[str, Any]] = []
    for e in evidence:
        if e.get("kind") not in PROJECT_EVIDENCE_KINDS:
            continue
        items.append({"sha256": e.get("sha256"), "phash": e.get("phash"), "link": e.get("normalised_link")})
    items += [{"link": url} for url in source.get("links") or []]
    return items
