"""Media's use cases: each takes a unit of work (and the object store), applies the domain rules,
stores, emits events.

Uploads are spooled to a temp file with bounded memory, inspected, and only then written to
the evidence bucket under the content hash. Presigned uploads land in the quarantine bucket
first (the client puts them there unchecked) and are copied over once checked. A refused
upload leaves nothing in either bucket nor an evidence row; only its ``evidence.rejected.v1``
event (in the outbox) records that it happened.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gongyi.db import UnitOfWork
from gongyi.errors import DomainError, InvalidInput
from services.media.config import MediaConfig
from services.media.domain.access import Viewer, can_delete, can_read
from services.media.domain.fingerprints import EvidenceFingerprint, safe_display_name
from services.media.domain.limits import Readable
from services.media.domain.links import parse_media_report
from services.media.domain.policy import Inspection, inspect_spooled
from services.media.domain.refusals import CATALOGUE, refusal, refuse, warning
from services.media.events.published import (
    EVIDENCE_DELETED,
    EVIDENCE_REJECTED,
    EVIDENCE_STORED,
    deleted_data,
    rejected_data,
    stored_data,
    subject,
)
from services.media.spool import IterableReader, Spooled, spooled
from services.media.storage.objects import EvidenceObjects
from services.media.storage.repository import EvidenceRepository, GrantRepository, UploadRepository

log = logging.getLogger(__name__)
UPLOAD_KINDS = ("image", "video", "document")


@dataclass(frozen=True)
class Owner:
    sub: str
    org: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _not_found() -> DomainError:
    return refusal("evidence_not_found")


# -- uploads


def ingest(
    uow: UnitOfWork,
    objects: EvidenceObjects,
    config: MediaConfig,
    source: Readable,
    owner: Owner,
    kind: str,
    *,
    declared_mime: str | None = None,
    display_name: str | None = None,
    quarantine_key: str | None = None,
    before_commit: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """Spool, check, store and announce one upload; refusals are announced and re-raised.

    ``quarantine_key`` names an object already in quarantine (presigned uploads); without it the
    checked bytes are put straight into the evidence bucket. ``before_commit(status, evidence_id)``
    lets the caller change its own rows in the same transaction.
    """
    evidence_id = str(uuid.uuid4())
    limit = config.policy.limits.for_kind(kind)
    try:
        with spooled(source, limit, config.chunk_size) as spool:
            inspection = inspect_spooled(
                spool.path, spool.fingerprint, config.policy, declared_kind=kind, declared_mime=declared_mime
            )
            key, created = _store_checked(objects, spool, inspection.fingerprint, quarantine_key, evidence_id)
    except DomainError as err:
        _refused(uow, objects, err, evidence_id, owner, quarantine_key, before_commit)
        raise
    row = _evidence_row(evidence_id, owner, inspection, key, display_name)
    _record_stored(uow, objects, row, created, before_commit)
    return row


def _store_checked(objects: EvidenceObjects, spool: Spooled, fp: EvidenceFingerprint, quarantine_key: str | None,
                   evidence_id: str) -> tuple[str, bool]:
    """The checked bytes into the evidence bucket: (object key, whether this upload created it)."""
    try:
        if quarantine_key is None:
            # checked bytes from the spool: no quarantine hop (its copy doubled the store's work)
            return objects.put_checked(spool.path, spool.size, fp.sha256, fp.mime)
        return objects.promote(quarantine_key, fp.sha256)
    except DomainError:
        raise
    except Exception as exc:
        log.warning("object store failed while storing %s: %s", evidence_id, exc)
        if quarantine_key:
            _quietly(objects.remove_quarantine, quarantine_key)
        raise refusal("object_store_unavailable") from exc


def _refused(uow: UnitOfWork, objects: EvidenceObjects, err: DomainError, evidence_id: str, owner: Owner,
             quarantine_key: str | None, before_commit: Callable[[str, str], None] | None) -> None:
    """Drop what was quarantined; a file checked and refused is announced (the caller re-raises)."""
    if quarantine_key:
        _quietly(objects.remove_quarantine, quarantine_key)
    if err.code not in CATALOGUE:
        return  # not a verdict on the file (the store is down, the body broke off)
    uow.emit(
        EVIDENCE_REJECTED,
        subject(evidence_id),
        rejected_data(evidence_id, owner.sub, err.code, err.message_zh, err.message_en, _now()),
    )
    if before_commit:
        before_commit("rejected", evidence_id)
    uow.commit()


def _evidence_row(evidence_id: str, owner: Owner, inspection: Inspection, key: str,
                  display_name: str | None) -> dict[str, Any]:
    fp, now = inspection.fingerprint, _now()
    return {
        "id": evidence_id,
        "owner_sub": owner.sub,
        "owner_org": owner.org,
        "kind": fp.kind,
        "mime": fp.mime,
        "size": fp.size,
        "sha256": fp.sha256,
        "object_key": key,
        "status": "stored",
        "width": fp.width,
        "height": fp.height,
        "duration_s": fp.duration_s,
        "phash": fp.phash,
        "phash_bands": list(fp.phash_bands),
        "display_name": safe_display_name(display_name) if display_name else f"evidence.{inspection.sniffed.extension}",
        "warnings": [w.to_dict() for w in inspection.warnings],
        "attached_to": [],
        "public": False,
        "created_at": now,
        "stored_at": now,
    }


def _record_stored(uow: UnitOfWork, objects: EvidenceObjects, row: dict[str, Any], created: bool,
                   before_commit: Callable[[str, str], None] | None) -> None:
    """The row and its event in one transaction; if that fails, an object only this upload made is removed."""
    key = row["object_key"]
    try:
        EvidenceRepository(uow.session).add(row)
        uow.emit(EVIDENCE_STORED, subject(row["id"]), stored_data(row))
        if before_commit:
            before_commit("completed", row["id"])
        uow.commit()
    except Exception:
        uow.rollback()
        if created and key and not EvidenceRepository(uow.session).others_using_object(key, row["id"]):
            _quietly(objects.remove_evidence, key)
        raise


def _quietly(fn: Callable[[str], None], key: str) -> None:
    try:
        fn(key)
    except Exception as exc:  # noqa: BLE001 - cleanup must not hide the original error
        log.warning("could not remove object %s: %s", key, exc)


def start_upload(
    uow: UnitOfWork,
    objects: EvidenceObjects,
    config: MediaConfig,
    owner: Owner,
    kind: str,
    size: int,
    filename: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A presigned PUT into quarantine; the client uploads there, then calls ``complete_upload``."""
    limit = config.policy.limits.for_kind(kind)
    if size <= 0:
        refuse("empty_file")
    if size > limit:
        refuse("too_large", limit_bytes=limit)
    now = now or _now()
    upload_id = str(uuid.uuid4())
    key = objects.new_quarantine_key("presigned")
    expires_at = now + timedelta(seconds=config.upload_url_ttl_s)
    UploadRepository(uow.session).add(
        {
            "id": upload_id,
            "owner_sub": owner.sub,
            "owner_org": owner.org,
            "kind": kind,
            "declared_size": size,
            "display_name": safe_display_name(filename) if filename else None,
            "quarantine_key": key,
            "status": "pending",
            "created_at": now,
            "expires_at": expires_at,
        }
    )
    uow.commit()
    return {
        "upload_id": upload_id,
        "url": objects.upload_url(key, config.upload_url_ttl_s),
        "method": "PUT",
        "expires_at": expires_at,
        "max_bytes": limit,
    }


