"""Reading and writing publish's aggregates; the only module that knows publish's tables.

Aggregates are JSON documents with a ``version``: ``save`` is a compare-and-set on it, so two
staff members acting on one notice at once cannot silently overwrite each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gongyi.db import conflict_insert
from gongyi.errors import Conflict
from services.publish.domain.notice import Notice
from services.publish.domain.refusals import refuse
from services.publish.domain.reports import ProgressReport, TypicalCase
from services.publish.storage.documents import (
    case_from_doc,
    case_to_doc,
    notice_from_doc,
    notice_to_doc,
    report_from_doc,
    report_to_doc,
)
from services.publish.storage.tables import (
    applications,
    calls,
    cases,
    notices,
    objection_codes,
    report_reminders,
    reports,
    review_totals,
    screening,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _concurrent(kind: str, ident: str) -> Conflict:
    return Conflict(
        "concurrent_update",
        "数据已被他人修改，请刷新后重试",
        f"The {kind} was changed by someone else; reload and retry",
        {"id": ident},
    )


class CallRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def upsert(self, call_id: str, version: int, document: dict[str, Any]) -> bool:
        """Keep the newest version; an older or repeated version changes nothing."""
        row = self.session.execute(sa.select(calls.c.version).where(calls.c.call_id == call_id)).first()
        values = {"version": version, "title": document.get("title", call_id), "document": document,
                  "updated_at": _now()}
        if row is None:
            self.session.execute(calls.insert().values(call_id=call_id, **values))
            return True
        if version <= row.version:
            return False
        self.session.execute(calls.update().where(calls.c.call_id == call_id).values(**values))
        return True

    def get(self, call_id: str) -> dict[str, Any] | None:
        row = self.session.execute(sa.select(calls.c.document).where(calls.c.call_id == call_id)).first()
        return row.document if row else None

    def all_documents(self) -> list[tuple[str, dict[str, Any]]]:
        rows = self.session.execute(sa.select(calls.c.call_id, calls.c.document).order_by(calls.c.call_id)).all()
        return [(r.call_id, r.document or {}) for r in rows]

    def rehearsal_ids(self) -> list[str]:
        """Calls marked as rehearsals (演练): kept out of public lists and feeds unless asked for by id."""
        rows = self.session.execute(sa.select(calls.c.call_id, calls.c.document)).all()
        return [r.call_id for r in rows if (r.document or {}).get("rehearsal")]


class NoticeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def exists_for_selection(self, selection_id: str) -> bool:
        q = sa.select(notices.c.id).where(notices.c.selection_id == selection_id)
        return self.session.execute(q).first() is not None

    def add(self, notice: Notice, selection_id: str, snapshot: dict[str, Any]) -> None:
        now = _now()
        self.session.execute(
            notices.insert().values(
                id=notice.id,
                selection_id=selection_id,
                call_id=notice.call_id,
                state=notice.state.value,
                publish_at=None,
                published_at=None,
                document=notice_to_doc(notice),
                snapshot=snapshot,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )

    def _row(self, notice_id: str, for_update: bool = False) -> Any:
        q = sa.select(notices).where(notices.c.id == notice_id)
        if for_update:
            q = q.with_for_update()
        row = self.session.execute(q).first()
        if row is None:
            refuse("notice_not_found", {"notice_id": notice_id})
        return row

    def get(self, notice_id: str, for_update: bool = False) -> tuple[Notice, int]:
        row = self._row(notice_id, for_update)
        return notice_from_doc(row.document), row.version

    def snapshot(self, notice_id: str) -> dict[str, Any]:
        return self._row(notice_id).snapshot

    def save(self, notice: Notice, expected_version: int) -> int:
        result = self.session.execute(
            notices.update()
            .where(notices.c.id == notice.id, notices.c.version == expected_version)
            .values(
                state=notice.state.value,
                publish_at=notice.publish_at,
                published_at=notice.published_at,
                document=notice_to_doc(notice),
                version=expected_version + 1,
                updated_at=_now(),
            )
        )
        if result.rowcount != 1:
            raise _concurrent("notice", notice.id)
        return expected_version + 1

    def list(self, *, call_id: str | None = None, states: tuple[str, ...] | None = None,
             limit: int = 100, offset: int = 0, exclude_calls: list[str] | None = None) -> list[Notice]:
        q = sa.select(notices.c.document).order_by(notices.c.created_at.desc(), notices.c.id)
        if call_id:
            q = q.where(notices.c.call_id == call_id)
        if exclude_calls:
            q = q.where(notices.c.call_id.not_in(exclude_calls))
        if states:
            q = q.where(notices.c.state.in_(states))
        rows = self.session.execute(q.limit(limit).offset(offset)).all()
        return [notice_from_doc(r.document) for r in rows]

    def scheduled_until(self, now: dt.datetime) -> list[str]:
        q = sa.select(notices.c.id).where(notices.c.state == "scheduled", notices.c.publish_at <= now)
        return [r.id for r in self.session.execute(q).all()]

    def add_code(self, tracking_code: str, notice_id: str, objection_id: str) -> None:
        exists = self.session.execute(
            sa.select(objection_codes.c.tracking_code).where(objection_codes.c.tracking_code == tracking_code)
        ).first()
        if exists is None:
            self.session.execute(
                objection_codes.insert().values(
                    tracking_code=tracking_code, notice_id=notice_id, objection_id=objection_id
                )
            )

    def by_code(self, tracking_code: str) -> tuple[str, str] | None:
        row = self.session.execute(
            sa.select(objection_codes).where(objection_codes.c.tracking_code == tracking_code)
        ).first()
        return (row.notice_id, row.objection_id) if row else None


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, report: ProgressReport, call_id: str, notice_id: str, unit_code: str | None,
            applicant_org: str | None = None) -> None:
        self.session.execute(
            reports.insert().values(
                id=report.id,
                call_id=call_id,
                notice_id=notice_id,
                application_id=report.application_id,
                unit_code=unit_code,
                applicant_org=applicant_org,
                state=report.state.value,
                document=report_to_doc(report),
                version=1,
                updated_at=_now(),
            )
        )

    def get(self, report_id: str) -> tuple[ProgressReport, dict[str, Any]]:
        row = self.session.execute(sa.select(reports).where(reports.c.id == report_id)).first()
        if row is None:
            refuse("report_not_found", {"report_id": report_id})
        meta = {"call_id": row.call_id, "notice_id": row.notice_id, "unit_code": row.unit_code,
                "applicant_org": row.applicant_org, "version": row.version}
        return report_from_doc(row.document), meta

    def save(self, report: ProgressReport, expected_version: int) -> None:
        result = self.session.execute(
            reports.update()
            .where(reports.c.id == report.id, reports.c.version == expected_version)
            .values(state=report.state.value, document=report_to_doc(report), version=expected_version + 1,
                    updated_at=_now())
        )
        if result.rowcount != 1:
            raise _concurrent("report", report.id)

    def list(self, *, call_id: str | None = None, state: str | None = None, unit_code: str | None = None,
             application_id: str | None = None, applicant_org: str | None = None, limit: int = 100,
             offset: int = 0) -> list[dict[str, Any]]:
        q = sa.select(reports).order_by(reports.c.updated_at.desc(), reports.c.id)
        for column, value in ((reports.c.call_id, call_id), (reports.c.state, state),
                              (reports.c.unit_code, unit_code), (reports.c.application_id, application_id),
                              (reports.c.applicant_org, applicant_org)):
            if value:
                q = q.where(column == value)
        rows = self.session.execute(q.limit(limit).offset(offset)).all()
        return [{**r.document, "call_id": r.call_id, "notice_id": r.notice_id, "unit_code": r.unit_code}
                for r in rows]

    def filed_times(self, call_id: str) -> dict[str, list[dt.datetime]]:
        """When each project of the call filed its reports (first submission)."""
        out: dict[str, list[dt.datetime]] = {}
        rows = self.session.execute(sa.select(reports.c.application_id, reports.c.document)
                                    .where(reports.c.call_id == call_id))
        for r in rows:
            out.setdefault(r.application_id, []).append(dt.datetime.fromisoformat(r.document["submitted_at"]))
        return out

    def count_by_kind(self, call_id: str) -> dict[str, dict[str, int]]:
        rows = self.session.execute(sa.select(reports.c.state, reports.c.document).where(reports.c.call_id == call_id))
        out: dict[str, dict[str, int]] = {}
        for r in rows:
            kind = out.setdefault(r.document["kind"], dict.fromkeys(("awaiting_unit", "submitted", "accepted",
                                                                    "returned"), 0))
            kind[r.state] = kind.get(r.state, 0) + 1
        return out


class ReminderRepository:
    """Tracking-report reminders already sent, so each project hears once per deadline."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def reminded(self, call_id: str) -> set[tuple[str, dt.datetime]]:
        rows = self.session.execute(sa.select(report_reminders.c.application_id, report_reminders.c.due_at)
                                    .where(report_reminders.c.call_id == call_id)).all()
        return {(r.application_id, _aware(r.due_at)) for r in rows}

    def claim(self, application_id: str, due_at: dt.datetime, call_id: str, at: dt.datetime) -> bool:
        """Record the reminder; False when another replica recorded it first (then send nothing)."""
        stmt = conflict_insert(self.session.get_bind().dialect.name)(report_reminders).values(
            application_id=application_id, due_at=due_at, call_id=call_id, sent_at=at).on_conflict_do_nothing()
        return self.session.execute(stmt).rowcount == 1


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back without their zone; they are stored in UTC
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def exists_for_report(self, report_id: str) -> bool:
        return self.session.execute(sa.select(cases.c.id).where(cases.c.report_id == report_id)).first() is not None

    def add(self, case: TypicalCase, call_id: str) -> None:
        self.session.execute(
            cases.insert().values(
                id=case.id, report_id=case.report_id, call_id=call_id, application_id=case.application_id,
                document=case_to_doc(case), published_at=case.published_at,
            )
        )

    def get(self, case_id: str) -> TypicalCase:
        row = self.session.execute(sa.select(cases.c.document).where(cases.c.id == case_id)).first()
        if row is None:
            refuse("case_not_found", {"case_id": case_id})
        return case_from_doc(row.document)

    def list(self, *, call_id: str | None = None, application_id: str | None = None,
             limit: int = 100, offset: int = 0, exclude_calls: list[str] | None = None) -> list[TypicalCase]:
        q = sa.select(cases.c.document).order_by(cases.c.published_at.desc(), cases.c.id)
        if call_id:
            q = q.where(cases.c.call_id == call_id)
        if exclude_calls:
            q = q.where(cases.c.call_id.not_in(exclude_calls))
        if application_id:
            q = q.where(cases.c.application_id == application_id)
        return [case_from_doc(r.document) for r in self.session.execute(q.limit(limit).offset(offset)).all()]

    def count(self, call_id: str) -> int:
        return self.session.execute(sa.select(sa.func.count()).where(cases.c.call_id == call_id)).scalar_one()


