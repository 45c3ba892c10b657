"""Review's repositories: every SQL statement of its use cases, one class per area.

Each takes the unit of work's session (``ReviewUnitOfWork`` builds them); rows come back as
SQLAlchemy rows (attribute access) or dicts, as each method says. tests/unit/review/fakes.py
keeps an in-memory twin of each, so use cases are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gongyi.db import conflict_insert
from services.review.storage.tables import (
    assignments,
    audit_log,
    calls,
    conflict_declarations,
    evidence_notes,
    experts,
    projects,
    rankings,
    review_reminders,
    reviews,
    screening_decisions,
    screening_reports,
    selection_proposals,
    selections,
)


@cache
def _upsert_statement(dialect: str) -> Any:
    """One INSERT .. ON CONFLICT statement (a round trip instead of select-then-write), built once
    per dialect; a re-forwarded application replaces the copy and bumps its version."""
    stmt = conflict_insert(dialect)(projects)
    kept = ("application_id", "version", "indexed_version")
    return stmt.on_conflict_do_update(
        index_elements=[projects.c.application_id],
        set_={**{c.name: stmt.excluded[c.name] for c in projects.c if c.name not in kept},
              "version": projects.c.version + 1},
    )


class ProjectRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert_forwarded(self, data: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        forwarded_at = datetime.fromisoformat(data["forwarded_at"]) if data.get("forwarded_at") else None
        values = dict(
            call_id=data["call_id"],
            call_version=data["call_version"],
            unit_code=data.get("unit_code"),
            status="forwarded",
            project_name=data.get("project_name"),
            category=data.get("category"),
            form=data["form"],
            unit_opinion=data.get("unit_opinion"),
            forwarded_at=forwarded_at,
            updated_at=now,
        )
        self.session.execute(
            _upsert_statement(self.session.get_bind().dialect.name),
            {"application_id": data["application_id"], "version": 1, "indexed_version": 0, **values},
        )

    def set_status(self, application_id: str, status: str) -> bool:
        result = self.session.execute(
            projects.update()
            .where(projects.c.application_id == application_id)
            .values(status=status, version=projects.c.version + 1, updated_at=datetime.now(UTC))
        )
        return result.rowcount > 0

    def get(self, application_id: str) -> dict[str, Any] | None:
        row = self.session.execute(sa.select(projects).where(projects.c.application_id == application_id)).first()
        return dict(row._mapping) if row else None

    def in_call_with_status(self, call_id: str, status: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            sa.select(projects).where(projects.c.call_id == call_id, projects.c.status == status)
            .order_by(projects.c.application_id)).all()
        return [dict(r._mapping) for r in rows]

    def many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        rows = self.session.execute(sa.select(projects).where(projects.c.application_id.in_(ids))).all()
        return {r.application_id: dict(r._mapping) for r in rows}

    def reset_index_marks(self) -> None:
        """Every project as not indexed, so the sync loop writes the whole read model again."""
        self.session.execute(projects.update().values(indexed_version=0))


class CallRepository:
    """Every version of every call document intake announced."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, call_id: str) -> Any:
        """(version, document) of the newest version, or None."""
        return self.session.execute(
            sa.select(calls.c.version, calls.c.document).where(calls.c.call_id == call_id)
            .order_by(calls.c.version.desc()).limit(1)
        ).first()

    def latest_documents(self) -> list[tuple[str, dict[str, Any]]]:
        """(call_id, document) of every call's newest version."""
        newest = (sa.select(calls.c.call_id, sa.func.max(calls.c.version).label("version"))
                  .group_by(calls.c.call_id).subquery())
        rows = self.session.execute(
            sa.select(calls.c.call_id, calls.c.document)
            .join(newest, sa.and_(newest.c.call_id == calls.c.call_id, newest.c.version == calls.c.version))
            .order_by(calls.c.call_id)).all()
        return [(r.call_id, r.document) for r in rows]

    def has_version(self, call_id: str, version: int) -> bool:
        return self.session.execute(
            sa.select(calls.c.version).where(calls.c.call_id == call_id, calls.c.version == version)
        ).first() is not None

    def add(self, call_id: str, version: int, fingerprint: str, document: dict[str, Any], loaded_at: datetime) -> None:
        self.session.execute(calls.insert().values(call_id=call_id, version=version, fingerprint=fingerprint,
                                                   document=document, loaded_at=loaded_at))


