"""The envelope every publish-domain event uses (CloudEvents-shaped plain dicts).

Domain methods return these so the service layer can store them with the change in one
transaction (outbox) and a consumer in any language can read them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from gongyi.timestamps import rfc3339

SOURCE = "gongyi/publish"


def iso(moment: dt.datetime | None) -> str | None:
    return rfc3339(moment)


def make_event(
    event_type: str, subject: str, occurred_at: dt.datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """``event_type`` like ``notice.opened.v1``; ``subject`` is the aggregate id."""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": SOURCE,
        "type": event_type,
        "subject": subject,
        "time": rfc3339(occurred_at),
        "datacontenttype": "application/json",
        "data": data,
    }
