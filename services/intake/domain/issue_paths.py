"""Turn validation locations (pydantic ``loc``, jsonschema ``absolute_path``) into one
field-path style, ``applicant.credit_code`` / ``media_reports[0].url``, so every issue the
intake service reports points at a field the same way."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError

from gongyi.errors import Issue
from gongyi.limits import MAX_NAMED


def format_path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def validation_issues(exc: ValidationError, code: str, prefix: str = "") -> list[Issue]:
    """One issue per pydantic error; the English message is pydantic's own, the Chinese one generic."""
    issues: list[Issue] = []
    errors = exc.errors(include_url=False, include_input=False)
    for err in errors[:MAX_NAMED]:
        # Drop pydantic's union/validator tags (e.g. "function-after[...]") from the location.
        loc = [p for p in err["loc"] if isinstance(p, int) or "[" not in str(p)]
        path = format_path(loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        issues.append(
            Issue(
                code=code,
                message_zh=f"字段格式不正确：{path or '（整体）'}",
                message_en=f"{path or 'document'}: {err['msg']}",
                path=path,
                details={"type": err["type"]},
            )
        )
    if len(errors) > MAX_NAMED:  # name at most 20 (60,000 unknown keys once made an 11.6 MB answer)
        rest = len(errors) - MAX_NAMED
        issues.append(Issue("more_issues", f"另有 {rest} 处问题未列出", f"{rest} more issues not listed", prefix,
                            {"count": rest}))
    return issues
