"""Initial screening (初审筛选): one finding per eligibility rule of the call.

The service fills :class:`ScreeningRules` from the call document; nothing here is specific to
one call. Every finding carries a stable rule code, an outcome and a reason in Chinese and
English, so staff see *why* and clients can act on the code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gongyi.errors import InvalidInput, Issue
from services.review.domain.refusals import issue

SHANGHAI = ZoneInfo("Asia/Shanghai")

Outcome = Literal["passed", "failed", "warning"]

# Rule codes, stable across versions (clients and reports key on them).
RULE_STARTED_BEFORE = "started_before"
RULE_STILL_RUNNING = "still_running"
RULE_CATEGORY = "category_allowed"
RULE_APPLICANT_TYPE = "applicant_type_allowed"
RULE_ON_TIME = "submitted_on_time"
RULE_COMPLETE = "complete"
RULE_TEXT_LIMIT = "text_limit"
RULE_EVIDENCE_QUALITY = "evidence_quality"
RULE_DUPLICATES = "duplicates"

RULE_ORDER = (
    RULE_STARTED_BEFORE,
    RULE_STILL_RUNNING,
    RULE_CATEGORY,
    RULE_APPLICANT_TYPE,
    RULE_ON_TIME,
    RULE_COMPLETE,
    RULE_TEXT_LIMIT,
    RULE_EVIDENCE_QUALITY,
    RULE_DUPLICATES,
)


@dataclass(frozen=True)
class ScreeningRules:
    """The screening part of a call's configuration.

    ``closes_at`` naive values are read as Asia/Shanghai wall time, as the calls state them.
    ``text_limit`` counts non-whitespace characters over ``text_fields`` (字数 as a Chinese
    reader counts it; spaces and line breaks are layout, not content).
    ``required_fields`` are dotted paths into the application, e.g. ``"applicant.name"``.
    """

    started_before: date | None
    must_be_running: bool
    categories: frozenset[str]
    applicant_types: frozenset[str]
    closes_at: datetime
    text_limit: int | None = 2000
    text_fields: tuple[str, ...] = ("summary", "implementation_results", "innovation")
    required_fields: tuple[str, ...] = (
        "project_name",
        "category",
        "applicant.name",
        "applicant.type",
        "applicant.credit_code",
        "started_on",
        "summary",
    )
    require_evidence: bool = True

    def __post_init__(self) -> None:
        # Frozen, so normalise through object.__setattr__; calls state times in Beijing time.
        object.__setattr__(self, "closes_at", _as_datetime(self.closes_at))
        object.__setattr__(self, "categories", frozenset(self.categories))
        object.__setattr__(self, "applicant_types", frozenset(self.applicant_types))

    @classmethod
    def from_call(cls, call: Mapping[str, Any]) -> ScreeningRules:
        """Build from a call document's plain values (ISO strings or native types)."""
        started = call.get("started_before")
        closes = call["closes_at"]
        kwargs: dict[str, Any] = {
            "started_before": _as_date(started) if started else None,
            "must_be_running": bool(call.get("must_be_running", True)),
            "categories": frozenset(call.get("categories", ())),
            "applicant_types": frozenset(call.get("applicant_types", ())),
            "closes_at": _as_datetime(closes),
        }
        for name in ("text_limit", "require_evidence"):
            if name in call:
                kwargs[name] = call[name]
        for name in ("text_fields", "required_fields"):
            if name in call:
                kwargs[name] = tuple(call[name])
        return cls(**kwargs)


@dataclass(frozen=True)
class Finding:
    rule: str
    outcome: Outcome
    reason_zh: str
    reason_en: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScreeningReport:
    findings: tuple[Finding, ...]
    screened_at: datetime

    @property
    def outcome(self) -> Outcome:
        """``failed`` if any rule failed, else ``warning`` if any warned, else ``passed``."""
        outcomes = {f.outcome for f in self.findings}
        if "failed" in outcomes:
            return "failed"
        return "warning" if "warning" in outcomes else "passed"

    @property
    def failed_rules(self) -> tuple[str, ...]:
        return tuple(f.rule for f in self.findings if f.outcome == "failed")

    def finding(self, rule: str) -> Finding:
        for f in self.findings:
            if f.rule == rule:
                return f
        raise KeyError(rule)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(23, 59, 59))
    else:
        dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=SHANGHAI)


def _get_path(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict | set):
        return len(value) == 0
    return False


def count_chars(text: str) -> int:
    """Characters that count toward the limit: everything except whitespace."""
    return sum(1 for ch in text if not ch.isspace())


