"""Rules for the recommendation form against a call.

``check_draft`` looks only at what is filled in (formats, membership, limits) so a draft can be
saved at any time; ``check_submission`` adds the window, completeness and evidence ownership.
Both return every issue found, never just the first, each with a field path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from gongyi.errors import Issue

from .calls import CallDocument
from .contact_formats import is_email, is_mainland_mobile, is_web_link
from .form import FIELD_LABELS, ApplicationForm, narrative_fields
from .text_count import count_chars
from .uscc import credit_code_problem

EvidenceOwnerCheck = Callable[[list[str]], set[str]]

PROJECT_NAME_MAX_CHARS = 100

# What a submitted form must have. The media reports, figures and evidence are optional (鼓励).
REQUIRED_FIELDS: tuple[str, ...] = (
    "project_name",
    "category",
    "applicant.name",
    "applicant.type",
    "applicant.credit_code",
    "applicant.province",
    "applicant.address",
    "contact.name",
    "contact.mobile",
    "contact.email",
    "started_on",
    "still_running",
    "summary",
    "implementation_results",
    "innovation",
    "approval.department",  # 规范性: approved by the supervising department
    "unit_code",
)
PLATFORM_FIELDS = ("website", "app", "mini_program", "account")
_MEDIA_REPORT_PARTS = (
    ("title", "标题"),
    ("outlet", "媒体名称"),
    ("published_on", "发布日期"),
    ("url", "网址链接"),
)


def _issue(code: str, zh: str, en: str, path: str = "", **details: Any) -> Issue:
    return Issue(code=code, message_zh=zh, message_en=en, path=path, details=details)


def _get(form: ApplicationForm, path: str) -> Any:
    value: Any = form
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _label(path: str) -> tuple[str, str]:
    return FIELD_LABELS.get(path, (path, path))


def _today(call: CallDocument, now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (server time)")
    return now.astimezone(call.window.tz).date()


def check_window(call: CallDocument, now: datetime) -> list[Issue]:
    """Open from ``window.opens`` through the whole second of ``window.closes`` (call time zone)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (server time)")
    local = now.astimezone(call.window.tz).replace(microsecond=0)
    closes = call.window.closes.astimezone(call.window.tz)
    if local < call.window.opens:
        return [
            _issue(
                "call_not_open",
                f"征集尚未开始，开始时间为{call.window.opens:%Y-%m-%d %H:%M}",
                f"The call opens at {call.window.opens.isoformat()}",
                opens=call.window.opens.isoformat(),
            )
        ]
    if local > closes:
        return [
            _issue(
                "call_closed",
                f"征集已于{closes:%Y年%m月%d日 %H:%M:%S}截止，不再接收申报",
                f"The call closed at {closes.isoformat()}; no new applications are accepted",
                closes=closes.isoformat(),
            )
        ]
    return []


def _required(form: ApplicationForm) -> list[Issue]:
    issues = []
    for path in REQUIRED_FIELDS:
        if _get(form, path) is None:
            zh, en = _label(path)
            issues.append(_issue("field_required", f"请填写{zh}", f"The {en} is required", path))
    if not any(getattr(form.platform, name) for name in PLATFORM_FIELDS):
        issues.append(
            _issue(
                "platform_required",
                "请至少填写一个项目所依托的互联网平台（网站、客户端、小程序或账号）",
                "Give at least one internet platform the project runs on "
                "(website, app, mini program or account)",
                "platform",
            )
        )
    for i, fig in enumerate(form.figures):
        for part in ("label", "value"):
            if getattr(fig, part) is None:
                issues.append(
                    _issue(
                        "field_required",
                        "主要数据的名称和数值都要填写",
                        f"Each key figure needs a {part}",
                        f"figures[{i}].{part}",
                    )
                )
    for i, report in enumerate(form.media_reports):
        for part, zh in _MEDIA_REPORT_PARTS:
            if getattr(report, part) is None:
                issues.append(
                    _issue(
                        "field_required",
                        f"请填写媒体报道的{zh}",
                        f"The media report's {part} is required",
                        f"media_reports[{i}].{part}",
                    )
                )
    return issues