class AuditLog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, **values: Any) -> None:
        self.session.execute(audit_log.insert().values(**values))

    def entries(self, entity_id: str | None, actor: str | None, action: str | None, limit: int,
                offset: int) -> list[Any]:
        q = sa.select(audit_log)
        if entity_id:
            q = q.where(audit_log.c.entity_id.startswith(entity_id, autoescape=True))
        if actor:
            q = q.where(audit_log.c.actor == actor)
        if action:
            q = q.where(audit_log.c.action == action)
        return list(self.session.execute(q.order_by(audit_log.c.id.desc()).limit(limit).offset(offset)).all())


class ScreeningRepository:
    """Media's verdicts on evidence, the screening reports and the staff decisions."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def evidence_notes(self, ids: list[str]) -> list[Any]:
        return list(self.session.execute(sa.select(evidence_notes).where(evidence_notes.c.evidence_id.in_(ids))).all())

    def put_evidence_note(self, evidence_id: str, **values: Any) -> None:
        exists = self.session.execute(
            sa.select(evidence_notes.c.evidence_id).where(evidence_notes.c.evidence_id == evidence_id)).first()
        if exists:
            self.session.execute(evidence_notes.update().where(evidence_notes.c.evidence_id == evidence_id)
                                 .values(**values))
        else:
            self.session.execute(evidence_notes.insert().values(evidence_id=evidence_id, **values))

    def report(self, application_id: str) -> Any:
        return self.session.execute(
            sa.select(screening_reports).where(screening_reports.c.application_id == application_id)).first()

    def put_report(self, application_id: str, exists: bool, **values: Any) -> None:
        if not exists:
            self.session.execute(screening_reports.insert().values(application_id=application_id, **values))
        else:
            self.session.execute(screening_reports.update()
                                 .where(screening_reports.c.application_id == application_id).values(**values))

    def decisions(self, application_id: str) -> list[Any]:
        return list(self.session.execute(
            sa.select(screening_decisions).where(screening_decisions.c.application_id == application_id)
            .order_by(screening_decisions.c.id)).all())

    def add_decision(self, **values: Any) -> None:
        self.session.execute(screening_decisions.insert().values(**values))


class ExpertRepository:
    """The expert pool and the conflicts experts declared."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def active_profiles(self) -> list[dict[str, Any]]:
        return [r.profile for r in self.session.execute(
            sa.select(experts.c.profile).where(experts.c.active.is_(True))).all()]

    def profile(self, expert_id: str) -> dict[str, Any] | None:
        row = self.session.execute(sa.select(experts.c.profile).where(experts.c.expert_id == expert_id)).first()
        return None if row is None else row.profile

    def exists(self, expert_id: str) -> bool:
        return self.session.execute(
            sa.select(experts.c.expert_id).where(experts.c.expert_id == expert_id)).first() is not None

    def add(self, expert_id: str, profile: dict[str, Any], at: datetime) -> None:
        self.session.execute(experts.insert().values(expert_id=expert_id, profile=profile, active=True,
                                                     created_at=at, updated_at=at))

    def replace_profile(self, expert_id: str, profile: dict[str, Any], at: datetime) -> None:
        self.session.execute(experts.update().where(experts.c.expert_id == expert_id)
                             .values(profile=profile, updated_at=at))

    def all_profiles(self) -> list[dict[str, Any]]:
        return [r.profile for r in self.session.execute(
            sa.select(experts.c.profile).order_by(experts.c.expert_id)).all()]

    def declarations(self) -> list[Any]:
        return list(self.session.execute(sa.select(conflict_declarations)).all())

    def has_declared(self, expert_id: str, application_id: str) -> bool:
        return self.session.execute(sa.select(conflict_declarations.c.expert_id).where(
            conflict_declarations.c.expert_id == expert_id,
            conflict_declarations.c.application_id == application_id)).first() is not None

    def add_declaration(self, expert_id: str, application_id: str, reason: str, declared_at: datetime) -> None:
        self.session.execute(conflict_declarations.insert().values(
            expert_id=expert_id, application_id=application_id, reason=reason, declared_at=declared_at))


