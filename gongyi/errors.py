"""Errors every service raises; the HTTP layer turns them into
``{"code", "message_zh", "message_en", "details"}`` with the right status.

Domain code raises these (no HTTP import needed), so rules stay testable without a server.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One finding about one piece of input, e.g. a form field."""

    code: str
    message_zh: str
    message_en: str
    path: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class DomainError(Exception):
    """Base class: a refusal that a person or client can act on."""

    status = 400

    def __init__(
        self,
        code: str,
        message_zh: str,
        message_en: str,
        details: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.details = details or {}
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": self.details,
        }


class InvalidInput(DomainError):
    """The input breaks one or more rules; ``details.issues`` lists each one."""

    status = 422

    def __init__(
        self,
        issues: list[Issue],
        code: str = "invalid_input",
        message_zh: str = "提交的内容未通过校验",
        message_en: str = "The input did not pass validation",
    ) -> None:
        super().__init__(code, message_zh, message_en, {"issues": [i.to_dict() for i in issues]})
        self.issues = issues


class BadRequest(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class PayloadTooLarge(DomainError):
    status = 413


class UnsupportedMediaType(DomainError):
    status = 415


class TooManyRequests(DomainError):
    status = 429


class Unavailable(DomainError):
    """A dependency (broker, search engine, object store) is down; the client may retry."""

    status = 503
