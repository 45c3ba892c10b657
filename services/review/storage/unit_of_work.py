"""Review's unit of work: one transaction and the repositories that work in it.

Use cases reach storage only through these attributes (cosmicpython's shape), so a test can hand
them tests/unit/review/fakes.FakeUnitOfWork instead and run without a database.
"""

from __future__ import annotations

from gongyi.db import UnitOfWork
from services.review.storage.duplicates.repository import DuplicateRepository
from services.review.storage.repository import (
    AssignmentRepository,
    AuditLog,
    CallRepository,
    ExpertRepository,
    ProjectRepository,
    RankingRepository,
    ReminderRepository,
    ReviewRepository,
    ScreeningRepository,
)


class ReviewUnitOfWork(UnitOfWork):
    # Built on each access: cheap, and always on the current session (a closed unit of work
    # opens a new session when used again).
    @property
    def projects(self) -> ProjectRepository:
        return ProjectRepository(self.session)

    @property
    def calls(self) -> CallRepository:
        return CallRepository(self.session)

    @property
    def audit_log(self) -> AuditLog:
        return AuditLog(self.session)

    @property
    def screening(self) -> ScreeningRepository:
        return ScreeningRepository(self.session)

    @property
    def experts(self) -> ExpertRepository:
        return ExpertRepository(self.session)

    @property
    def assignments(self) -> AssignmentRepository:
        return AssignmentRepository(self.session)

    @property
    def reviews(self) -> ReviewRepository:
        return ReviewRepository(self.session)

    @property
    def reminders(self) -> ReminderRepository:
        return ReminderRepository(self.session)

    @property
    def rankings(self) -> RankingRepository:
        return RankingRepository(self.session)

    @property
    def duplicates(self) -> DuplicateRepository:
        return DuplicateRepository(self.session)
