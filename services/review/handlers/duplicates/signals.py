"""Each application's signals, kept from intake's and media's events (SQL only; the checks run later)."""

from __future__ import annotations

from typing import Any

from services.review.domain.duplicates import (
    SIGNALS_VERSION,
    compute_signals,
)
from services.review.domain.duplicates.intake_form import application_source, evidence_ids, evidence_items
from services.review.storage.duplicates.repository import (
    DuplicateRepository,
)
from services.review.storage.unit_of_work import ReviewUnitOfWork


def _recompute(repo: DuplicateRepository, source: dict[str, Any], ev_ids: list[str]) -> int:
    """New signals of one application; returns their version (1: the application is new here)."""
    signals = compute_signals(source, evidence_items(source, repo.evidence_of(ev_ids)))
    return repo.save_signals(
        source["id"], source["call_id"], source.get("unit_code"), source, signals.to_dict(), SIGNALS_VERSION
    )


def record_application(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """Signals of a forwarded application (a re-forwarded one replaces them)."""
    if not uow.claim(event, "review.dup_application_forwarded"):
        return False
    data = event["data"]
    source = application_source(data)
    ev_ids = evidence_ids(data.get("form") or {})
    repo = uow.duplicates
    version = _recompute(repo, source, ev_ids)
    repo.link_evidence(source["id"], ev_ids, replace=version > 1)
    uow.commit()
    return True


def record_evidence(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """Evidence facts; the applications already referring to it get new signals."""
    if not uow.claim(event, "review.dup_evidence_stored"):
        return False
    data = event["data"]
    repo = uow.duplicates
    repo.save_evidence(data)
    for app_id in repo.applications_using(data["evidence_id"]):
        row = repo.get_signals_row(app_id)
        if row and row["status"] == "active":
            _recompute(repo, row["source"], repo.evidence_ids_of(app_id))
    uow.commit()
    return True


def refresh_stale_signals(uow: ReviewUnitOfWork, limit: int = 200) -> int:
    """Recompute signals an older detector computed (a release changed ``SIGNALS_VERSION``).

    Old applications are then compared with the same signals as new ones, without anyone
    running a command: each refresh is a new row version, so the loop indexes and checks it
    again. Returns how many were refreshed (0: all current).
    """
    repo = uow.duplicates
    stale = repo.stale_signal_ids(SIGNALS_VERSION, limit)
    for app_id in stale:
        row = repo.get_signals_row(app_id)
        if row is not None:
            _recompute(repo, row["source"], repo.evidence_ids_of(app_id))
    uow.commit()
    return len(stale)


def record_withdrawn(uow: ReviewUnitOfWork, event: dict[str, Any]) -> bool:
    """A withdrawn application leaves the candidate index (its signals stay in SQL)."""
    if not uow.claim(event, "review.dup_application_withdrawn"):
        return False
    uow.duplicates.set_status(event["data"]["application_id"], "withdrawn")
    uow.commit()
    return True
