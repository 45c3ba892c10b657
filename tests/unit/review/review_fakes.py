"""An in-memory twin of ``ReviewUnitOfWork`` and its repositories (cosmicpython's FakeUnitOfWork),
so review's use cases run in unit tests without a database. Imported, not collected.

Each fake repository has the methods of its real one in services/review/storage/repository.py
that the tested use cases call, with the same results (rows with attribute access, dicts where
the real one returns dicts). ``rollback()`` restores what the last ``commit()`` left, as a
transaction would; events are checked against their contracts as ``UnitOfWork.emit`` does.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from gongyi.events.envelope import make_event, validate_event


def _row(values: dict[str, Any]) -> SimpleNamespace:
    return SimpleNamespace(**copy.deepcopy(values))


class FakeProjects:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def upsert_forwarded(self, data: dict[str, Any]) -> None:
        old = self.rows.get(data["application_id"])
        forwarded_at = datetime.fromisoformat(data["forwarded_at"]) if data.get("forwarded_at") else None
        self.rows[data["application_id"]] = {
            "application_id": data["application_id"], "call_id": data["call_id"],
            "call_version": data["call_version"], "unit_code": data.get("unit_code"), "status": "forwarded",
            "project_name": data.get("project_name"), "category": data.get("category"), "form": data["form"],
            "unit_opinion": data.get("unit_opinion"), "forwarded_at": forwarded_at, "updated_at": datetime.now(UTC),
            "version": old["version"] + 1 if old else 1, "indexed_version": old["indexed_version"] if old else 0,
        }

    def set_status(self, application_id: str, status: str) -> bool:
        row = self.rows.get(application_id)
        if row is None:
            return False
        row.update(status=status, version=row["version"] + 1, updated_at=datetime.now(UTC))
        return True

    def get(self, application_id: str) -> dict[str, Any] | None:
        row = self.rows.get(application_id)
        return copy.deepcopy(row) if row else None

    def in_call_with_status(self, call_id: str, status: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(r) for _, r in sorted(self.rows.items())
                if r["call_id"] == call_id and r["status"] == status]

    def many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: copy.deepcopy(self.rows[i]) for i in ids if i in self.rows}


class FakeCalls:
    def __init__(self) -> None:
        self.documents: dict[tuple[str, int], dict[str, Any]] = {}

    def latest(self, call_id: str) -> SimpleNamespace | None:
        versions = [v for c, v in self.documents if c == call_id]
        if not versions:
            return None
        return _row({"version": max(versions), "document": self.documents[(call_id, max(versions))]})

    def has_version(self, call_id: str, version: int) -> bool:
        return (call_id, version) in self.documents

    def add(self, call_id: str, version: int, fingerprint: str, document: dict[str, Any], loaded_at: datetime) -> None:
        self.documents[(call_id, version)] = copy.deepcopy(document)


class FakeAuditLog:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, **values: Any) -> None:
        self.rows.append({"id": len(self.rows) + 1, **copy.deepcopy(values)})

    def entries(self, entity_id: str | None, actor: str | None, action: str | None, limit: int,
                offset: int) -> list[SimpleNamespace]:
        rows = [r for r in reversed(self.rows)
                if (not entity_id or r["entity_id"].startswith(entity_id))
                and (not actor or r["actor"] == actor) and (not action or r["action"] == action)]
        return [_row(r) for r in rows[offset: offset + limit]]


class FakeScreening:
    def __init__(self) -> None:
        self.notes: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.decision_rows: list[dict[str, Any]] = []

    def evidence_notes(self, ids: list[str]) -> list[SimpleNamespace]:
        return [_row({"evidence_id": i, **self.notes[i]}) for i in ids if i in self.notes]

    def put_evidence_note(self, evidence_id: str, **values: Any) -> None:
        self.notes[evidence_id] = copy.deepcopy(values)

    def report(self, application_id: str) -> SimpleNamespace | None:
        row = self.reports.get(application_id)
        return _row({"application_id": application_id, **row}) if row else None

    def put_report(self, application_id: str, exists: bool, **values: Any) -> None:
        assert exists == (application_id in self.reports)
        self.reports[application_id] = copy.deepcopy(values)

    def decisions(self, application_id: str) -> list[SimpleNamespace]:
        return [_row(d) for d in self.decision_rows if d["application_id"] == application_id]

    def add_decision(self, **values: Any) -> None:
        self.decision_rows.append({"id": len(self.decision_rows) + 1, **copy.deepcopy(values)})


class FakeExperts:
    def __init__(self) -> None:
        self.profiles: dict[str, dict[str, Any]] = {}
        self.active: dict[str, bool] = {}
        self.declared: dict[tuple[str, str], dict[str, Any]] = {}

    def active_profiles(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(p) for e, p in self.profiles.items() if self.active[e]]

    def profile(self, expert_id: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.profiles.get(expert_id))

    def exists(self, expert_id: str) -> bool:
        return expert_id in self.profiles

    def add(self, expert_id: str, profile: dict[str, Any], at: datetime) -> None:
        self.profiles[expert_id], self.active[expert_id] = copy.deepcopy(profile), True

    def replace_profile(self, expert_id: str, profile: dict[str, Any], at: datetime) -> None:
        if expert_id in self.profiles:
            self.profiles[expert_id] = copy.deepcopy(profile)

    def all_profiles(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(p) for _, p in sorted(self.profiles.items())]

    def declarations(self) -> list[SimpleNamespace]:
        return [_row({"expert_id": e, "application_id": a, **d}) for (e, a), d in self.declared.items()]

    def has_declared(self, expert_id: str, application_id: str) -> bool:
        return (expert_id, application_id) in self.declared

    def add_declaration(self, expert_id: str, application_id: str, reason: str, declared_at: datetime) -> None:
        self.declared[(expert_id, application_id)] = {"reason": reason, "declared_at": declared_at}


class FakeAssignments:
    def __init__(self) -> None:
        self.seats: dict[tuple[str, str], dict[str, Any]] = {}

    def _rows(self, keep: Any) -> list[SimpleNamespace]:
        return [_row({"application_id": a, "expert_id": e, **v}) for (a, e), v in self.seats.items() if keep(a, e, v)]

    def of_call(self, call_id: str) -> list[SimpleNamespace]:
        rows = self._rows(lambda a, e, v: v["call_id"] == call_id)
        return sorted(rows, key=lambda r: (r.updated_at, r.expert_id))

    def of_application(self, application_id: str) -> list[SimpleNamespace]:
        return sorted(self._rows(lambda a, e, v: a == application_id), key=lambda r: r.expert_id)

    def status(self, application_id: str, expert_id: str) -> str | None:
        seat = self.seats.get((application_id, expert_id))
        return None if seat is None else seat["status"]

    def put(self, application_id: str, expert_id: str, exists: bool, **values: Any) -> None:
        assert exists == ((application_id, expert_id) in self.seats)
        self.seats[(application_id, expert_id)] = copy.deepcopy(values)

    def active_loads(self) -> dict[str, int]:
        loads: dict[str, int] = {}
        for (_, e), v in self.seats.items():
            if v["status"] == "active":
                loads[e] = loads.get(e, 0) + 1
        return loads

    def active_projects_of(self, expert_id: str) -> list[str]:
        return sorted(a for (a, e), v in self.seats.items() if e == expert_id and v["status"] == "active")


class FakeReviews:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def get(self, application_id: str, expert_id: str) -> SimpleNamespace | None:
        for r in self.rows.values():
            if r["application_id"] == application_id and r["expert_id"] == expert_id:
                return _row(r)
        return None

    def add(self, **values: Any) -> None:
        self.rows[values["review_id"]] = copy.deepcopy(values)

    def change(self, review_id: str, **values: Any) -> None:
        self.rows[review_id].update(copy.deepcopy(values))

    def of_application(self, application_id: str) -> list[SimpleNamespace]:
        return sorted((_row(r) for r in self.rows.values() if r["application_id"] == application_id),
                      key=lambda r: r.expert_id)


class FakeDuplicates:
    """Duplicate detection found nothing (its own tests run against PostgreSQL)."""

    def suspicions_involving(self, application_id: str, statuses: list[str]) -> list[dict[str, Any]]:
        return []


class FakeUnitOfWork:
    service = "review"
    _REPOS = ("projects", "calls", "audit_log", "screening", "experts", "assignments", "reviews", "duplicates")

    def __init__(self) -> None:
        self.projects = FakeProjects()
        self.calls = FakeCalls()
        self.audit_log = FakeAuditLog()
        self.screening = FakeScreening()
        self.experts = FakeExperts()
        self.assignments = FakeAssignments()
        self.reviews = FakeReviews()
        self.duplicates = FakeDuplicates()
        self.claimed: set[tuple[str, str]] = set()
        self.events: list[dict[str, Any]] = []  # committed, in order
        self.commits = 0
        self._pending: list[dict[str, Any]] = []
        self._saved = self._state()

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy({"claimed": self.claimed, **{r: vars(getattr(self, r)) for r in self._REPOS}})

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if exc_type is not None:
            self.rollback()

    def claim(self, event: dict[str, Any], handler: str) -> bool:
        key = (handler, event["id"])
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True

    def emit(self, type: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
        event = make_event(source_service=self.service, type=type, subject=subject, data=data)
        validate_event(event)
        self._pending.append(event)
        return event

    def commit(self) -> None:
        self.commits += 1
        self.events += self._pending
        self._pending = []
        self._saved = self._state()

    def rollback(self) -> None:
        saved = copy.deepcopy(self._saved)
        self.claimed = saved.pop("claimed")
        for name, state in saved.items():
            vars(getattr(self, name)).clear()
            vars(getattr(self, name)).update(state)
        self._pending = []

    def close(self) -> None:
        pass

    def event_types(self) -> list[str]:
        return [e["type"] for e in self.events]