class AssignmentRepository:
    """Seats: which expert reviews which project, and seats left (removed, declined, conflicted)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of_call(self, call_id: str) -> list[Any]:
        return list(self.session.execute(sa.select(assignments).where(assignments.c.call_id == call_id)
                                         .order_by(assignments.c.updated_at, assignments.c.expert_id)).all())

    def of_application(self, application_id: str) -> list[Any]:
        return list(self.session.execute(sa.select(assignments).where(assignments.c.application_id == application_id)
                                         .order_by(assignments.c.expert_id)).all())

    def status(self, application_id: str, expert_id: str) -> str | None:
        row = self.session.execute(sa.select(assignments.c.status).where(
            assignments.c.application_id == application_id, assignments.c.expert_id == expert_id)).first()
        return None if row is None else row.status

    def put(self, application_id: str, expert_id: str, exists: bool, **values: Any) -> None:
        if not exists:
            self.session.execute(assignments.insert().values(application_id=application_id, expert_id=expert_id,
                                                             **values))
        else:
            self.session.execute(assignments.update().where(assignments.c.application_id == application_id,
                                                            assignments.c.expert_id == expert_id).values(**values))

    def active_loads(self) -> dict[str, int]:
        rows = self.session.execute(
            sa.select(assignments.c.expert_id, sa.func.count()).where(assignments.c.status == "active")
            .group_by(assignments.c.expert_id)).all()
        return {r[0]: r[1] for r in rows}

    def active_projects_of(self, expert_id: str) -> list[str]:
        return [r.application_id for r in self.session.execute(sa.select(assignments.c.application_id).where(
            assignments.c.expert_id == expert_id, assignments.c.status == "active")
            .order_by(assignments.c.application_id)).all()]


class ReviewRepository:
    """Experts' scores, and the inputs of a ranking."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, application_id: str, expert_id: str) -> Any:
        return self.session.execute(sa.select(reviews).where(reviews.c.application_id == application_id,
                                                             reviews.c.expert_id == expert_id)).first()

    def add(self, **values: Any) -> None:
        self.session.execute(reviews.insert().values(**values))

    def change(self, review_id: str, **values: Any) -> None:
        self.session.execute(reviews.update().where(reviews.c.review_id == review_id).values(**values))

    def of_application(self, application_id: str) -> list[Any]:
        return list(self.session.execute(sa.select(reviews).where(reviews.c.application_id == application_id)
                                         .order_by(reviews.c.expert_id)).all())

    def submitted_pairs(self, call_id: str) -> set[tuple[str, str]]:
        """(application_id, expert_id) of every submitted review of the call."""
        rows = self.session.execute(sa.select(reviews.c.application_id, reviews.c.expert_id).where(
            reviews.c.call_id == call_id, reviews.c.status == "submitted")).all()
        return {(r.application_id, r.expert_id) for r in rows}

    def submitted_inputs(self, call_id: str) -> list[Any]:
        """Submitted reviews whose expert still holds the seat, of projects not withdrawn."""
        return list(self.session.execute(
            sa.select(reviews.c.application_id, reviews.c.expert_id, reviews.c.total, reviews.c.scores)
            .join(assignments, sa.and_(assignments.c.application_id == reviews.c.application_id,
                                       assignments.c.expert_id == reviews.c.expert_id))
            .join(projects, projects.c.application_id == reviews.c.application_id)
            .where(reviews.c.call_id == call_id, reviews.c.status == "submitted", assignments.c.status == "active",
                   projects.c.status != "withdrawn")
        ).all())


