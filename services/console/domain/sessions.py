"""Server-side sessions, one-time links and the login rate limit, as plain rules.

A session is a random id in an HttpOnly cookie; the database keeps only its SHA-256, so a copy of
the table opens no session. It ends after ``idle_s`` without a request or ``absolute_s`` after
sign-in, whichever comes first. Each session has its own CSRF token, checked on every POST.
One-time links (invitation, e-mail confirmation, password reset) are random too, stored hashed,
with an expiry, and used once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass(frozen=True)
class SessionTimes:
    created_at: dt.datetime
    last_seen_at: dt.datetime


def session_expired(times: SessionTimes, now: dt.datetime, idle_s: int, absolute_s: int) -> bool:
    return (now - times.last_seen_at).total_seconds() > idle_s or (now - times.created_at).total_seconds() > absolute_s


def parse_rate(rule: str) -> tuple[int, int]:
    """"5/300": at most 5 failed attempts in 300 seconds."""
    count, _, seconds = rule.partition("/")
    return max(1, int(count)), max(1, int(seconds or 60))


def too_many_attempts(failures: Sequence[dt.datetime], now: dt.datetime, limit: int, window_s: int) -> bool:
    recent = [t for t in failures if (now - t).total_seconds() < window_s]
    return len(recent) >= limit
