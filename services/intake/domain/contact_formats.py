"""Formats of contact data and links: mainland mobile numbers, e-mail addresses, web links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_SEPARATORS = re.compile(r"[\s\-]")


def normalise_mobile(value: str) -> str:
    """Strip spaces, hyphens and a +86 / 0086 country prefix, as people write numbers many ways."""
    digits = _SEPARATORS.sub("", value)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def is_mainland_mobile(value: str) -> bool:
    return _MOBILE.fullmatch(normalise_mobile(value)) is not None


def is_email(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def is_web_link(value: str) -> bool:
    """An absolute http(s) link with a host and no whitespace."""
    if any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host) and "." in host.strip(".")
