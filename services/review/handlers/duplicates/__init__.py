"""Duplicate detection's use cases: keep each application's signals, check it against the
candidate index, record and announce suspicions, settle them (docs/duplicates.md).

Signals are written in the event handlers (SQL only). A background loop (``sync_and_check``)
writes the candidate keys of new signal versions to ``dup_keys`` and the changed postings to the
index, THEN checks each of them, so two copies arriving together still meet: whichever is
checked second finds the first.
"""

from services.review.handlers.duplicates.checks import (
    FLUSH_KEYS,
    application_keys,
    check_pending,
    flush_postings,
    make_lookup,
    rebuild_index,
    sync_all_keys,
    sync_and_check,
    sync_postings,
)
from services.review.handlers.duplicates.common import SETTLED, SUSPECTED, suspicion_id_for
from services.review.handlers.duplicates.queue import similar_to
from services.review.handlers.duplicates.signals import (
    record_application,
    record_evidence,
    record_withdrawn,
    refresh_stale_signals,
)
from services.review.handlers.duplicates.suspicions import (
    get_suspicion,
    list_suspicions,
    settle,
    suspicion_view,
    suspicions_for,
)

__all__ = [
    "FLUSH_KEYS", "SETTLED", "SUSPECTED", "application_keys", "check_pending", "flush_postings", "get_suspicion",
    "list_suspicions", "make_lookup", "rebuild_index", "record_application", "record_evidence", "record_withdrawn",
    "refresh_stale_signals",
    "settle", "similar_to", "suspicion_id_for", "suspicion_view", "suspicions_for", "sync_all_keys", "sync_and_check",
    "sync_postings",
]
