"""When selected projects are reminded of a tracking-report deadline (跟踪报告截止).

A call may list ``reporting.due`` deadlines with ``reporting.remind_days_before`` (default 7).
Each deadline covers the period since the one before it (the first: since the final list was
published). From ``remind_days_before`` days before a deadline, every project on the published
list that has filed no report in that period gets ONE reminder for that deadline. A deadline
that passed while the service was stopped is still told, marked overdue, up to ``LATE_LIMIT``
after it; a deadline before the list was published concerns no one on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LATE_LIMIT = dt.timedelta(days=7)
DEFAULT_REMIND_DAYS_BEFORE = 7


@dataclass(frozen=True)
class ListedProject:
    application_id: str
    notice_id: str
    published_at: dt.datetime
    project_name: str = ""
    unit_code: str | None = None


@dataclass(frozen=True)
class ReportReminder:
    project: ListedProject
    due_at: dt.datetime
    overdue: bool


@dataclass(frozen=True)
class ReportSchedule:
    deadlines: tuple[dt.datetime, ...]  # ascending
    remind_before: dt.timedelta

    def open_deadlines(self, now: dt.datetime) -> list[tuple[dt.datetime | None, dt.datetime]]:
        """(previous deadline or None, deadline) for every deadline whose reminders go out now."""
        out, previous = [], None
        for due in self.deadlines:
            if due - self.remind_before <= now <= due + LATE_LIMIT:
                out.append((previous, due))
            previous = due
        return out


def report_schedule(document: Mapping[str, Any] | None) -> ReportSchedule | None:
    reporting = (document or {}).get("reporting") or {}
    if not reporting.get("due"):
        return None
    deadlines = tuple(sorted(dt.datetime.fromisoformat(d) for d in reporting["due"]))
    days = reporting.get("remind_days_before", DEFAULT_REMIND_DAYS_BEFORE)
    return ReportSchedule(deadlines, dt.timedelta(days=days))


def reports_due(
    schedule: ReportSchedule,
    now: dt.datetime,
    listed: Iterable[ListedProject],
    filed: Mapping[str, list[dt.datetime]],
    already_reminded: set[tuple[str, dt.datetime]],
) -> list[ReportReminder]:
    """The reminders to send now. ``filed``: when each project filed its reports;
    ``already_reminded``: (application_id, deadline) pairs sent before."""
    reminders = []
    open_now = schedule.open_deadlines(now)
    for project in listed:
        for previous, due in open_now:
            if due <= project.published_at or (project.application_id, due) in already_reminded:
                continue
            since = max(previous, project.published_at) if previous else project.published_at
            if any(since < at <= now for at in filed.get(project.application_id, ())):
                continue
            reminders.append(ReportReminder(project, due, overdue=now > due))
    return reminders
