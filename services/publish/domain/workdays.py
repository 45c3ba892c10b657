"""Notice periods counted in Chinese working days (工作日).

Working days come from ``chinesecalendar``, which knows the State Council's official holidays
and the adjusted working weekends (调休上班). Outside the years it covers we refuse with
``calendar_unavailable`` instead of guessing from weekdays: a wrong end date on a public notice
is worse than an error the organiser can see.

Counting rule (mirrors the Civil Code, arts. 201 and 203): the day the period starts is not
counted; the period ends at 23:59:59 of the n-th working day after it. A notice opened at
10:00 on Thursday 2024-02-08 for 5 working days therefore ends at 2024-02-21 23:59:59+08:00
(working days: 02-09, 02-18 adjusted Sunday, 02-19, 02-20, 02-21). ``end="same_time"`` gives
the alternative "same clock time on the n-th working day" for calls that want it.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Literal
from zoneinfo import ZoneInfo

import chinese_calendar

from gongyi.errors import DomainError

DEFAULT_TZ = "Asia/Shanghai"
EndRule = Literal["end_of_day", "same_time"]

# Hard stop against runaway loops if someone passes an absurd n.
_MAX_WORKING_DAYS = 366


@functools.lru_cache(maxsize=1)
def supported_years() -> tuple[int, int]:
    """First and last year the installed calendar has official data for."""
    years = [d.year for d in chinese_calendar.holidays] + [d.year for d in chinese_calendar.workdays]
    return min(years), max(years)


def _calendar_unavailable(day: dt.date) -> DomainError:
    first, last = supported_years()
    return DomainError(
        "calendar_unavailable",
        f"暂无 {day.year} 年的法定节假日安排数据（仅支持 {first}–{last} 年），无法计算工作日",
        f"No official holiday data for {day.year} (only {first}-{last} is supported); "
        "cannot count working days",
        {"year": day.year, "supported_from": first, "supported_to": last},
        status=503,
    )


def is_working_day(day: dt.date) -> bool:
    """True on a weekday that is not a holiday, or on an adjusted working weekend."""
    first, last = supported_years()
    if not first <= day.year <= last:
        raise _calendar_unavailable(day)
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:  # the library's own out-of-range signal
        raise _calendar_unavailable(day) from exc


def _local(moment: dt.datetime, tz: str) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive time could be UTC or Beijing time; guessing shifts the deadline by 8 hours.
        raise DomainError(
            "naive_datetime",
            "时间必须带时区",
            "The datetime must carry a timezone",
            {"value": moment.isoformat()},
        )
    return moment.astimezone(ZoneInfo(tz))


def add_working_days(
    start: dt.datetime, n: int, tz: str = DEFAULT_TZ, *, end: EndRule = "end_of_day"
) -> dt.datetime:
    """The exact end of a period of ``n`` working days that starts at ``start``.

    The start day itself is never counted. With ``end="end_of_day"`` (default) the result is
    23:59:59 local time of the n-th working day after the start day; with ``end="same_time"``
    it keeps the start's clock time. The result is in ``tz``.
    """
    if not 1 <= n <= _MAX_WORKING_DAYS:
        raise DomainError(
            "invalid_working_days",
            f"工作日数必须在 1 到 {_MAX_WORKING_DAYS} 之间",
            f"The number of working days must be between 1 and {_MAX_WORKING_DAYS}",
            {"n": n},
        )
    local = _local(start, tz)
    day = local.date()
    counted = 0
    while counted < n:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    zone = ZoneInfo(tz)
    if end == "same_time":
        return dt.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=zone)


def working_days_between(a: dt.datetime, b: dt.datetime, tz: str = DEFAULT_TZ) -> int:
    """Working days after ``a``'s local date up to and including ``b``'s local date.

    Consistent with :func:`add_working_days`: ``working_days_between(s, add_working_days(s, n))
    == n``. Negative when ``b`` is before ``a``.
    """
    la, lb = _local(a, tz).date(), _local(b, tz).date()
    if lb < la:
        return -working_days_between(b, a, tz)
    count = 0
    day = la
    while day < lb:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
