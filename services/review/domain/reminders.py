"""When experts are reminded of the review deadline (评审截止).

A call may set ``review.due`` and ``review.remind_days_before`` (default 3). From that many days
before the deadline, every expert who holds a seat whose review is not submitted gets ONE
reminder for that deadline, listing those projects; a deadline staff move is a new deadline and
reminds again. A reminder the service could not send in time (it was stopped) still goes out,
marked overdue, up to ``LATE_LIMIT`` after the deadline: late is better than never, but a call
reloaded months later must not mail every expert about a deadline long gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

LATE_LIMIT = timedelta(days=7)
DEFAULT_REMIND_DAYS_BEFORE = 3


@dataclass(frozen=True)
class ReviewDeadline:
    due_at: datetime
    remind_from: datetime

    def open_at(self, now: datetime) -> bool:
        """Whether reminders for this deadline go out at ``now``."""
        return self.remind_from <= now <= self.due_at + LATE_LIMIT


@dataclass(frozen=True)
class ReviewReminder:
    call_id: str
    expert_id: str
    due_at: datetime
    pending: tuple[str, ...]  # application ids, sorted
    overdue: bool


def review_deadline(document: Mapping[str, Any]) -> ReviewDeadline | None:
    """The call's review deadline, from its document as intake announced it (offsets included)."""
    review = document.get("review") or {}
    if not review.get("due"):
        return None
    due = datetime.fromisoformat(review["due"])
    days = review.get("remind_days_before", DEFAULT_REMIND_DAYS_BEFORE)
    return ReviewDeadline(due, due - timedelta(days=days))


def reminders_due(
    call_id: str,
    deadline: ReviewDeadline,
    now: datetime,
    seats: Iterable[tuple[str, str]],
    submitted: set[tuple[str, str]],
    already_reminded: set[str],
) -> list[ReviewReminder]:
    """One reminder per expert with unsubmitted seats, unless already reminded of this deadline.

    ``seats``: active (application_id, expert_id) pairs; ``submitted``: the pairs whose review is
    submitted; ``already_reminded``: experts reminded of this ``due_at`` before.
    """
    if not deadline.open_at(now):
        return []
    pending: dict[str, list[str]] = {}
    for application_id, expert_id in seats:
        if (application_id, expert_id) not in submitted and expert_id not in already_reminded:
            pending.setdefault(expert_id, []).append(application_id)
    overdue = now > deadline.due_at
    return [ReviewReminder(call_id, expert, deadline.due_at, tuple(sorted(apps)), overdue)
            for expert, apps in sorted(pending.items())]
