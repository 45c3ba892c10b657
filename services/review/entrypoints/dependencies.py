"""Review's search index as a nameko dependency: it keeps the index caught up with the database."""

from __future__ import annotations

import logging
import threading
import time

from nameko.extensions import DependencyProvider

from gongyi.db import make_engine
from gongyi.search import make_search_client
from services.review import handlers
from services.review.storage.search_index import ProjectIndex

log = logging.getLogger(__name__)


class SearchIndex(DependencyProvider):
    idle_wait = 0.5
    # After a short pass, wait this long so that what arrives meanwhile goes in one bulk request:
    # written one or two at a time as events arrive, a project cost osmem-server 4-7 ms of CPU;
    # twenty at a time, 1.7 ms (docs/performance.md). Adds at most this much to index latency.
    linger = 0.2
    batch = 500

    def setup(self) -> None:
        settings = self.container.config["GONGYI"]
        self.client = make_search_client(settings.search_url)
        self.index = ProjectIndex(self.client, settings.search_index_prefix)
        self.engine = make_engine(settings.db_url(self.container.service_name))
        self._wake = threading.Event()
        self._running = False
        self._thread = None

    def start(self) -> None:
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._sync_loop, identifier="review.index-sync")

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.wait()
        self.engine.dispose()

    def kill(self) -> None:
        self._running = False
        self._wake.set()

    def get_dependency(self, worker_ctx) -> SearchIndex:  # noqa: ANN001
        return self

    def kick(self) -> None:
        self._wake.set()

    def _sync_loop(self) -> None:
        backoff, ensured = 0.2, False
        while self._running:
            try:
                if not ensured:
                    if not self.index.current_indices():
                        # no index: a first start, or an engine that came back empty (in-memory,
                        # lost volume); every project must be written again, not only the lagging ones
                        handlers.reset_index_marks(self.engine)
                    self.index.ensure()
                    ensured = True
                written = handlers.sync_index(self.engine, self.index, self.batch)
                backoff = 0.2
                if written >= self.batch:
                    continue  # a backlog: no waiting
                if written == 0:
                    self._wake.wait(self.idle_wait)
                    self._wake.clear()
                time.sleep(self.linger)
            except Exception as exc:  # noqa: BLE001 - engine down: the database keeps everything
                if self._running:
                    log.warning("search index sync failed (%s); retrying in %.1f s", exc, backoff)
                ensured = False
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