def _membership(form: ApplicationForm, call: CallDocument) -> list[Issue]:
    issues = []
    if form.category is not None and form.category not in call.category_codes():
        issues.append(
            _issue(
                "unknown_category",
                "所选项目类别不属于本次征集",
                f"Category {form.category!r} is not one of this call's categories",
                "category",
                allowed=sorted(call.category_codes()),
            )
        )
    kind = form.applicant.type
    if kind is not None and kind not in call.applicant_type_codes():
        issues.append(
            _issue(
                "unknown_applicant_type",
                "申报主体类型不在本次征集范围内",
                f"Applicant type {kind!r} may not apply to this call",
                "applicant.type",
                allowed=sorted(call.applicant_type_codes()),
            )
        )
    if form.unit_code is not None and call.unit(form.unit_code) is None:
        issues.append(
            _issue(
                "unknown_recommending_unit",
                "所选推荐单位不属于本次征集",
                f"Recommending unit {form.unit_code!r} is not one of this call's units",
                "unit_code",
            )
        )
    return issues


def _eligibility(form: ApplicationForm, call: CallDocument) -> list[Issue]:
    issues = []
    before = call.eligibility.started_before
    if before is not None and form.started_on is not None and form.started_on >= before:
        issues.append(
            _issue(
                "started_too_late",
                f"项目须在{before:%Y年%m月%d日}以前开始实施",
                f"The project must have started before {before.isoformat()}",
                "started_on",
                started_before=before.isoformat(),
            )
        )
    if call.eligibility.must_be_running and form.still_running is False:
        issues.append(
            _issue(
                "project_not_running",
                "项目须正在实施",
                "The project must still be running",
                "still_running",
            )
        )
    return issues


def _text_limit(form: ApplicationForm, call: CallDocument) -> list[Issue]:
    limit = call.text_limit
    total = 0
    per_field: dict[str, int] = {}
    crossed_at = ""
    for name, text in narrative_fields(form, limit.fields).items():
        per_field[name] = count_chars(text)
        total += per_field[name]
        if total > limit.max_chars and not crossed_at:
            crossed_at = name  # point at the field where the text runs over
    if total <= limit.max_chars:
        return []
    return [
        _issue(
            "text_too_long",
            f"申报材料总字数为{total}字，超过{limit.max_chars}字的上限",
            f"The narrative has {total} characters, over the limit of {limit.max_chars}",
            crossed_at,
            count=total,
            max_chars=limit.max_chars,
            per_field=per_field,
        )
    ]


def _formats(form: ApplicationForm, today: date | None) -> list[Issue]:
    issues = []
    if form.project_name is not None and count_chars(form.project_name) > PROJECT_NAME_MAX_CHARS:
        issues.append(
            _issue(
                "project_name_too_long",
                f"项目名称不能超过{PROJECT_NAME_MAX_CHARS}字",
                f"The project name may have at most {PROJECT_NAME_MAX_CHARS} characters",
                "project_name",
            )
        )
    code = form.applicant.credit_code
    if code is not None:
        problem = credit_code_problem(code)
        if problem:
            issues.append(
                _issue(
                    "invalid_credit_code",
                    problem.message_zh,
                    problem.message_en,
                    "applicant.credit_code",
                    reason=problem.reason,
                )
            )
    if form.contact.mobile is not None and not is_mainland_mobile(form.contact.mobile):
        issues.append(
            _issue(
                "invalid_mobile",
                "手机号码格式不正确，应为11位中国大陆手机号",
                "Not a mainland China mobile number (11 digits starting 13-19)",
                "contact.mobile",
            )
        )
    if form.contact.email is not None and not is_email(form.contact.email):
        issues.append(
            _issue("invalid_email", "电子邮箱格式不正确", "Not a valid e-mail address", "contact.email")
        )
    links = [("platform.website", form.platform.website)]
    links += [(f"media_reports[{i}].url", r.url) for i, r in enumerate(form.media_reports)]
    for path, url in links:
        if url is not None and not is_web_link(url):
            issues.append(
                _issue(
                    "invalid_url",
                    "链接格式不正确，应以 http:// 或 https:// 开头",
                    "Not a web link (must start with http:// or https://)",
                    path,
                )
            )
    if form.beneficiaries is not None and form.beneficiaries < 0:
        issues.append(
            _issue(
                "invalid_number", "受益人数不能为负数", "Beneficiaries cannot be negative", "beneficiaries"
            )
        )
    if today is not None:
        dates = [("started_on", form.started_on)]
        dates += [
            (f"media_reports[{i}].published_on", r.published_on) for i, r in enumerate(form.media_reports)
        ]
        for path, day in dates:
            if day is not None and day > today:
                issues.append(
                    _issue(
                        "date_in_future",
                        "日期不能晚于今天",
                        "The date cannot be in the future",
                        path,
                        today=today.isoformat(),
                    )
                )
    return issues


