"""Review-deadline reminders without a broker: who is reminded, once, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.review.domain.reminders import LATE_LIMIT, reminders_due, review_deadline

DUE = datetime(2025, 5, 31, 18, 0, tzinfo=UTC)
SEATS = [("app-1", "exp-a"), ("app-2", "exp-a"), ("app-1", "exp-b"), ("app-3", "exp-c")]


def _deadline(days: int = 3):
    return review_deadline({"review": {"due": DUE.isoformat(), "remind_days_before": days}})


def test_no_deadline_no_reminders():
    assert review_deadline({"review": {"experts_per_project": 3}}) is None
    assert review_deadline({}) is None


def test_each_expert_with_unsubmitted_seats_gets_one_reminder_listing_them():
    got = reminders_due("c", _deadline(), DUE - timedelta(days=2), SEATS, {("app-1", "exp-b")}, set())
    assert [(r.expert_id, r.pending, r.overdue) for r in got] == [
        ("exp-a", ("app-1", "app-2"), False),
        ("exp-c", ("app-3",), False),
    ]
    assert all(r.due_at == DUE and r.call_id == "c" for r in got)


def test_nothing_before_the_reminder_window_opens_and_nothing_long_after_the_deadline():
    assert reminders_due("c", _deadline(3), DUE - timedelta(days=3, seconds=1), SEATS, set(), set()) == []
    assert len(reminders_due("c", _deadline(3), DUE - timedelta(days=3), SEATS, set(), set())) == 3
    assert reminders_due("c", _deadline(), DUE + LATE_LIMIT + timedelta(seconds=1), SEATS, set(), set()) == []


def test_a_reminder_missed_while_the_service_was_down_goes_out_late_marked_overdue():
    got = reminders_due("c", _deadline(), DUE + timedelta(hours=5), SEATS, set(), set())
    assert got and all(r.overdue for r in got)


def test_experts_already_reminded_of_this_deadline_and_experts_done_are_left_alone():
    submitted = {("app-1", "exp-a"), ("app-2", "exp-a")}
    got = reminders_due("c", _deadline(), DUE - timedelta(days=1), SEATS, submitted, {"exp-b"})
    assert [r.expert_id for r in got] == ["exp-c"]


def test_remind_days_before_defaults_to_three_days():
    deadline = review_deadline({"review": {"due": "2025-05-31T18:00:00+08:00"}})
    assert deadline.due_at - deadline.remind_from == timedelta(days=3)
    assert deadline.due_at.utcoffset() == timedelta(hours=8)
