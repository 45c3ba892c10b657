"""Duplicate detection's background loop: the candidate index kept caught up, the checks run."""

from __future__ import annotations

from gongyi.background import BackgroundLoop
from gongyi.dependencies import Database
from gongyi.search import make_search_client
from services.review.handlers import duplicates as dup
from services.review.storage.duplicates.index import DuplicateIndex
from services.review.storage.unit_of_work import ReviewUnitOfWork


class DuplicateChecks(BackgroundLoop):
    """Keeps the candidate index caught up with ``dup_signals`` and runs the checks, one at a time.

    Every replica runs this loop; ``dup_keys`` and the postings are changed only under a
    PostgreSQL advisory lock (storage/duplicates/repository.lock_postings), so replicas cannot interleave
    their posting writes. Stop keys need no separate refresh: each posting carries its count."""

    loop_name = "review.duplicate-checks"
    idle_wait = 0.5
    # as SearchIndex.linger: a pass gathers what arrives meanwhile (fewer, larger posting writes
    # and check transactions)
    linger = 0.2
    batch = 200

    def setup(self) -> None:
        super().setup()
        settings = self.container.config["GONGYI"]
        self.client = make_search_client(settings.search_url)
        self.index = DuplicateIndex(self.client, settings.search_index_prefix)
        self._ensured = False

    def _db(self) -> Database:
        return next(d for d in self.container.dependencies if isinstance(d, Database))

    def make_uow(self) -> ReviewUnitOfWork:
        return self._db().make_uow()

    def get_dependency(self, worker_ctx) -> DuplicateChecks:  # noqa: ANN001
        return self

    def step(self) -> int:
        engine = self._db().engine
        if not self._ensured:
            if self.index.ensure():  # a new, empty index: fill it from SQL first
                dup.rebuild_index(engine, self.index)
            self._ensured = True
        with self.make_uow() as uow:  # signals of an older detector version first, a batch a pass
            refreshed = dup.refresh_stale_signals(uow, self.batch)
        return refreshed + dup.sync_and_check(engine, self.index, self.make_uow, self.batch)

    def describe_failure(self, exc: Exception) -> str:
        return f"duplicate checks failed ({exc})"  # SQL keeps what is pending

    def on_failure(self, exc: Exception) -> None:
        self._ensured = False
