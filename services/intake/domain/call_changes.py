"""Versioning of a call's rules.

``rules_fingerprint`` hashes the parts of a call that decide whether a form is acceptable, so
the service can store which rule version accepted each application. ``rule_changes`` lists the
edits that would make already accepted applications unacceptable (tightening); relaxations are
not reported.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gongyi.errors import Issue

from .calls import CallDocument

# The rule-bearing parts. Recommending units are included too: check_submission refuses a
# unit_code the call does not list, so removing a unit changes what is acceptable.
RULE_PARTS = (
    "window",
    "applicant_types",
    "categories",
    "eligibility",
    "text_limit",
    "evidence",
    "recommending_units",
)


def rules_fingerprint(call: CallDocument) -> str:
    """``sha256:<hex>`` over the canonical JSON of the rule-bearing parts; order-insensitive lists."""
    data: dict[str, Any] = call.model_dump(mode="json", include=set(RULE_PARTS))
    # Instants, not wall-clock strings: the same deadline written with another offset is no change.
    data["window"] = {
        "opens": call.window.opens.timestamp(),
        "closes": call.window.closes.timestamp(),
        "timezone": call.window.timezone,
    }
    for key in ("applicant_types", "categories", "recommending_units"):
        data[key] = sorted(data[key], key=lambda item: item["code"])
    data["text_limit"]["fields"] = sorted(data["text_limit"]["fields"])
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _issue(code: str, zh: str, en: str, path: str, old: Any, new: Any) -> Issue:
    return Issue(code, zh, en, path, {"old": old, "new": new})


def _removed(old: list[Any], new: list[Any], path: str, code: str, zh: str, en: str) -> list[Issue]:
    kept = {item.code for item in new}
    return [
        _issue(code, f"{zh}：{item.code}", f"{en}: {item.code}", f"{path}.{item.code}", item.code, None)
        for item in old
        if item.code not in kept
    ]


def rule_changes(old: CallDocument, new: CallDocument) -> list[Issue]:
    """Changes from ``old`` to ``new`` that could invalidate applications ``old`` accepted."""
    issues: list[Issue] = []
    if new.window.closes < old.window.closes:
        issues.append(
            _issue(
                "deadline_moved_earlier",
                "截止时间提前",
                "The deadline moved earlier",
                "window.closes",
                old.window.closes.isoformat(),
                new.window.closes.isoformat(),
            )
        )
    if new.window.opens > old.window.opens:
        issues.append(
            _issue(
                "opening_moved_later",
                "开始时间推后",
                "The opening moved later",
                "window.opens",
                old.window.opens.isoformat(),
                new.window.opens.isoformat(),
            )
        )
    issues += _removed(
        old.applicant_types,
        new.applicant_types,
        "applicant_types",
        "applicant_type_removed",
        "删除了申报主体类型",
        "Applicant type removed",
    )
    issues += _removed(
        old.categories, new.categories, "categories", "category_removed", "删除了项目类别", "Category removed"
    )
    issues += _removed(
        old.recommending_units,
        new.recommending_units,
        "recommending_units",
        "recommending_unit_removed",
        "删除了推荐单位",
        "Recommending unit removed",
    )
    ob, nb = old.eligibility.started_before, new.eligibility.started_before
    if nb is not None and (ob is None or nb < ob):
        issues.append(
            _issue(
                "started_before_moved_earlier",
                "开始实施日期要求提前",
                "Projects must now have started earlier",
                "eligibility.started_before",
                ob.isoformat() if ob else None,
                nb.isoformat(),
            )
        )
    if new.eligibility.must_be_running and not old.eligibility.must_be_running:
        issues.append(
            _issue(
                "running_now_required",
                "新增“正在实施”要求",
                "Projects must now still be running",
                "eligibility.must_be_running",
                False,
                True,
            )
        )
    if new.text_limit.max_chars < old.text_limit.max_chars:
        issues.append(
            _issue(
                "text_limit_reduced",
                "字数上限降低",
                "The character limit was lowered",
                "text_limit.max_chars",
                old.text_limit.max_chars,
                new.text_limit.max_chars,
            )
        )
    added = sorted(set(new.text_limit.fields) - set(old.text_limit.fields))
    if added:
        issues.append(
            _issue(
                "text_limit_fields_added",
                "计入字数的栏目增加",
                "More fields now count towards the limit",
                "text_limit.fields",
                list(old.text_limit.fields),
                list(new.text_limit.fields),
            )
        )
    oe, ne = old.evidence, new.evidence
    if ne.require_at_least_one and not oe.require_at_least_one:
        issues.append(
            _issue(
                "evidence_now_required",
                "新增辅证材料必交要求",
                "Evidence is now required",
                "evidence.require_at_least_one",
                False,
                True,
            )
        )
    if ne.media_report_requires_screenshot and not oe.media_report_requires_screenshot:
        issues.append(
            _issue(
                "screenshot_now_required",
                "媒体报道新增截图要求",
                "Media reports now need a screenshot",
                "evidence.media_report_requires_screenshot",
                False,
                True,
            )
        )
    raised = ne.min_image_width > oe.min_image_width or ne.min_image_height > oe.min_image_height
    if ne.on_low_resolution == "reject" and (oe.on_low_resolution == "warn" or raised):
        issues.append(
            _issue(
                "image_resolution_tightened",
                "图片清晰度要求提高，低清晰度图片将被拒收",
                "Images below the (new) minimum resolution are now rejected",
                "evidence",
                [oe.min_image_width, oe.min_image_height, oe.on_low_resolution],
                [ne.min_image_width, ne.min_image_height, ne.on_low_resolution],
            )
        )
    return issues


def _keyed(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects each with a unique ``code`` (categories, units, ...), keyed by it."""
    if not items or not all(isinstance(i, dict) and "code" in i for i in items):
        return None
    keyed = {str(i["code"]): i for i in items}
    return keyed if len(keyed) == len(items) else None


def document_changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Every field that differs between two call documents (their JSON form), as
    ``{"field": "window.closes", "from": ..., "to": ...}`` in document order. Objects are
    compared field by field, lists of coded items item by item (``categories.education.label``),
    other lists and values whole; an added or removed field has ``None`` on its missing side.
    A new version always differs in at least one field, so a change never answers with none."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in [*old, *(k for k in new if k not in old)]:
            sub = f"{path}.{key}" if path else str(key)
            out += document_changes(old.get(key), new.get(key), sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        old_keyed, new_keyed = _keyed(old), _keyed(new)
        if old_keyed is not None and new_keyed is not None:
            by_code = document_changes(old_keyed, new_keyed, path)
            if by_code:
                return by_code
            if list(old_keyed) != list(new_keyed):  # same items, another order
                return [{"field": path, "from": list(old_keyed), "to": list(new_keyed)}]
            return []
    return [] if old == new else [{"field": path, "from": old, "to": new}]