class ReviewDataRepository:
    """review's screening decisions and review totals, kept for the year-end summary."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record_screening(self, application_id: str, call_id: str, passed: bool, decided_at: str) -> None:
        row = self.session.execute(
            sa.select(screening.c.decided_at).where(screening.c.application_id == application_id)
        ).first()
        values = {"call_id": call_id, "passed": passed, "decided_at": decided_at}
        if row is None:
            self.session.execute(screening.insert().values(application_id=application_id, **values))
        elif decided_at >= row.decided_at:  # a later decision (e.g. on appeal) wins
            self.session.execute(
                screening.update().where(screening.c.application_id == application_id).values(**values)
            )

    def record_review(self, review_id: str, application_id: str, total: float, submitted_at: str) -> None:
        row = self.session.execute(
            sa.select(review_totals.c.submitted_at).where(review_totals.c.review_id == review_id)
        ).first()
        values = {"application_id": application_id, "total": total, "submitted_at": submitted_at}
        if row is None:
            self.session.execute(review_totals.insert().values(review_id=review_id, **values))
        elif submitted_at >= row.submitted_at:
            self.session.execute(
                review_totals.update().where(review_totals.c.review_id == review_id).values(**values)
            )

    def screening_for_call(self, call_id: str) -> dict[str, bool]:
        rows = self.session.execute(
            sa.select(screening.c.application_id, screening.c.passed).where(screening.c.call_id == call_id)
        ).all()
        return {r.application_id: r.passed for r in rows}

    def mean_scores_for_call(self, call_id: str) -> dict[str, float]:
        """Each application's mean review total; the call comes from its screening decision."""
        q = (
            sa.select(review_totals.c.application_id, sa.func.avg(review_totals.c.total).label("mean"))
            .join(screening, screening.c.application_id == review_totals.c.application_id)
            .where(screening.c.call_id == call_id)
            .group_by(review_totals.c.application_id)
        )
        return {r.application_id: round(float(r.mean), 2) for r in self.session.execute(q).all()}


