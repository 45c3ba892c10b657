"""The call deadlines form: what staff type in the browser, as the instants intake takes.

``<input type="datetime-local">`` sends wall-clock time without seconds or zone, and a list of
tracking-report deadlines is typed as dates, one per line or separated by commas. Both are read
as Beijing time (the calls' own zone); a bare date means the end of that day.
"""

from __future__ import annotations

import datetime as dt
import re

from services.console.domain.refusals import refuse

BEIJING = dt.timezone(dt.timedelta(hours=8))
_SPLIT = re.compile(r"[\s,，、;；]+")


def parse_deadline(text: str) -> dt.datetime:
    """One deadline; ``invalid_deadline`` for anything that is not a date or a date and time."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(23, 59, 59), BEIJING)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise refuse("invalid_deadline", value=text[:40]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


def parse_deadline_list(text: str) -> list[dt.datetime]:
    """Every deadline in the text, sorted, each once."""
    return sorted({parse_deadline(part) for part in _SPLIT.split(text) if part})
