"""Every timestamp the platform writes (responses, events, exports) is RFC 3339 with a zone.

SQLite (the embedded mode) hands back naive datetimes even for ``DateTime(timezone=True)``
columns; every value stored here is UTC, so a naive one is read as UTC rather than written out
without a zone ("2024-01-01T10:00:00", or str()'s "2024-01-01 10:00:00", which no date-time
schema accepts).
"""

from __future__ import annotations

from datetime import UTC, datetime


def aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def rfc3339(value: datetime | None) -> str | None:
    return aware(value).isoformat() if value is not None else None
