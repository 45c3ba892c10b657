"""Tracking-report reminders without a broker: which listed projects owe a report, and when."""

from __future__ import annotations

import datetime as dt

from services.publish.domain.reminders import LATE_LIMIT, ListedProject, report_schedule, reports_due

UTC = dt.UTC
JUNE = dt.datetime(2025, 6, 30, 15, 59, 59, tzinfo=UTC)
DEC = dt.datetime(2025, 12, 31, 15, 59, 59, tzinfo=UTC)
PUBLISHED = dt.datetime(2025, 3, 1, tzinfo=UTC)
A = ListedProject("app-a", "n1", PUBLISHED, "网络课堂", "cac-beijing")
B = ListedProject("app-b", "n1", PUBLISHED, "免费午餐", "cac-hubei")


def _schedule(days: int = 7):
    return report_schedule({"reporting": {"kinds": [], "due": [DEC.isoformat(), JUNE.isoformat()],
                                          "remind_days_before": days}})


def test_no_deadlines_no_schedule():
    assert report_schedule({"reporting": {"kinds": [{"code": "x", "label": "x"}]}}) is None
    assert report_schedule(None) is None


def test_every_listed_project_without_a_report_in_the_period_is_reminded_once():
    now = JUNE - dt.timedelta(days=3)
    filed = {"app-b": [dt.datetime(2025, 5, 1, tzinfo=UTC)]}
    got = reports_due(_schedule(), now, [A, B], filed, set())
    assert [(r.project.application_id, r.due_at, r.overdue) for r in got] == [("app-a", JUNE, False)]
    assert reports_due(_schedule(), now, [A, B], filed, {("app-a", JUNE)}) == []


def test_a_report_filed_before_the_previous_deadline_does_not_count_for_the_next():
    now = DEC - dt.timedelta(days=1)
    filed = {"app-a": [dt.datetime(2025, 5, 1, tzinfo=UTC)], "app-b": [dt.datetime(2025, 9, 1, tzinfo=UTC)]}
    got = reports_due(_schedule(), now, [A, B], filed, set())
    assert [(r.project.application_id, r.due_at) for r in got] == [("app-a", DEC)]


def test_the_window_opens_remind_days_before_and_closes_a_week_after():
    assert reports_due(_schedule(7), JUNE - dt.timedelta(days=7, seconds=1), [A], {}, set()) == []
    assert len(reports_due(_schedule(7), JUNE - dt.timedelta(days=7), [A], {}, set())) == 1
    late = reports_due(_schedule(7), JUNE + dt.timedelta(days=2), [A], {}, set())
    assert [r.overdue for r in late] == [True]
    assert reports_due(_schedule(7), JUNE + LATE_LIMIT + dt.timedelta(seconds=1), [A], {}, set()) == []


def test_a_deadline_before_the_list_was_published_concerns_no_one_on_it():
    late_list = ListedProject("app-c", "n2", JUNE + dt.timedelta(days=1))
    assert reports_due(_schedule(), JUNE + dt.timedelta(days=2), [late_list], {}, set()) == []