def _passed(rule: str, zh: str, en: str, **details: Any) -> Finding:
    return Finding(rule, "passed", zh, en, details)


def _failed(rule: str, zh: str, en: str, **details: Any) -> Finding:
    return Finding(rule, "failed", zh, en, details)


def _check_started(app: Mapping[str, Any], rules: ScreeningRules, now: datetime) -> Finding:
    rule = RULE_STARTED_BEFORE
    raw = app.get("started_on")
    if _is_blank(raw):
        return _failed(rule, "未填写项目开始实施日期", "The project's start date is missing")
    try:
        started = _as_date(raw)
    except ValueError:
        return _failed(rule, "项目开始实施日期格式无效", "The project's start date is not a valid date",
                       value=str(raw))
    if started > now.astimezone(SHANGHAI).date():
        return _failed(rule, "项目开始实施日期晚于今天", "The project's start date is in the future",
                       started_on=started.isoformat())
    if rules.started_before is None:
        return _passed(rule, "本次征集不限开始日期", "This call sets no start-date rule",
                       started_on=started.isoformat())
    limit = rules.started_before.isoformat()
    if started < rules.started_before:
        return _passed(rule, f"项目于{limit}以前开始实施", f"The project started before {limit}",
                       started_on=started.isoformat(), limit=limit)
    return _failed(rule, f"项目应于{limit}以前开始实施", f"The project must have started before {limit}",
                   started_on=started.isoformat(), limit=limit)


def _check_running(app: Mapping[str, Any], rules: ScreeningRules) -> Finding:
    rule = RULE_STILL_RUNNING
    if not rules.must_be_running:
        return _passed(rule, "本次征集不要求项目正在实施", "This call does not require a running project")
    if app.get("still_running") is True:
        return _passed(rule, "项目正在实施", "The project is still running")
    return _failed(rule, "项目应正在实施", "The project must still be running",
                   still_running=app.get("still_running"))


def _check_member(rule: str, value: Any, allowed: frozenset[str], what_zh: str, what_en: str) -> Finding:
    if _is_blank(value):
        return _failed(rule, f"未填写{what_zh}", f"The {what_en} is missing")
    if value in allowed:
        return _passed(rule, f"{what_zh}属于本次征集范围", f"The {what_en} is within this call", value=value)
    return _failed(rule, f"{what_zh}“{value}”不在本次征集范围内", f"The {what_en} '{value}' is not part of this call",
                   value=value, allowed=sorted(allowed))


def _check_on_time(app: Mapping[str, Any], rules: ScreeningRules) -> Finding:
    rule = RULE_ON_TIME
    closes = rules.closes_at.isoformat()
    raw = app.get("forwarded_at")
    if _is_blank(raw):
        return _failed(rule, "申报尚未由推荐单位报送", "The application has not been forwarded by its unit",
                       closes_at=closes)
    try:
        forwarded = _as_datetime(raw)
    except ValueError:
        return _failed(rule, "报送时间格式无效", "The forwarding time is not a valid timestamp", value=str(raw))
    if forwarded <= rules.closes_at:
        return _passed(rule, "在征集截止前报送", "Forwarded before the call closed",
                       forwarded_at=forwarded.isoformat(), closes_at=closes)
    return _failed(rule, "报送时间晚于征集截止时间", "Forwarded after the call closed",
                   forwarded_at=forwarded.isoformat(), closes_at=closes)


def _check_complete(app: Mapping[str, Any], rules: ScreeningRules) -> Finding:
    rule = RULE_COMPLETE
    missing = [p for p in rules.required_fields if _is_blank(_get_path(app, p))]
    reports = app.get("media_reports") or []
    bad_reports = [
        {"index": i, "missing": [k for k in ("url", "screenshot_evidence_id") if _is_blank((r or {}).get(k))]}
        for i, r in enumerate(reports)
    ]
    bad_reports = [b for b in bad_reports if b["missing"]]
    has_evidence = any(not _is_blank(app.get(k)) for k in ("image_evidence_ids", "video_evidence_ids")) or bool(
        reports
    )
    no_evidence = rules.require_evidence and not has_evidence
    if not missing and not bad_reports and not no_evidence:
        return _passed(rule, "申报材料完整", "The application is complete")
    zh, en = [], []
    if missing:
        zh.append("缺少必填项：" + "、".join(missing))
        en.append("missing required fields: " + ", ".join(missing))
    if no_evidence:
        zh.append("至少应提供一项辅证材料（图片、视频或媒体报道）")
        en.append("at least one piece of evidence (image, video or media report) is required")
    if bad_reports:
        zh.append("媒体报道须同时提供网址链接和清晰截图")
        en.append("every media report needs both a link and a screenshot")
    return _failed(rule, "；".join(zh), "; ".join(en).capitalize(),
                   missing_fields=missing, no_evidence=no_evidence, incomplete_media_reports=bad_reports)


