"""The recommendation form (推荐表) an applicant fills in.

Every field is optional so a draft can be saved half done; completeness is checked only on
submission (``rules.check_submission``). Blank strings count as absent.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from gongyi.errors import InvalidInput

from .issue_paths import validation_issues

# The free-text fields a call's text limit may count (推荐表 narrative sections).
NARRATIVE_FIELDS: tuple[str, ...] = ("summary", "implementation_results", "innovation")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _code_upper(value: Any) -> Any:
    # Credit codes are printed in upper case; people often type them in lower case.
    value = _blank_to_none(value)
    return value.upper() if isinstance(value, str) else value


Text = Annotated[Annotated[str, Field(max_length=20000)] | None, BeforeValidator(_blank_to_none)]
# names, codes, addresses and contact details are one line each (900 KB names were accepted)
Line = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)]
LongLine = Annotated[Annotated[str, Field(max_length=500)] | None, BeforeValidator(_blank_to_none)]
UpperCode = Annotated[Annotated[str, Field(max_length=64)] | None, BeforeValidator(_code_upper)]
OptDate = Annotated[date | None, BeforeValidator(_blank_to_none)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Applicant(_Part):
    name: Line = None
    type: Line = None  # applicant type code from the call
    credit_code: UpperCode = None  # unified social credit code (统一社会信用代码)
    province: Line = None
    address: LongLine = None


class Contact(_Part):
    """Personal data: only the applicant, its unit and organiser staff may see it."""

    name: Line = None
    title: Line = None
    mobile: Line = None
    email: Line = None


class Approval(_Part):
    """The supervising department's approval (规范性)."""

    department: Line = None
    document_no: Line = None


class Platform(_Part):
    """Where the project lives online (平台化)."""

    website: LongLine = None
    app: Line = None
    mini_program: Line = None
    account: Line = None


class Figure(_Part):
    label: Line = None
    value: Line = None


class MediaReport(_Part):
    title: LongLine = None
    outlet: Line = None
    published_on: OptDate = None
    url: LongLine = None
    screenshot_evidence_id: Line = None


class ApplicationForm(_Part):
    project_name: Line = None
    category: Line = None
    applicant: Applicant = Field(default_factory=Applicant)
    contact: Contact = Field(default_factory=Contact)
    started_on: OptDate = None
    still_running: bool | None = None
    summary: Text = None
    implementation_results: Text = None
    innovation: Text = None
    approval: Approval = Field(default_factory=Approval)
    platform: Platform = Field(default_factory=Platform)
    beneficiaries: int | None = None
    figures: list[Figure] = Field(default_factory=list)
    media_reports: list[MediaReport] = Field(default_factory=list)
    image_evidence_ids: list[str] = Field(default_factory=list)
    video_evidence_ids: list[str] = Field(default_factory=list)
    unit_code: Line = None


def parse_form(data: dict[str, Any]) -> ApplicationForm:
    """Build a form from client data; wrong types or unknown fields raise InvalidInput with paths."""
    try:
        return ApplicationForm.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(validation_issues(exc, "form_field_invalid")) from exc


def narrative_fields(
    form: ApplicationForm, names: tuple[str, ...] | list[str] = NARRATIVE_FIELDS
) -> dict[str, str]:
    """The narrative texts present in ``form`` among ``names`` (a call's ``text_limit.fields``)."""
    out: dict[str, str] = {}
    for name in names:
        if name not in NARRATIVE_FIELDS:
            raise ValueError(f"not a narrative field: {name}")
        text = getattr(form, name)
        if text:
            out[name] = text
    return out


# Field labels shown to people (issues, the XLSX template): path -> (Chinese, English).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "project_name": ("项目名称", "project name"),
    "category": ("项目类别", "category"),
    "applicant.name": ("申报主体名称", "applicant name"),
    "applicant.type": ("申报主体类型", "applicant type"),
    "applicant.credit_code": ("统一社会信用代码", "unified social credit code"),
    "applicant.province": ("所在省份", "province"),
    "applicant.address": ("通讯地址", "address"),
    "contact.name": ("联系人", "contact name"),
    "contact.title": ("联系人职务", "contact title"),
    "contact.mobile": ("联系人手机", "contact mobile"),
    "contact.email": ("联系人邮箱", "contact e-mail"),
    "started_on": ("开始实施日期", "start date"),
    "still_running": ("是否正在实施", "still running"),
    "summary": ("项目简介", "summary"),
    "implementation_results": ("实施成效", "implementation results"),
    "innovation": ("创新做法与示范意义", "innovation"),
    "approval.department": ("业务主管部门", "supervising department"),
    "approval.document_no": ("批准或备案文号", "approval document number"),
    "platform.website": ("网站", "website"),
    "platform.app": ("客户端（App）", "app"),
    "platform.mini_program": ("小程序", "mini program"),
    "platform.account": ("公众号或账号", "account"),
    "beneficiaries": ("受益人数", "beneficiaries"),
    "figures": ("主要数据", "key figures"),
    "unit_code": ("推荐单位", "recommending unit"),
}