class ReminderRepository:
    """Review-deadline reminders already sent, so each expert hears once per deadline."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def reminded(self, call_id: str, due_at: datetime) -> set[str]:
        rows = self.session.execute(sa.select(review_reminders.c.expert_id).where(
            review_reminders.c.call_id == call_id, review_reminders.c.due_at == due_at)).all()
        return {r.expert_id for r in rows}

    def claim(self, call_id: str, expert_id: str, due_at: datetime, pending: list[str], at: datetime) -> bool:
        """Record the reminder; False when another replica recorded it first (then send nothing)."""
        dialect = self.session.get_bind().dialect.name
        stmt = conflict_insert(dialect)(review_reminders).values(
            call_id=call_id, expert_id=expert_id, due_at=due_at, pending=pending, sent_at=at,
        ).on_conflict_do_nothing()
        return self.session.execute(stmt).rowcount == 1


class RankingRepository:
    """Rankings with their inputs, selection proposals and confirmed selections."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_ranking(self, **values: Any) -> None:
        self.session.execute(rankings.insert().values(**values))

    def ranking(self, ranking_id: str) -> Any:
        return self.session.execute(sa.select(rankings).where(rankings.c.ranking_id == ranking_id)).first()

    def latest_ranking_id(self, call_id: str) -> str | None:
        return self.session.execute(sa.select(rankings.c.ranking_id).where(rankings.c.call_id == call_id)
                                    .order_by(rankings.c.computed_at.desc()).limit(1)).scalar()

    def add_proposal(self, **values: Any) -> None:
        self.session.execute(selection_proposals.insert().values(**values))

    def proposal(self, proposal_id: str, call_id: str | None = None) -> Any:
        q = sa.select(selection_proposals).where(selection_proposals.c.proposal_id == proposal_id)
        if call_id is not None:
            q = q.where(selection_proposals.c.call_id == call_id)
        return self.session.execute(q).first()

    def change_proposal(self, proposal_id: str, **values: Any) -> None:
        self.session.execute(selection_proposals.update().where(selection_proposals.c.proposal_id == proposal_id)
                             .values(**values))

    def add_selection(self, **values: Any) -> None:
        self.session.execute(selections.insert().values(**values))

    def latest_selection(self, call_id: str) -> Any:
        return self.session.execute(sa.select(selections).where(selections.c.call_id == call_id)
                                    .order_by(selections.c.confirmed_at.desc()).limit(1)).first()


def unindexed(conn: sa.Connection, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(projects).where(projects.c.indexed_version < projects.c.version).limit(limit)).all()
    return [dict(r._mapping) for r in rows]


def mark_indexed(conn: sa.Connection, versions: dict[str, int]) -> None:
    """One UPDATE per distinct version (nearly always one), not one per project."""
    by_version: dict[int, list[str]] = {}
    for app_id, version in versions.items():
        by_version.setdefault(version, []).append(app_id)
    for version, ids in by_version.items():
        for i in range(0, len(ids), 1000):  # under SQLite's bound-parameter limit
            conn.execute(
                projects.update()
                .where(projects.c.application_id.in_(ids[i : i + 1000]), projects.c.indexed_version < version)
                .values(indexed_version=version)
            )


def all_projects(conn: sa.Connection, chunk: int = 1000) -> Iterator[dict[str, Any]]:
    last = ""
    while True:
        rows = conn.execute(
            sa.select(projects).where(projects.c.application_id > last).order_by(projects.c.application_id).limit(chunk)
        ).all()
        if not rows:
            return
        for r in rows:
            yield dict(r._mapping)
        last = rows[-1].application_id


def count_projects(conn: sa.Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(projects)).scalar_one()