def _check_text(app: Mapping[str, Any], rules: ScreeningRules) -> Finding:
    rule = RULE_TEXT_LIMIT
    per_field = {f: count_chars(str(_get_path(app, f) or "")) for f in rules.text_fields}
    total = sum(per_field.values())
    if rules.text_limit is None:
        return _passed(rule, "本次征集不限字数", "This call sets no text limit", chars=total)
    if total <= rules.text_limit:
        return _passed(rule, f"材料共{total}字，未超过{rules.text_limit}字",
                       f"{total} characters, within the {rules.text_limit} limit",
                       chars=total, limit=rules.text_limit, per_field=per_field)
    return _failed(rule, f"材料共{total}字，超过{rules.text_limit}字上限",
                   f"{total} characters exceed the {rules.text_limit} limit",
                   chars=total, limit=rules.text_limit, per_field=per_field)


def _as_plain(item: Any) -> Any:
    if isinstance(item, Issue):
        return item.to_dict()
    if isinstance(item, Mapping):
        return dict(item)
    return item


def _check_passed_in(rule: str, items: Sequence[Any], zh_ok: str, en_ok: str, zh: str, en: str) -> Finding:
    if not items:
        return _passed(rule, zh_ok, en_ok)
    return Finding(rule, "warning", zh.format(n=len(items)), en.format(n=len(items)),
                   {"items": [_as_plain(i) for i in items]})


def screen(
    application: Mapping[str, Any],
    call_rules: ScreeningRules,
    now: datetime,
    evidence_warnings: Sequence[Any] = (),
    duplicate_suspicions: Sequence[Any] = (),
) -> ScreeningReport:
    """Run every rule; one :class:`Finding` per rule, in :data:`RULE_ORDER`.

    ``evidence_warnings`` come from the media service's quality checks and
    ``duplicate_suspicions`` from duplicate detection; both only warn, because a person must
    judge them (a blurry image does not make a project ineligible).
    """
    if now.tzinfo is None:
        now = now.replace(tzinfo=SHANGHAI)
    applicant = application.get("applicant") or {}
    findings = (
        _check_started(application, call_rules, now),
        _check_running(application, call_rules),
        _check_member(RULE_CATEGORY, application.get("category"), call_rules.categories, "项目类别", "category"),
        _check_member(RULE_APPLICANT_TYPE, applicant.get("type"), call_rules.applicant_types,
                      "申报主体类型", "applicant type"),
        _check_on_time(application, call_rules),
        _check_complete(application, call_rules),
        _check_text(application, call_rules),
        _check_passed_in(RULE_EVIDENCE_QUALITY, evidence_warnings, "辅证材料质量未发现问题",
                         "No evidence quality problems", "辅证材料有{n}项质量提示，请人工核查",
                         "{n} evidence quality warning(s) to check"),
        _check_passed_in(RULE_DUPLICATES, duplicate_suspicions, "未发现疑似重复申报",
                         "No suspected duplicate applications", "发现{n}项疑似重复申报，请人工核查",
                         "{n} suspected duplicate application(s) to check"),
    )
    return ScreeningReport(findings=findings, screened_at=now)


@dataclass(frozen=True)
class ScreeningDecision:
    """A staff member's screening decision; the report it was made on is kept with it."""

    application_id: str
    decision: Literal["pass", "fail"]
    reason: str
    decided_by: str
    decided_at: datetime
    report_outcome: Outcome
    overrides: tuple[str, ...] = ()


def decide(
    application_id: str,
    report: ScreeningReport,
    decision: str,
    decided_by: str,
    decided_at: datetime,
    reason: str = "",
) -> ScreeningDecision:
    """Record pass/fail. A fail always needs a reason (the applicant is told why); passing an
    application that failed a rule is an override and needs a reason too (audit)."""
    reason = (reason or "").strip()
    if decision not in ("pass", "fail"):
        raise InvalidInput([issue("screening_decision_invalid", "decision", {"value": decision})])
    if decision == "fail" and not reason:
        raise InvalidInput([issue("screening_reason_required", "reason")])
    overrides = report.failed_rules if decision == "pass" else ()
    if overrides and not reason:
        raise InvalidInput([issue("override_reason_required", "reason", {"failed_rules": list(overrides)})])
    return ScreeningDecision(application_id, decision, reason, decided_by, decided_at,  # type: ignore[arg-type]
                             report.outcome, overrides)
