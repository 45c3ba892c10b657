"""Review-deadline reminders (评审截止提醒): what the reminder timer runs."""

from __future__ import annotations

from datetime import datetime

from services.review.domain.reminders import reminders_due, review_deadline
from services.review.events import published
from services.review.handlers.common import now as current_time
from services.review.storage.unit_of_work import ReviewUnitOfWork


def send_review_reminders(uow: ReviewUnitOfWork, at: datetime | None = None) -> int:
    """Emit ``review.due.v1`` for every expert with unsubmitted reviews near a call's deadline.

    Each reminder is claimed in the same transaction as its outbox row, so replicas running the
    same timer send it once, and a crash sends it on the next pass or not at all twice.
    """
    moment = at or current_time()
    sent = 0
    for call_id, document in uow.calls.latest_documents():
        deadline = review_deadline(document)
        if deadline is None or not deadline.open_at(moment):
            continue
        rows = [r for r in uow.assignments.of_call(call_id) if r.status == "active"]
        statuses = {a: p["status"] for a, p in uow.projects.many([r.application_id for r in rows]).items()}
        seats = [(r.application_id, r.expert_id) for r in rows if statuses.get(r.application_id) != "withdrawn"]
        already = uow.reminders.reminded(call_id, deadline.due_at)
        for reminder in reminders_due(call_id, deadline, moment, seats, uow.reviews.submitted_pairs(call_id),
                                      already):
            pending = list(reminder.pending)
            if uow.reminders.claim(call_id, reminder.expert_id, reminder.due_at, pending, moment):
                uow.emit(published.REVIEW_DUE, f"expert/{reminder.expert_id}",
                         published.review_due(call_id, reminder.expert_id, reminder.due_at, pending,
                                              reminder.overdue))
                sent += 1
    uow.commit()
    return sent