def _present_checks(form: ApplicationForm, call: CallDocument, today: date | None) -> list[Issue]:
    return (
        _membership(form, call) + _eligibility(form, call) + _text_limit(form, call) + _formats(form, today)
    )


def _evidence(
    form: ApplicationForm, call: CallDocument, owner_check: EvidenceOwnerCheck | None
) -> list[Issue]:
    issues = []
    rules = call.evidence
    if rules.require_at_least_one and not (form.image_evidence_ids or form.video_evidence_ids):
        issues.append(
            _issue(
                "evidence_required",
                "请至少上传一张图片或一段视频作为辅证材料",
                "Attach at least one image or video as evidence",
                "image_evidence_ids",
            )
        )
    if rules.media_report_requires_screenshot:
        for i, report in enumerate(form.media_reports):
            if report.screenshot_evidence_id is None:
                issues.append(
                    _issue(
                        "media_report_screenshot_missing",
                        "媒体报道须同时提供清晰截图和网址链接",
                        "A media report needs a clear screenshot as well as its link",
                        f"media_reports[{i}].screenshot_evidence_id",
                    )
                )
    refs = [(f"image_evidence_ids[{i}]", e) for i, e in enumerate(form.image_evidence_ids)]
    refs += [(f"video_evidence_ids[{i}]", e) for i, e in enumerate(form.video_evidence_ids)]
    refs += [
        (f"media_reports[{i}].screenshot_evidence_id", r.screenshot_evidence_id)
        for i, r in enumerate(form.media_reports)
        if r.screenshot_evidence_id is not None
    ]
    if owner_check is not None and refs:
        known = owner_check(list(dict.fromkeys(e for _, e in refs)))
        for path, evidence_id in refs:
            if evidence_id not in known:
                issues.append(
                    _issue(
                        "evidence_not_found",
                        "辅证材料不存在或不属于本申报主体，请重新上传",
                        "This evidence does not exist or does not belong to the applicant",
                        path,
                        evidence_id=evidence_id,
                    )
                )
    return issues


def check_draft(form: ApplicationForm, call: CallDocument, today: date | None = None) -> list[Issue]:
    """Issues with what is filled in; missing fields are fine. Dates are checked when ``today`` is given."""
    return _present_checks(form, call, today)


def check_submission(
    form: ApplicationForm,
    call: CallDocument,
    now: datetime,
    evidence_owner_check: EvidenceOwnerCheck | None = None,
) -> list[Issue]:
    """Every reason ``form`` cannot be submitted to ``call`` at server time ``now`` (aware)."""
    return (
        check_window(call, now)
        + _required(form)
        + _present_checks(form, call, _today(call, now))
        + _evidence(form, call, evidence_owner_check)
    )
