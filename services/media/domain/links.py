"""Media-report links: validation, normalisation (for duplicate detection), the report model.

The call asks that a media report come with "清晰截图和网址链接" (a clear screenshot and the
link). The same article shared from a phone, WeChat or a PC differs only in subdomain,
tracking parameters and fragments; ``normalise_link`` maps those to one string so the
review service can spot the same report submitted twice. The original URL is kept for
display; only the normalised one is compared.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import idna
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from gongyi.errors import DomainError, InvalidInput, Issue

from .refusals import message, refusal

MAX_URL_LENGTH = 2048
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Leading labels that only select a mobile or legacy front end of the same site.
FRONTEND_LABELS = ("www", "m", "wap", "3g", "mobile")

# Query parameters that identify the sharer, campaign or app, never the article. Names
# that are ambiguous elsewhere ("key", "app", "ts") are only dropped on hosts listed in
# HOST_QUERY_ALLOWLIST, where the whole query is reduced to the known identity parameters.
TRACKING_PARAMS = frozenset(
    {
        # generic campaign / click ids
        "fbclid",
        "gclid",
        "dclid",
        "yclid",
        "msclkid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "ref_src",
        # Alibaba / Youku ("spm", "scm") and common Chinese share links
        "spm",
        "scm",
        "from",
        "share_token",
        "isappinstalled",
        "scene",
        "clicktime",
        "enterid",
        "wfr",
        "tt_from",
        "vd_source",
        "xsec_source",
        "xsec_token",
        "u_code",
        "previous_page",
        "launch_from",
        "upstream_biz",
        "use_new_style",
        "unique_k",
        "ascene",
        "subscene",
        "pass_ticket",
        "exportkey",
        "chksm",
        "mpshare",
    }
)
TRACKING_PREFIXES = ("utm_", "sharer_", "share_")
# Hosts (after normalisation) whose article identity is in the path or a known small set
# of parameters: everything else in their query is share noise or a per-reader token.
HOST_QUERY_ALLOWLIST: dict[str, frozenset[str]] = {
    "mp.weixin.qq.com": frozenset({"__biz", "mid", "idx", "sn"}),
    "toutiao.com": frozenset(),
    "douyin.com": frozenset(),
    "weibo.com": frozenset(),
    "xiaohongshu.com": frozenset(),
    "bilibili.com": frozenset({"p"}),
}

_UNRESERVED_PATH = "/:@!$&'()*+,;=-._~"
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _invalid(reason: str, url: str) -> Exception:
    return refusal("invalid_link", reason=reason, url=url[:200])


def _host(raw: str, url: str) -> str:
    host = raw.strip().rstrip(".").lower()
    if not host:
        raise _invalid("missing_host", url)
    if ":" in host or host.startswith("[") or re.fullmatch(r"[0-9.]+", host):
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError as exc:
            raise _invalid("bad_host", url) from exc
        if not address.is_global:
            # The service may fetch the link (previews, archiving): no internal addresses.
            raise _invalid("private_host", url)
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise _invalid("bad_host", url) from exc
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise _invalid("bad_host", url)
    if labels[-1] in ("localhost", "local", "internal", "lan"):
        raise _invalid("private_host", url)
    while len(labels) > 2 and labels[0] in FRONTEND_LABELS:
        labels = labels[1:]
    return ".".join(labels)


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if output:
                output.pop()
        elif segment != ".":
            output.append(segment)
    # A trailing "." or ".." means the path ends with a slash.
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/" + "/".join(output)


def _path(raw: str) -> str:
    if not raw:
        return ""
    # Decode then re-encode once: "%7E", "~" and "%7e" become the same; non-ASCII is
    # percent-encoded as UTF-8; an encoded "/" stays encoded.
    parts = [quote(unquote(part), safe=_UNRESERVED_PATH) for part in re.split("%2[fF]", raw)]
    path = "%2F".join(parts)
    path = _remove_dot_segments(path if path.startswith("/") else "/" + path)
    return path.rstrip("/")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _query(raw: str, host: str) -> str:
    pairs = parse_qsl(raw, keep_blank_values=True)
    allow = HOST_QUERY_ALLOWLIST.get(host)
    if allow is not None:
        kept = [(k, v) for k, v in pairs if k in allow]
    else:
        kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
    return urlencode(sorted(kept), quote_via=quote, safe="-._~")


def _fragment(raw: str) -> str:
    # Hash-routed single-page apps put the article in the fragment ("#/news/1", "#!/a");
    # dropping those would make different reports look identical. Others are anchors.
    return raw if raw.startswith(("/", "!")) else ""


def normalise_link(url: str) -> str:
    """Canonical form of a public http(s) link; raises ``invalid_link``.

    Lowercase scheme and host, IDNA host, no default port, no www/m/wap/3g/mobile front-end
    label, no credentials, no tracking parameters (``TRACKING_PARAMS``, ``utm_*``,
    ``sharer_*``, ``share_*``), remaining parameters sorted, no anchor fragment, no
    trailing slash.
    """
    if not isinstance(url, str):
        raise _invalid("not_text", str(url))
    text = unicodedata.normalize("NFC", url.strip())
    if not text or len(text) > MAX_URL_LENGTH:
        raise _invalid("length", text)
    if _CONTROL_OR_SPACE.search(text):
        raise _invalid("whitespace_or_control", text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise _invalid("unparseable", text) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _invalid("scheme", text)
    if parts.username is not None or parts.password is not None:
        raise _invalid("credentials", text)
    host = _host(parts.hostname or "", text)
    netloc = host if port in (None, {"http": 80, "https": 443}[scheme]) else f"{host}:{port}"
    query = _query(parts.query, host)
    return urlunsplit((scheme, netloc, _path(parts.path), query, _fragment(parts.fragment)))


class _LinkInvalid(ValueError):
    """Carries ``invalid_link`` details through pydantic (which only wraps ValueError)."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(f"invalid_link: {details.get('reason', '')}")
        self.details = details


