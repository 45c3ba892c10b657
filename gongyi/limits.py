"""Input limits, declared once per schema and applied before a model sees the data.

A request model may set ``input_limits: ClassVar[InputLimits]``; every other model gets
``DEFAULT_LIMITS``. The JSON body is walked once, iteratively (a 100,000-deep document never
reaches Python's recursion limit), and refused at the first limit it breaks, so an answer to a
hostile document stays small (at most ``MAX_NAMED`` findings) and costs no more than reading it.
Field lengths of their own are pydantic ``max_length`` on the field; ``max_string`` bounds the
rest (free-form ``dict`` parts such as the recommendation form).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gongyi.errors import BadRequest, InvalidInput, Issue

MAX_NAMED = 20
# C0 controls but tab, newline and carriage return; DEL; C1 controls
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# integers a query may carry: what every store (SQLite, PostgreSQL bigint, a JSON number read by
# JavaScript) holds exactly
MAX_QUERY_INT = 2**53 - 1


@dataclass(frozen=True)
class InputLimits:
    max_depth: int = 16
    max_keys: int = 2000  # object keys over the whole document
    max_items: int = 10000  # list items over the whole document
    max_string: int = 20000  # characters in one string


DEFAULT_LIMITS = InputLimits()


def limits_of(model: type) -> InputLimits:
    return getattr(model, "input_limits", DEFAULT_LIMITS)


def text_issue(value: str, path: str) -> Issue | None:
    """A finding for one text value: control characters or lone surrogates are never stored."""
    if _CONTROL.search(value):
        return Issue("control_character", f"字段“{path}”含有不可见的控制字符",
                     f"{path}: control characters are not allowed", path)
    if _SURROGATE.search(value):
        return Issue("invalid_unicode", f"字段“{path}”含有无效的 Unicode 字符",
                     f"{path}: lone surrogates are not valid text", path)
    return None


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_document(data: Any, limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Refuse a parsed JSON document that breaks ``limits``: 400 for its shape (depth, size),
    422 with at most ``MAX_NAMED`` issues for its text."""
    keys = items = 0
    issues: list[Issue] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            issue = text_issue(value, path or "(body)")
            if issue is None and len(value) > limits.max_string:
                issue = Issue("string_too_long", f"字段“{path}”过长（上限 {limits.max_string} 字）",
                              f"{path}: longer than {limits.max_string} characters", path,
                              {"max_length": limits.max_string})
            if issue is not None:
                issues.append(issue)
                if len(issues) >= MAX_NAMED:
                    break
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > limits.max_depth:
            raise BadRequest("json_too_deep", f"请求内容嵌套过深（上限 {limits.max_depth} 层）",
                             f"The JSON document is nested deeper than {limits.max_depth}",
                             {"max_depth": limits.max_depth})
        if isinstance(value, dict):
            keys += len(value)
            if keys > limits.max_keys:
                raise BadRequest("too_many_keys", f"请求内容的字段过多（上限 {limits.max_keys} 个）",
                                 f"The JSON document has more than {limits.max_keys} keys",
                                 {"max_keys": limits.max_keys})
            for k, v in value.items():
                issue = text_issue(k, _path(path, "(key)"))
                if issue is not None:
                    issues.append(issue)
                stack.append((v, _path(path, k[:100]), depth + 1))
        else:
            items += len(value)
            if items > limits.max_items:
                raise BadRequest("too_many_items", f"请求内容的列表项过多（上限 {limits.max_items} 项）",
                                 f"The JSON document has more than {limits.max_items} list items",
                                 {"max_items": limits.max_items})
            stack.extend((v, _path(path, i), depth + 1) for i, v in enumerate(value))
    if issues:
        raise InvalidInput(issues[:MAX_NAMED])


def cap_issues(issues: list[Issue]) -> list[Issue]:
    """At most ``MAX_NAMED`` findings; unknown keys past that are counted, not named, so the
    answer to a form with 60,000 unknown keys stays a few KB."""
    if len(issues) <= MAX_NAMED:
        return issues
    kept = issues[:MAX_NAMED]
    rest = len(issues) - MAX_NAMED
    kept.append(Issue("more_issues", f"另有 {rest} 处问题未列出", f"{rest} more issues not listed", "",
                      {"count": rest}))
    return kept


def check_query_value(key: str, value: str) -> Issue | None:
    issue = text_issue(value, f"query.{key}") or text_issue(key, "query")
    if issue is None and len(value) > limits_of(object).max_string:
        issue = Issue("string_too_long", "查询参数过长", f"query.{key}: too long", f"query.{key}")
    return issue


def query_int_out_of_range(value: str) -> bool:
    """An integer literal beyond what a store can hold (``offset=9223372036854775808``)."""
    text = value.strip()
    body = text[1:] if text[:1] in "+-" else text
    return body.isdigit() and body.isascii() and (len(body) > 16 or int(body) > MAX_QUERY_INT)
