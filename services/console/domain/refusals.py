"""The console's refusals: each a code with its Chinese text (shown on the page) and English."""

from __future__ import annotations

from gongyi.errors import DomainError

_CATALOGUE: dict[str, tuple[int, str, str]] = {
    "invalid_email": (422, "请填写有效的电子邮箱", "A valid e-mail address is required"),
    "weak_password": (422, "密码至少10个字符，且不能全是数字",
                      "The password needs at least 10 characters, not all digits"),
    "passwords_differ": (422, "两次输入的密码不一致", "The two passwords differ"),
    "email_taken": (409, "该邮箱已注册", "This e-mail address is already registered"),
    "bad_credentials": (401, "邮箱或密码不正确", "Wrong e-mail address or password"),
    "account_pending": (403, "账号尚未激活，请先点击邮件中的确认链接", "The account is not confirmed yet"),
    "too_many_attempts": (429, "尝试次数过多，请稍后再试", "Too many attempts; try again later"),
    "ticket_invalid": (400, "链接无效或已过期", "The link is invalid or has expired"),
    "csrf_failed": (403, "页面已过期或请求来源不明，请刷新页面后重试",
                    "The form's CSRF token is missing or wrong; reload the page"),
    "sign_in_required": (401, "请先登录", "Sign-in required"),
    "session_expired": (401, "登录已过期，请重新登录", "The session has expired; sign in again"),
    "wrong_role": (403, "您的账号无权访问该页面", "Your role may not open this page"),
    "missing_field": (422, "请填写所有必填项", "A required field is empty"),
    "invalid_role": (422, "角色无效", "Unknown role"),
    "unit_required": (422, "推荐单位账号须填写推荐单位代码", "A unit account needs its unit code"),
    "invalid_call_document": (422, "征集活动配置须为 YAML 或 JSON 格式的一个对象（不超过 1 MiB）",
                              "A call document is one YAML or JSON mapping of at most 1 MiB"),
    "invalid_deadline": (422, "日期格式应为 2025-06-30 或 2025-06-30T18:00",
                         "A deadline is a date (2025-06-30) or a date and time (2025-06-30T18:00)"),
    "expert_required": (422, "专家账号须填写专家编号", "An expert account needs its expert id"),
}


class ConsoleRefusal(DomainError):
    pass


def refuse(code: str, **details: object) -> ConsoleRefusal:
    status, zh, en = _CATALOGUE[code]
    return ConsoleRefusal(code, zh, en, dict(details), status=status)


def codes() -> list[str]:
    return sorted(_CATALOGUE)