def today_shanghai() -> date:
    return datetime.now(SHANGHAI).date()


class MediaReport(BaseModel):
    """A media report cited as evidence: the article's link plus a screenshot evidence id.

    Validate with ``parse_media_report`` (bilingual issues) or ``MediaReport.model_validate(
    data, context={"today": date})`` to pin "today" in tests.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    url: str = Field(max_length=MAX_URL_LENGTH)
    outlet: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=200)
    published_on: date
    screenshot_evidence_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")

    @field_validator("url")
    @classmethod
    def _url_is_public_http(cls, value: str) -> str:
        try:
            normalise_link(value)
        except DomainError as exc:
            raise _LinkInvalid(exc.details) from exc
        return value

    @field_validator("published_on")
    @classmethod
    def _not_in_future(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today") or today_shanghai()
        if value > today:
            raise ValueError("published_on is in the future")
        return value

    @property
    def normalised_url(self) -> str:
        return normalise_link(self.url)


_FIELD_MESSAGES = {
    "outlet": ("请填写媒体名称（不超过100字）", "Give the outlet's name (at most 100 characters)"),
    "title": ("请填写报道标题（不超过200字）", "Give the report's title (at most 200 characters)"),
    "published_on": (
        "发布日期无效或晚于今天",
        "The publication date is invalid or later than today",
    ),
    "screenshot_evidence_id": (
        "媒体报道须同时提供清晰截图（截图文件编号无效）",
        "A media report needs a clear screenshot (the screenshot evidence id is invalid)",
    ),
}


def parse_media_report(data: dict[str, Any], today: date | None = None) -> MediaReport:
    """Validate a media report; every problem becomes one ``Issue`` in ``InvalidInput``."""
    try:
        return MediaReport.model_validate(data, context={"today": today} if today else None)
    except ValidationError as exc:
        issues: list[Issue] = []
        for error in exc.errors():
            field_name = str(error["loc"][0]) if error["loc"] else ""
            cause = (error.get("ctx") or {}).get("error")
            if field_name == "url":
                zh, en = message("invalid_link")
                details = getattr(cause, "details", {}) if cause is not None else {}
                issues.append(Issue("invalid_link", zh, en, "url", dict(details)))
                continue
            zh, en = _FIELD_MESSAGES.get(field_name, ("字段无效", "Invalid field"))
            code = (
                "required"
                if error["type"] == "missing"
                else ("unknown_field" if error["type"] == "extra_forbidden" else f"invalid_{field_name}")
            )
            issues.append(Issue(code, zh, en, field_name, {"type": error["type"]}))
        raise InvalidInput(issues) from exc