class ApplicationRepository:
    """Every application intake told us about: its latest state and its category, province, unit and
    applicant type only (no personal data)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        application_id: str,
        call_id: str,
        state: str,
        sequence: int | None,
        *,
        withdrawn_by: str | None = None,
        as_duplicate: bool = False,
        **fields: str | None,
    ) -> None:
        """Apply one application event. Events come on one queue per type, so they may arrive out
        of order: the state of the highest ``sequence`` wins, and a withdrawal (intake's last move)
        is final. Attributes never blank out what an earlier event gave."""
        row = self.session.execute(
            sa.select(applications).where(applications.c.application_id == application_id)
        ).first()
        newer = row is None or (
            not row.withdrawn and (sequence is None or row.sequence is None or sequence >= row.sequence)
        )
        # a newer event's attributes replace; an older one's only fill in what is still unknown
        values: dict[str, Any] = {"call_id": call_id, **{
            k: v for k, v in fields.items() if v is not None and (newer or getattr(row, k) is None)}}
        if newer:
            values.update(state=state, withdrawn=state == "withdrawn")
            if sequence is not None:
                values["sequence"] = sequence
            if state == "withdrawn":
                values.update(withdrawn_by=withdrawn_by, as_duplicate=as_duplicate)
        if row is None:
            values.setdefault("withdrawn", False)
            self.session.execute(applications.insert().values(application_id=application_id, **values))
        else:
            self.session.execute(
                applications.update().where(applications.c.application_id == application_id).values(**values)
            )

    def applicant_org(self, application_id: str) -> str | None:
        """The credit code of the organisation that applied (from the forwarded form), if known."""
        return self.session.execute(
            sa.select(applications.c.applicant_org).where(applications.c.application_id == application_id)
        ).scalar()

    def for_call(self, call_id: str) -> list[dict[str, Any]]:
        """All of a call's applications, withdrawn ones included; a row from before states were kept
        was forwarded (or withdrawn)."""
        rows = self.session.execute(sa.select(applications).where(applications.c.call_id == call_id)).all()
        out = []
        for r in rows:
            item = dict(r._mapping)
            item["state"] = item["state"] or ("withdrawn" if item["withdrawn"] else "forwarded")
            out.append(item)
        return out
