"""Versioning of a call's rules.

``rules_fingerprint`` hashes the parts of a call that decide whether a form is acceptable, so
the service can store which rule version accepted each application. ``rule_changes`` lists the
edits that would make already accepted applications unacceptable (tightening); relaxations are
not reported.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Tightening:
    """One rule that can only be tightened by an edit: ``value`` is what the issue reports as old
    and new, ``tightened(old, new)`` whether the edit could refuse what ``old`` accepted."""

    code: str
    zh: str
    en: str
    path: str
    tightened: Callable[[CallDocument, CallDocument], bool]
    value: Callable[[CallDocument], Any]


def _started_before_earlier(o: CallDocument, n: CallDocument) -> bool:
    ob, nb = o.eligibility.started_before, n.eligibility.started_before
    return nb is not None and (ob is None or nb < ob)


def _resolution_tightened(o: CallDocument, n: CallDocument) -> bool:
    oe, ne = o.evidence, n.evidence
    raised = ne.min_image_width > oe.min_image_width or ne.min_image_height > oe.min_image_height
    return ne.on_low_resolution == "reject" and (oe.on_low_resolution == "warn" or raised)


def _newly_true(flag: Callable[[CallDocument], bool]) -> Callable[[CallDocument, CallDocument], bool]:
    return lambda o, n: flag(n) and not flag(o)


_WINDOW = (
    _Tightening("deadline_moved_earlier", "截止时间提前", "The deadline moved earlier", "window.closes",
                lambda o, n: n.window.closes < o.window.closes, lambda d: d.window.closes.isoformat()),
    _Tightening("opening_moved_later", "开始时间推后", "The opening moved later", "window.opens",
                lambda o, n: n.window.opens > o.window.opens, lambda d: d.window.opens.isoformat()),
)
# (list, issue code, zh, en): an entry of the list removed
_REMOVABLE = (
    ("applicant_types", "applicant_type_removed", "删除了申报主体类型", "Applicant type removed"),
    ("categories", "category_removed", "删除了项目类别", "Category removed"),
    ("recommending_units", "recommending_unit_removed", "删除了推荐单位", "Recommending unit removed"),
)
_RULES = (
    _Tightening("started_before_moved_earlier", "开始实施日期要求提前", "Projects must now have started earlier",
                "eligibility.started_before", _started_before_earlier,
                lambda d: d.eligibility.started_before.isoformat() if d.eligibility.started_before else None),
    _Tightening("running_now_required", "新增“正在实施”要求", "Projects must now still be running",
                "eligibility.must_be_running", _newly_true(lambda d: d.eligibility.must_be_running),
                lambda d: d.eligibility.must_be_running),
    _Tightening("text_limit_reduced", "字数上限降低", "The character limit was lowered", "text_limit.max_chars",
                lambda o, n: n.text_limit.max_chars < o.text_limit.max_chars, lambda d: d.text_limit.max_chars),
    _Tightening("text_limit_fields_added", "计入字数的栏目增加", "More fields now count towards the limit",
                "text_limit.fields", lambda o, n: bool(set(n.text_limit.fields) - set(o.text_limit.fields)),
                lambda d: list(d.text_limit.fields)),
    _Tightening("evidence_now_required", "新增辅证材料必交要求", "Evidence is now required",
                "evidence.require_at_least_one", _newly_true(lambda d: d.evidence.require_at_least_one),
                lambda d: d.evidence.require_at_least_one),
    _Tightening("screenshot_now_required", "媒体报道新增截图要求", "Media reports now need a screenshot",
                "evidence.media_report_requires_screenshot",
                _newly_true(lambda d: d.evidence.media_report_requires_screenshot),
                lambda d: d.evidence.media_report_requires_screenshot),
    _Tightening("image_resolution_tightened", "图片清晰度要求提高，低清晰度图片将被拒收",
                "Images below the (new) minimum resolution are now rejected", "evidence", _resolution_tightened,
                lambda d: [d.evidence.min_image_width, d.evidence.min_image_height, d.evidence.on_low_resolution]),
)


def _tightened(rules: tuple[_Tightening, ...], old: CallDocument, new: CallDocument) -> list[Issue]:
    return [_issue(r.code, r.zh, r.en, r.path, r.value(old), r.value(new)) for r in rules if r.tightened(old, new)]


def rule_changes(old: CallDocument, new: CallDocument) -> list[Issue]:
    """Changes from ``old`` to ``new`` that could invalidate applications ``old`` accepted."""
    issues = _tightened(_WINDOW, old, new)
    for path, code, zh, en in _REMOVABLE:
        issues += _removed(getattr(old, path), getattr(new, path), path, code, zh, en)
    return issues + _tightened(_RULES, old, new)


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
