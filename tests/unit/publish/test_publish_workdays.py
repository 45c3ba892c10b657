import datetime as dt

import pytest
from publish_support import SH, at

from gongyi.errors import DomainError
from services.publish.domain.workdays import (
    add_working_days,
    is_working_day,
    supported_years,
    working_days_between,
)


def test_spring_festival_2024_counts_adjusted_sunday_and_skips_holiday():
    # Opened Thu 2024-02-08 10:00. Working days after it: 02-09 (Fri), 02-10..17 holiday,
    # 02-18 (Sun, adjusted working day), 02-19, 02-20, 02-21 -> fifth working day is 02-21.
    assert add_working_days(at(2024, 2, 8, 10), 5) == dt.datetime(2024, 2, 21, 23, 59, 59, tzinfo=SH)


def test_adjusted_working_sundays_are_working_days():
    assert is_working_day(dt.date(2024, 2, 4))  # Sunday before the Spring Festival
    assert is_working_day(dt.date(2024, 2, 18))  # Sunday after it
    assert not is_working_day(dt.date(2024, 2, 12))  # Monday inside the holiday


def test_starting_on_adjusted_sunday_2024_02_04():
    # From Sun 02-04: 02-05, 02-06, 02-07, 02-08, 02-09 are the five working days.
    assert add_working_days(at(2024, 2, 4, 9), 5) == dt.datetime(2024, 2, 9, 23, 59, 59, tzinfo=SH)
    # Six: skips 02-10..02-17 and lands on the adjusted Sunday 02-18.
    assert add_working_days(at(2024, 2, 4, 9), 6).date() == dt.date(2024, 2, 18)


def test_national_day_2024():
    # Opened Fri 2024-09-27: 09-28 Sat off, 09-29 Sun working (1), 09-30 (2), 10-01..07 off,
    # 10-08 (3), 10-09 (4), 10-10 (5).
    assert add_working_days(at(2024, 9, 27, 10), 5) == dt.datetime(2024, 10, 10, 23, 59, 59, tzinfo=SH)
    # Seven working days: 10-11 (6), 10-12 Saturday adjusted working day (7).
    assert add_working_days(at(2024, 9, 27, 10), 7).date() == dt.date(2024, 10, 12)
    # Eight: 10-13 Sunday is off, so 10-14.
    assert add_working_days(at(2024, 9, 27, 10), 8).date() == dt.date(2024, 10, 14)


def test_same_time_rule_keeps_clock_time():
    assert add_working_days(at(2024, 2, 8, 10, 30), 5, end="same_time") == at(2024, 2, 21, 10, 30)


def test_start_given_in_utc_is_counted_in_beijing_time():
    # 2024-02-08 18:00 UTC is already 02-09 02:00 in Beijing, so counting starts after 02-09.
    start = dt.datetime(2024, 2, 8, 18, 0, tzinfo=dt.UTC)
    assert add_working_days(start, 1).date() == dt.date(2024, 2, 18)


def test_working_days_between_round_trips_and_signs():
    start = at(2024, 2, 8, 10)
    for n in (1, 2, 5, 10):
        assert working_days_between(start, add_working_days(start, n)) == n
    assert working_days_between(at(2024, 2, 9), at(2024, 2, 17)) == 0
    assert working_days_between(at(2024, 2, 21), at(2024, 2, 8)) == -5


def test_outside_calendar_range_is_refused():
    first, last = supported_years()
    with pytest.raises(DomainError) as err:
        add_working_days(dt.datetime(last, 12, 30, 10, tzinfo=SH), 5)
    assert err.value.code == "calendar_unavailable"
    assert err.value.details["year"] == last + 1
    with pytest.raises(DomainError) as err:
        is_working_day(dt.date(first - 1, 6, 1))
    assert err.value.code == "calendar_unavailable"
    assert "年" in err.value.message_zh


def test_naive_and_bad_counts_are_refused():
    with pytest.raises(DomainError) as err:
        add_working_days(dt.datetime(2024, 2, 8, 10), 5)
    assert err.value.code == "naive_datetime"
    with pytest.raises(DomainError) as err:
        add_working_days(at(2024, 2, 8), 0)
    assert err.value.code == "invalid_working_days"