def complete_upload(
    uow: UnitOfWork,
    objects: EvidenceObjects,
    config: MediaConfig,
    owner: Owner,
    upload_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Verify the object the client put into quarantine by streaming it through the same checks."""
    uploads = UploadRepository(uow.session)
    session = uploads.get(upload_id, for_update=True)
    if session is None or session["owner_sub"] != owner.sub:
        refuse("upload_not_found")
    if session["status"] == "completed":
        row = EvidenceRepository(uow.session).get(session["evidence_id"])
        uow.rollback()
        if row:
            return row
    if session["status"] != "pending":
        refuse("upload_not_pending", status=session["status"])
    now = now or _now()
    key = session["quarantine_key"]
    expires_at = session["expires_at"]
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if now > expires_at:
        uploads.set_status(upload_id, "expired")
        uow.commit()
        _quietly(objects.remove_quarantine, key)
        refuse("upload_expired")
    size = objects.quarantine_size(key)
    if size is None:
        uow.rollback()
        refuse("upload_missing")
    return ingest(
        uow,
        objects,
        config,
        IterableReader(objects.stream_quarantine(key, config.chunk_size)),
        owner,
        session["kind"],
        display_name=session["display_name"],
        quarantine_key=key,
        before_commit=lambda status, evidence_id: uploads.set_status(
            upload_id, status, evidence_id if status == "completed" else None
        ),
    )


# -- media reports


def create_media_report(uow: UnitOfWork, owner: Owner, data: dict[str, Any]) -> dict[str, Any]:
    """A media report: its link (normalised for duplicate search) and an owned, stored screenshot."""
    report = parse_media_report(data)
    shot = EvidenceRepository(uow.session).get(report.screenshot_evidence_id)
    if not shot or shot["owner_sub"] != owner.sub or shot["status"] != "stored" or shot["kind"] != "image":
        raise InvalidInput([warning("screenshot_not_found", path="screenshot_evidence_id")])
    now = _now()
    evidence_id = str(uuid.uuid4())
    row = {
        "id": evidence_id,
        "owner_sub": owner.sub,
        "owner_org": owner.org,
        "kind": "media_report",
        "mime": None,
        "size": None,
        "sha256": None,
        "object_key": None,
        "status": "stored",
        "phash_bands": [],
        "normalised_link": report.normalised_url,
        "link": report.url,
        "outlet": report.outlet,
        "title": report.title,
        "published_on": report.published_on,
        "screenshot_evidence_id": shot["id"],
        "display_name": report.title,
        "warnings": [],
        "attached_to": [],
        "public": False,
        "created_at": now,
        "stored_at": now,
    }
    EvidenceRepository(uow.session).add(row)
    uow.emit(EVIDENCE_STORED, subject(evidence_id), stored_data(row))
    uow.commit()
    return row


# -- reading


def readable_evidence(uow: UnitOfWork, viewer: Viewer | None, evidence_id: str) -> dict[str, Any]:
    row = EvidenceRepository(uow.session).get(evidence_id)
    if row is None or row["status"] != "stored":
        raise _not_found()
    grants = GrantRepository(uow.session).for_applications(list(row["attached_to"] or []))
    if not can_read(viewer, row["owner_sub"], bool(row["public"]), grants):
        raise _not_found()  # do not reveal that it exists
    return row


def download_link(
    uow: UnitOfWork, objects: EvidenceObjects, config: MediaConfig, viewer: Viewer | None, evidence_id: str
) -> dict[str, Any]:
    row = readable_evidence(uow, viewer, evidence_id)
    if not row["object_key"]:
        refuse("no_file", screenshot_evidence_id=row["screenshot_evidence_id"])
    ttl = config.download_url_ttl_s
    return {
        "url": objects.download_url(row["object_key"], ttl, row["mime"], row["display_name"] or "evidence"),
        "expires_at": _now() + timedelta(seconds=ttl),
        "content_type": row["mime"],
        "filename": row["display_name"],
    }


def evidence_summary(uow: UnitOfWork, ids: list[str]) -> dict[str, dict[str, str]]:
    """For intake: owner, kind and status of each known id (unknown ids are absent)."""
    wanted = [str(i) for i in ids if isinstance(i, str)][:1000]
    return {
        r["id"]: {"owner_sub": r["owner_sub"], "kind": r["kind"], "status": r["status"]}
        for r in EvidenceRepository(uow.session).many(wanted)
    }


# -- deleting


def _delete(uow: UnitOfWork, row: dict[str, Any], reason: str, now: datetime) -> None:
    EvidenceRepository(uow.session).update(row["id"], status="deleted", deleted_at=now)
    uow.emit(EVIDENCE_DELETED, subject(row["id"]), deleted_data(row["id"], row["owner_sub"], reason, now))


def _drop_unused_objects(uow: UnitOfWork, objects: EvidenceObjects, rows: list[dict[str, Any]]) -> None:
    repo = EvidenceRepository(uow.session)
    for row in rows:
        key = row["object_key"]
        if key and not repo.others_using_object(key, row["id"]):
            _quietly(objects.remove_evidence, key)


def delete_evidence(uow: UnitOfWork, objects: EvidenceObjects, viewer: Viewer, evidence_id: str) -> None:
    repo = EvidenceRepository(uow.session)
    row = repo.get(evidence_id, for_update=True)
    if row is None or row["status"] != "stored":
        raise _not_found()
    if not can_delete(viewer, row["owner_sub"]):
        grants = GrantRepository(uow.session).for_applications(list(row["attached_to"] or []))
        if can_read(viewer, row["owner_sub"], bool(row["public"]), grants):
            refuse("evidence_not_owned")
        raise _not_found()
    if row["attached_to"]:
        refuse("evidence_attached", application_ids=list(row["attached_to"]))
    _delete(uow, row, "staff_deleted" if viewer.role == "staff" else "owner_deleted", _now())
    uow.commit()
    _drop_unused_objects(uow, objects, [row])  # after commit: an orphan object beats a dangling row


def purge_unattached(
    uow: UnitOfWork, objects: EvidenceObjects, config: MediaConfig, now: datetime
) -> dict[str, int]:
    """The scheduled clean-up: evidence never attached within ``unattached_days``, and expired
    presigned uploads. ``now`` is an argument so tests can move the clock."""
    cutoff = now - timedelta(days=config.unattached_days)
    rows = EvidenceRepository(uow.session).unattached_before(cutoff)
    for row in rows:
        _delete(uow, row, "never_attached", now)
    uploads = UploadRepository(uow.session)
    expired = uploads.expired_pending(now)
    for session in expired:
        uploads.set_status(session["id"], "expired")
    uow.commit()
    _drop_unused_objects(uow, objects, rows)
    for session in expired:
        _quietly(objects.remove_quarantine, session["quarantine_key"])
    return {"evidence_deleted": len(rows), "uploads_expired": len(expired)}


# -- access grants from other services' events


def _form_evidence_ids(form: dict[str, Any]) -> tuple[list[str], list[str]]:
    ids = [*(form.get("image_evidence_ids") or []), *(form.get("video_evidence_ids") or [])]
    shots = [r.get("screenshot_evidence_id") for r in form.get("media_reports") or [] if isinstance(r, dict)]
    shots = [s for s in shots if isinstance(s, str) and s]
    return [i for i in ids if isinstance(i, str)] + shots, shots


def record_forwarded(uow: UnitOfWork, event: dict[str, Any]) -> None:
    """Attach the form's evidence to the application and its unit (it can no longer be deleted)."""
    if not uow.claim(event, "media.on_application_forwarded"):
        return
    data = event["data"]
    app_id, unit = data["application_id"], data.get("unit_code")
    ids, shots = _form_evidence_ids(data.get("form") or {})
    repo = EvidenceRepository(uow.session)
    rows = repo.many(ids) + repo.screenshots_of(shots)
    attached = []
    for row in rows:
        if row["status"] != "stored":
            continue
        apps = list(row["attached_to"] or [])
        if app_id not in apps:
            apps.append(app_id)
        repo.update(row["id"], attached_to=apps, unit_code=unit)
        attached.append(row["id"])
    grants = GrantRepository(uow.session)
    current = grants.get(app_id)
    known = list((current or {}).get("evidence_ids") or [])
    grants.upsert(app_id, _now(), unit_code=unit, evidence_ids=sorted(set(known) | set(attached)))
    uow.commit()


def record_assignment(uow: UnitOfWork, event: dict[str, Any], assigned: bool) -> None:
    handler = "media.on_assignment_made" if assigned else "media.on_assignment_removed"
    if not uow.claim(event, handler):
        return
    data = event["data"]
    grants = GrantRepository(uow.session)
    current = grants.get(data["application_id"])
    experts = set((current or {}).get("expert_ids") or [])
    if assigned:
        experts.add(data["expert_id"])
    else:
        experts.discard(data["expert_id"])
    grants.upsert(data["application_id"], _now(), expert_ids=sorted(experts))
    uow.commit()


def record_published(uow: UnitOfWork, event: dict[str, Any]) -> None:
    """A published list makes its entries' evidence public."""
    if not uow.claim(event, "media.on_list_published"):
        return
    grants, repo = GrantRepository(uow.session), EvidenceRepository(uow.session)
    now = _now()
    for entry in event["data"].get("entries") or []:
        app_id = entry["application_id"]
        current = grants.get(app_id)
        ids = set((current or {}).get("evidence_ids") or []) | set(entry.get("evidence_ids") or [])
        grants.upsert(app_id, now, published=True, evidence_ids=sorted(ids))
        for row in repo.many(sorted(ids)):
            repo.update(row["id"], public=True)
            if row["kind"] == "media_report" and row["screenshot_evidence_id"]:
                repo.update(row["screenshot_evidence_id"], public=True)
    uow.commit()
