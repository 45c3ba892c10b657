"""What media said about the evidence an application cites, shown with the application.

Media checks every upload and tells the owner of weak material (e.g. ``low_resolution`` for an
image under 1280×720) without refusing it: the evidence is encouraged, not required. Intake keeps
those warnings from ``evidence.stored.v1`` (it never reads media's database) and lists them for the
evidence ids the form refers to, with the form path, so the applicant and the unit see them where
the evidence is used, not only in the upload answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def evidence_refs(form: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(form path, evidence id) of every piece of evidence the form cites, in form order."""
    refs = [(f"image_evidence_ids[{i}]", e) for i, e in enumerate(form.get("image_evidence_ids") or [])]
    refs += [(f"video_evidence_ids[{i}]", e) for i, e in enumerate(form.get("video_evidence_ids") or [])]
    refs += [
        (f"media_reports[{i}].screenshot_evidence_id", r["screenshot_evidence_id"])
        for i, r in enumerate(form.get("media_reports") or [])
        if isinstance(r, Mapping) and r.get("screenshot_evidence_id")
    ]
    return [(path, str(e)) for path, e in refs]


def evidence_warnings(
    form: Mapping[str, Any], warnings_by_id: Mapping[str, Sequence[Mapping[str, Any]]]
) -> list[dict[str, Any]]:
    """One entry per warning media gave on evidence the form cites; evidence without warnings, or
    not (yet) known to intake, gives none."""
    out = []
    for path, evidence_id in evidence_refs(form):
        for w in warnings_by_id.get(evidence_id) or ():
            out.append({
                "evidence_id": evidence_id,
                "path": path,
                "code": w.get("code", ""),
                "message_zh": w.get("message_zh", ""),
                "message_en": w.get("message_en", ""),
                "details": dict(w.get("details") or {}),
            })
    return out
