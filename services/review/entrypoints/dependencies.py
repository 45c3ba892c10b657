"""Review's search index as a nameko dependency: it keeps the index caught up with the database."""

from __future__ import annotations

import logging

from gongyi.background import BackgroundLoop
from gongyi.db import make_engine
from gongyi.search import make_search_client
from services.review import handlers
from services.review.storage.search_index import ProjectIndex

log = logging.getLogger(__name__)


class SearchIndex(BackgroundLoop):
    loop_name = "review.index-sync"
    idle_wait = 0.5
    # After a short pass, wait this long so that what arrives meanwhile goes in one bulk request:
    # written one or two at a time as events arrive, a project cost osmem-server 4-7 ms of CPU;
    # twenty at a time, 1.7 ms (docs/performance.md). Adds at most this much to index latency.
    linger = 0.2
    batch = 500

    def setup(self) -> None:
        super().setup()
        settings = self.container.config["GONGYI"]
        self.client = make_search_client(settings.search_url)
        self.index = ProjectIndex(self.client, settings.search_index_prefix)
        self.engine = make_engine(settings.db_url(self.container.service_name))
        self._ensured = False

    def stop(self) -> None:
        super().stop()
        self.engine.dispose()

    def get_dependency(self, worker_ctx) -> SearchIndex:  # noqa: ANN001
        return self

    def step(self) -> int:
        if not self._ensured:
            if not self.index.current_indices():
                # no index: a first start, or an engine that came back empty (in-memory,
                # lost volume); every project must be written again, not only the lagging ones
                handlers.reset_index_marks(self.engine)
            self.index.ensure()
            self._ensured = True
        return handlers.sync_index(self.engine, self.index, self.batch)

    def describe_failure(self, exc: Exception) -> str:
        return f"search index sync failed ({exc})"  # the database keeps everything

    def on_failure(self, exc: Exception) -> None:
        self._ensured = False
