"""Reading and writing intake's aggregates; the only module that knows intake's tables."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.intake.domain.applications import Application, State, import_owner
from services.intake.domain.duplicate_flags import OPEN, SETTLED, Flag
from services.intake.domain.refusals import refuse
from services.intake.storage.tables import (
    applications,
    batches,
    call_versions,
    calls,
    duplicate_flags,
    evidence_notes,
    imports,
)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite hands back naive datetimes
    return value


_INSERT_APPLICATION = applications.insert()
_UPDATE_APPLICATION = applications.update().where(applications.c.id == sa.bindparam("key_id"))


class CallRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self, call_id: str) -> tuple[int, dict[str, Any]]:
        version, _ = self.stamp(call_id)
        return version, self.version(call_id, version)

    def stamp(self, call_id: str, version: int | None = None) -> tuple[int, datetime]:
        """(version, loaded_at) of the current or the given version, without its document: a
        version never changes once stored, so callers cache the parsed document by this stamp."""
        query = sa.select(call_versions.c.version, call_versions.c.loaded_at).where(call_versions.c.call_id == call_id)
        if version is None:
            query = query.join(
                calls,
                sa.and_(calls.c.id == call_versions.c.call_id, calls.c.current_version == call_versions.c.version),
            )
        else:
            query = query.where(call_versions.c.version == version)
        row = self.session.execute(query).first()
        if row is None:
            refuse("call_not_found", {"call_id": call_id})
        return row.version, row.loaded_at

    def version(self, call_id: str, version: int) -> dict[str, Any]:
        doc = self.session.execute(
            sa.select(call_versions.c.document).where(
                call_versions.c.call_id == call_id, call_versions.c.version == version
            )
        ).scalar()
        if doc is None:
            refuse("call_not_found/version", call_id=call_id, version=version)
        return doc

    def lock(self, call_id: str) -> None:
        """Hold the call's row until the transaction ends (serialises quota checks)."""
        self.session.execute(sa.select(calls.c.id).where(calls.c.id == call_id).with_for_update())

    def exists(self, call_id: str) -> bool:
        return self.session.execute(sa.select(calls.c.id).where(calls.c.id == call_id)).first() is not None

    def list(self) -> list[dict[str, Any]]:
        rows = self.session.execute(sa.select(calls).order_by(calls.c.id)).all()
        return [dict(r._mapping) for r in rows]

    def save_version(self, document: dict[str, Any], fingerprint: str, by: str, note: str | None) -> int:
        now = datetime.now(UTC)
        call_id = document["id"]
        current = self.session.execute(
            sa.select(calls.c.current_version).where(calls.c.id == call_id).with_for_update()
        ).scalar()
        version = (current or 0) + 1
        self.session.execute(
            call_versions.insert().values(
                call_id=call_id,
                version=version,
                document=document,
                fingerprint=fingerprint,
                loaded_at=now,
                loaded_by=by,
                change_note=note,
            )
        )
        if current is None:
            self.session.execute(
                calls.insert().values(id=call_id, current_version=version, title=document["title"], updated_at=now)
            )
        else:
            self.session.execute(
                calls.update()
                .where(calls.c.id == call_id)
                .values(current_version=version, title=document["title"], updated_at=now)
            )
        return version

    def fingerprint(self, call_id: str) -> str | None:
        return self.session.execute(
            sa.select(call_versions.c.fingerprint)
            .join(
                calls,
                sa.and_(calls.c.id == call_versions.c.call_id, calls.c.current_version == call_versions.c.version),
            )
            .where(calls.c.id == call_id)
        ).scalar()

    def accepted_count(self, call_id: str) -> int:
        return self.session.execute(
            sa.select(sa.func.count())
            .select_from(applications)
            .where(
                applications.c.call_id == call_id,
                applications.c.state.notin_([State.DRAFT.value, State.WITHDRAWN.value]),
            )
        ).scalar_one()


class ApplicationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def _from_row(row: Any) -> Application:
        return Application(
            id=row.id,
            call_id=row.call_id,
            call_version=row.call_version,
            applicant_sub=row.applicant_sub,
            applicant_org=row.applicant_org,
            unit_code=row.unit_code,
            form=row.form,
            state=State(row.state),
            unit_opinion=row.unit_opinion,
            reason=row.reason,
            batch_id=row.batch_id,
            submitted_at=_aware(row.submitted_at),
            forwarded_at=_aware(row.forwarded_at),
            history=list(row.history or []),
        )

    def get(self, app_id: str, for_update: bool = False) -> Application:
        query = sa.select(applications).where(applications.c.id == app_id)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        if row is None:
            refuse("application_not_found", {"application_id": app_id})
        return self._from_row(row)

    def _values(self, app: Application, name_key: str | None) -> dict[str, Any]:
        applicant = app.form.get("applicant") or {}
        return dict(
            call_id=app.call_id,
            call_version=app.call_version,
            state=app.state.value,
            applicant_sub=app.applicant_sub,
            applicant_org=app.applicant_org,
            unit_code=app.unit_code,
            project_name=app.form.get("project_name"),
            name_key=name_key,
            credit_code=applicant.get("credit_code"),
            form=app.form,
            unit_opinion=app.unit_opinion,
            reason=app.reason,
            batch_id=app.batch_id,
            history=app.history,
            submitted_at=app.submitted_at,
            forwarded_at=app.forwarded_at,
            updated_at=datetime.now(UTC),
        )

    def add(self, app: Application, name_key: str | None) -> None:
        # constant statements with parameters: compiled once and cached, not rebuilt per call
        self.session.execute(
            _INSERT_APPLICATION, {"id": app.id, "created_at": datetime.now(UTC), **self._values(app, name_key)}
        )

    def save(self, app: Application, name_key: str | None) -> None:
        self.session.execute(_UPDATE_APPLICATION, {"key_id": app.id, **self._values(app, name_key)})

    def identity_clash(self, call_id: str, credit_code: str, name_key: str, exclude_id: str) -> str | None:
        """An accepted application of the same organisation with the same normalised name."""
        return self.session.execute(
            sa.select(applications.c.id).where(
                applications.c.call_id == call_id,
                applications.c.credit_code == credit_code,
                applications.c.name_key == name_key,
                applications.c.id != exclude_id,
                applications.c.state.notin_(
                    [State.DRAFT.value, State.WITHDRAWN.value, State.REJECTED.value, State.RETURNED.value]
                ),
            )
        ).scalar()

    def list(
        self,
        *,
        applicant_sub: str | None = None,
        unit_code: str | None = None,
        call_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        query = sa.select(applications).order_by(applications.c.created_at, applications.c.id)
        if applicant_sub is not None:
            query = query.where(applications.c.applicant_sub == applicant_sub)
        if unit_code is not None:
            # a unit sees what was addressed to it, never drafts still being written, except the
            # drafts it imported itself
            query = query.where(
                applications.c.unit_code == unit_code,
                sa.or_(
                    applications.c.state != State.DRAFT.value,
                    applications.c.applicant_sub == import_owner(unit_code),
                ),
            )
        if call_id:
            query = query.where(applications.c.call_id == call_id)
        if state:
            query = query.where(applications.c.state == state)
        rows = self.session.execute(query.limit(limit).offset(offset)).all()
        return [dict(r._mapping) for r in rows]


    def forwarded_count(self, call_id: str, unit_code: str) -> int:
        """Applications of ``unit_code`` forwarded to ``call_id`` and still standing (for the quota)."""
        return self.session.execute(
            sa.select(sa.func.count())
            .select_from(applications)
            .where(
                applications.c.call_id == call_id,
                applications.c.unit_code == unit_code,
                applications.c.state == State.FORWARDED.value,
            )
        ).scalar_one()

    def existing_ids(self, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        rows = self.session.execute(sa.select(applications.c.id).where(applications.c.id.in_(ids))).scalars()
        return set(rows)


class DuplicateFlagRepository:
    """Flags per application from review's duplicate events; written only by those events."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, suspicion_id: str, application_id: str) -> Any:
        return self.session.execute(
            sa.select(duplicate_flags)
            .where(
                duplicate_flags.c.suspicion_id == suspicion_id, duplicate_flags.c.application_id == application_id
            )
            .with_for_update()
        ).first()

    def record_suspected(self, flag: Flag, at: datetime) -> None:
        values = dict(
            other_application_id=flag.other_application_id,
            call_id=flag.call_id,
            other_call_id=flag.other_call_id,
            score=flag.score,
            reasons=flag.reasons,
            cluster_id=flag.cluster_id,
            cross_call=flag.cross_call,
            flagged_at=at,
        )
        if self._row(flag.suspicion_id, flag.application_id) is None:
            self.session.execute(
                duplicate_flags.insert().values(
                    suspicion_id=flag.suspicion_id, application_id=flag.application_id, status=OPEN, **values
                )
            )
        else:  # the settlement arrived first: fill in the finding, keep it settled
            self.session.execute(
                duplicate_flags.update()
                .where(
                    duplicate_flags.c.suspicion_id == flag.suspicion_id,
                    duplicate_flags.c.application_id == flag.application_id,
                )
                .values(**values)
            )

    def record_settled(self, data: dict[str, Any], application_id: str, at: datetime) -> None:
        others = [a for a in data["application_ids"] if a != application_id]
        values = dict(
            status=SETTLED,
            outcome=data["outcome"],
            keep_id=data.get("keep_id"),
            action=data.get("action"),
            decided_by=data.get("decided_by"),
            note=data.get("note"),
            settled_at=at,
        )
        if self._row(data["suspicion_id"], application_id) is None:
            self.session.execute(
                duplicate_flags.insert().values(
                    suspicion_id=data["suspicion_id"],
                    application_id=application_id,
                    other_application_id=others[0] if others else application_id,
                    reasons=[],
                    cross_call=False,
                    **values,
                )
            )
        else:
            self.session.execute(
                duplicate_flags.update()
                .where(
                    duplicate_flags.c.suspicion_id == data["suspicion_id"],
                    duplicate_flags.c.application_id == application_id,
                )
                .values(**values)
            )

    def for_applications(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
        if not ids:
            return out
        rows = self.session.execute(
            sa.select(duplicate_flags)
            .where(duplicate_flags.c.application_id.in_(ids))
            .order_by(duplicate_flags.c.flagged_at, duplicate_flags.c.suspicion_id)
        ).all()
        for row in rows:
            flag = dict(row._mapping)
            for key in ("flagged_at", "settled_at"):
                flag[key] = _aware(flag[key])
            out[flag.pop("application_id")].append(flag)
        return out


class ImportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, unit_code: str, call_id: str, sha256: str) -> dict[str, Any] | None:
        row = self.session.execute(
            sa.select(imports).where(
                imports.c.unit_code == unit_code, imports.c.call_id == call_id, imports.c.sha256 == sha256
            )
        ).first()
        return dict(row._mapping) if row else None

    def add(self, import_id: str, unit_code: str, call_id: str, sha256: str, report: dict[str, Any]) -> None:
        self.session.execute(
            imports.insert().values(
                id=import_id,
                unit_code=unit_code,
                call_id=call_id,
                sha256=sha256,
                report=report,
                created_at=datetime.now(UTC),
            )
        )


class BatchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @staticmethod
    def request_hash(application_ids: list[str], endorse_opinion: str | None = None) -> str:
        request: Any = sorted(application_ids)
        if endorse_opinion is not None:  # kept out when absent: earlier batches keep their hash
            request = {"ids": request, "endorse_opinion": endorse_opinion}
        return hashlib.sha256(json.dumps(request, ensure_ascii=False).encode()).hexdigest()

    def find(self, unit_code: str, key: str) -> dict[str, Any] | None:
        row = self.session.execute(
            sa.select(batches).where(batches.c.unit_code == unit_code, batches.c.idempotency_key == key)
        ).first()
        return dict(row._mapping) if row else None

    def add(self, batch_id: str, unit_code: str, key: str, request_hash: str, result: dict[str, Any]) -> None:
        self.session.execute(
            batches.insert().values(
                id=batch_id,
                unit_code=unit_code,
                idempotency_key=key,
                request_hash=request_hash,
                result=result,
                created_at=datetime.now(UTC),
            )
        )


class EvidenceNoteRepository:
    """Media's warnings per evidence id, written only by media's evidence events."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, data: dict[str, Any]) -> None:
        evidence_id = data["evidence_id"]
        self.session.execute(evidence_notes.delete().where(evidence_notes.c.evidence_id == evidence_id))
        self.session.execute(evidence_notes.insert().values(
            evidence_id=evidence_id, owner_sub=data["owner_sub"], kind=data["kind"], width=data.get("width"),
            height=data.get("height"), warnings=list(data.get("warnings") or []), stored_at=data["stored_at"],
        ))

    def drop(self, evidence_id: str) -> None:
        self.session.execute(evidence_notes.delete().where(evidence_notes.c.evidence_id == evidence_id))

    def warnings_for(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        if not ids:
            return {}
        rows = self.session.execute(
            sa.select(evidence_notes.c.evidence_id, evidence_notes.c.warnings).where(
                evidence_notes.c.evidence_id.in_(sorted(set(ids))))
        ).all()
        return {r.evidence_id: list(r.warnings or []) for r in rows}
