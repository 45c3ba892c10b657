"""Call documents (征集活动配置): the YAML a call is configured with, its JSON Schema
(``contracts/calls/call.schema.json``) and the pydantic model the service uses.

A document must pass both the schema (the contract other languages can use) and the model
(types, time zones), then the cross-field checks neither can express (unique codes, ordering).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from jsonschema import Draft202012Validator
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from gongyi.contracts import CONTRACTS_ROOT
from gongyi.errors import InvalidInput, Issue

from .issue_paths import format_path, validation_issues

# the repo keeps contracts at its top level; an installed image points GONGYI_CONTRACTS_DIR at them
SCHEMA_PATH = CONTRACTS_ROOT / "calls" / "call.schema.json"
DEFAULT_TIMEZONE = "Asia/Shanghai"

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$", max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
PositiveInt = Annotated[int, Field(strict=True, ge=1)]
NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
NarrativeField = Literal["summary", "implementation_results", "innovation"]
UnitKind = Literal[
    "provincial_cyberspace_office",
    "central_news_website",
    "city_cyberspace_office",
    "provincial_departments",
    "other",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Labelled(_Model):
    code: Code
    label: Text


class Window(_Model):
    opens: datetime
    closes: datetime
    timezone: str = DEFAULT_TIMEZONE

    @model_validator(mode="after")
    def _localise(self) -> Window:
        try:
            tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        # Naive times in the document mean wall-clock time in the call's own zone.
        for name in ("opens", "closes"):
            value = getattr(self, name)
            if value.tzinfo is None:
                object.__setattr__(self, name, value.replace(tzinfo=tz))
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Category(_Model):
    code: Code
    label: Text
    definition: LongText


class Criterion(_Model):
    code: Code
    label: Text
    definition: LongText
    weight: Annotated[float, Field(gt=0)]
    max_score: Annotated[float, Field(gt=0)]


class Eligibility(_Model):
    started_before: date | None = None
    must_be_running: StrictBool


class TextLimit(_Model):
    max_chars: PositiveInt
    fields: Annotated[list[NarrativeField], Field(min_length=1)]

    @field_validator("fields")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("fields must be unique")
        return value


class EvidenceRules(_Model):
    min_image_width: NonNegativeInt
    min_image_height: NonNegativeInt
    on_low_resolution: Literal["reject", "warn"]
    require_at_least_one: StrictBool
    media_report_requires_screenshot: StrictBool


class RecommendingUnit(_Model):
    code: Code
    name: Text
    kind: UnitKind
    province: Text | None = None


class CategoryQuota(_Model):
    min: NonNegativeInt
    max: NonNegativeInt | None = None  # only a minimum is meant: no upper limit


class Quotas(_Model):
    select_about: PositiveInt
    per_unit: PositiveInt | None = None
    per_category: dict[Code, CategoryQuota] | None = None


class ReviewRules(_Model):
    experts_per_project: PositiveInt
    blind: StrictBool
    conflict_same_province: StrictBool
    conflict_same_unit: StrictBool
    trim: StrictBool  # drop each project's highest and lowest score before averaging
    # 评审截止: experts whose reviews are not submitted are reminded this many days before
    due: datetime | None = None
    remind_days_before: Annotated[int, Field(strict=True, ge=0, le=60)] = 3


class Notice(_Model):
    working_days: PositiveInt
    # a rehearsal's compressed timetable: the notice period in minutes instead of working days
    minutes: Annotated[float, Field(gt=0, le=7 * 24 * 60)] | None = None


class Stage(_Model):
    code: Code
    label: Text
    starts: date | None = None
    ends: date | None = None


class KeyDate(_Model):
    date: Annotated[str, StringConstraints(pattern=r"^([0-9]{4}-)?[0-9]{2}-[0-9]{2}$")]
    label: Text

    @field_validator("date")
    @classmethod
    def _real_day(cls, value: str) -> str:
        # MM-DD recurs every year; check it against a leap year so 02-29 is allowed.
        date.fromisoformat(value if len(value) == 10 else f"2000-{value}")
        return value

    @property
    def recurring(self) -> bool:
        return len(self.date) == 5

    def on(self, year: int) -> date | None:
        """The day this key date falls on in ``year`` (None for a one-off date in another year)."""
        if self.recurring:
            month, day = (int(p) for p in self.date.split("-"))
            try:
                return date(year, month, day)
            except ValueError:
                return None
        day_ = date.fromisoformat(self.date)
        return day_ if day_.year == year else None


# the report kinds publish assumes for a call without a ``reporting`` section, written out when
# staff give such a call its tracking-report deadlines
DEFAULT_REPORT_KINDS: tuple[dict[str, str], ...] = (
    {"code": "work_update", "label": "工作动态"},
    {"code": "major_event", "label": "重大活动"},
    {"code": "typical_case", "label": "典型案例"},
    {"code": "milestone", "label": "阶段性成果"},
)


class Reporting(_Model):
    kinds: Annotated[list[Labelled], Field(min_length=1)]
    # 跟踪报告截止: each selected project that filed no report since the previous one is reminded
    due: Annotated[list[datetime], Field(max_length=24)] = Field(default_factory=list)
    remind_days_before: Annotated[int, Field(strict=True, ge=0, le=60)] = 7


class CallDocument(_Model):
    id: Slug
    title: Text
    organiser: Text
    window: Window
    applicant_types: Annotated[list[Labelled], Field(min_length=1)]
    categories: Annotated[list[Category], Field(min_length=1)]
    criteria: Annotated[list[Criterion], Field(min_length=1)]
    eligibility: Eligibility
    text_limit: TextLimit
    evidence: EvidenceRules
    recommending_units: Annotated[list[RecommendingUnit], Field(min_length=1)]
    quotas: Quotas
    review: ReviewRules
    notice: Notice
    stages: Annotated[list[Stage], Field(min_length=1)]
    key_dates: list[KeyDate] = Field(default_factory=list)
    themes: list[Labelled] = Field(default_factory=list)
    reporting: Reporting | None = None
    # a rehearsal (演练) runs the whole call for practice: its outputs are marked and kept out of
    # public lists and feeds, and its notice period may be set in minutes
    rehearsal: StrictBool = False

    @model_validator(mode="after")
    def _localise_deadlines(self) -> CallDocument:
        # Naive deadlines, like the window, are wall-clock time in the call's own zone.
        tz = self.window.tz
        if self.review.due is not None and self.review.due.tzinfo is None:
            object.__setattr__(self.review, "due", self.review.due.replace(tzinfo=tz))
        if self.reporting is not None:
            due = sorted(d if d.tzinfo else d.replace(tzinfo=tz) for d in self.reporting.due)
            object.__setattr__(self.reporting, "due", due)
        return self

    def category_codes(self) -> set[str]:
        return {c.code for c in self.categories}

    def applicant_type_codes(self) -> set[str]:
        return {t.code for t in self.applicant_types}

    def unit(self, code: str) -> RecommendingUnit | None:
        return next((u for u in self.recommending_units if u.code == code), None)


@lru_cache(maxsize=1)
def call_schema() -> dict[str, Any]:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = call_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _jsonable(value: Any) -> Any:
    """YAML/JSON loaders may hand us date objects; the schema speaks ISO strings."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def schema_issues(data: Any) -> list[Issue]:
    """Every JSON Schema violation in ``data``, each with its field path."""
    issues = []
    errors = _validator().iter_errors(_jsonable(data))
    for err in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        path = format_path(err.absolute_path)
        issues.append(
            Issue(
                code="call_schema_violation",
                message_zh=f"征集活动配置不符合规范：{path or '（整体）'}",
                message_en=f"{path or 'document'}: {err.message}",
                path=path,
                details={"validator": err.validator},
            )
        )
    return issues


def _duplicates(items: Iterable[Any], path: str) -> list[Issue]:
    seen: set[str] = set()
    issues = []
    for i, item in enumerate(items):
        if item.code in seen:
            issues.append(
                Issue(
                    "call_duplicate_code",
                    f"代码重复：{item.code}",
                    f"Duplicate code: {item.code}",
                    f"{path}[{i}].code",
                    {"code": item.code},
                )
            )
        seen.add(item.code)
    return issues


def semantic_issues(call: CallDocument) -> list[Issue]:
    """Cross-field rules that neither the schema nor the field types express."""
    issues: list[Issue] = []
    if call.window.closes <= call.window.opens:
        issues.append(
            Issue(
                "call_window_inverted",
                "截止时间必须晚于开始时间",
                "The window must close after it opens",
                "window.closes",
            )
        )
    if call.notice.minutes is not None and not call.rehearsal:
        issues.append(
            Issue(
                "call_notice_minutes_outside_rehearsal",
                "只有演练活动的公示期可以按分钟设置",
                "Only a rehearsal may set its notice period in minutes",
                "notice.minutes",
            )
        )
    for path in ("applicant_types", "categories", "criteria", "recommending_units", "stages", "themes"):
        issues += _duplicates(getattr(call, path), path)
    if call.reporting:
        issues += _duplicates(call.reporting.kinds, "reporting.kinds")
    for code, quota in (call.quotas.per_category or {}).items():
        path = f"quotas.per_category.{code}"
        if code not in call.category_codes():
            issues.append(
                Issue("call_unknown_category", f"未知的项目类别：{code}", f"Unknown category: {code}", path)
            )
        if quota.max is not None and quota.min > quota.max:
            issues.append(
                Issue("call_quota_inverted", "名额下限大于上限", "Quota minimum exceeds its maximum", path)
            )
    for i, stage in enumerate(call.stages):
        if stage.starts and stage.ends and stage.ends < stage.starts:
            issues.append(
                Issue(
                    "call_stage_inverted",
                    f"阶段“{stage.label}”的结束日期早于开始日期",
                    f"Stage {stage.code} ends before it starts",
                    f"stages[{i}].ends",
                )
            )
    return issues


def parse_call(data: dict[str, Any]) -> CallDocument:
    """Validate ``data`` against the schema, the model and the cross-field rules."""
    if not isinstance(data, dict):
        raise InvalidInput(
            [Issue("call_not_mapping", "征集活动配置必须是一个对象", "A call document must be a mapping")]
        )
    issues = schema_issues(data)
    if issues:
        raise InvalidInput(issues)
    try:
        call = CallDocument.model_validate(_jsonable(data))
    except ValidationError as exc:
        raise InvalidInput(validation_issues(exc, "call_invalid")) from exc
    issues = semantic_issues(call)
    if issues:
        raise InvalidInput(issues)
    return call


class _CallLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings, so times keep their written form."""


_CallLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_call_text(text: str) -> CallDocument:
    try:
        data = yaml.load(text, Loader=_CallLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InvalidInput(
            [Issue("call_yaml_invalid", "配置文件不是有效的 YAML", f"Not valid YAML: {exc}")]
        ) from exc
    return parse_call(data)


def load_call_file(path: str | Path) -> CallDocument:
    return load_call_text(Path(path).read_text(encoding="utf-8"))
