"""nameko dependency providers every service uses: its database (with the outbox relay) and settings."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from gongyi import logging as gongyi_logging
from gongyi.config import SERVICES, Settings
from gongyi.db import UnitOfWork, make_engine, outbox_backlog
from gongyi.events.relay import OutboxRelay
from gongyi.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE

log = logging.getLogger(__name__)


class SettingsProvider(DependencyProvider):
    def get_dependency(self, worker_ctx) -> Settings:  # noqa: ANN001
        return self.container.config["GONGYI"]


class Database(DependencyProvider):
    """Gives each worker a UnitOfWork on the service's own database and runs its outbox relay."""

    idle_wait = 0.5
    max_backoff = 5.0

    def setup(self) -> None:
        self.settings: Settings = self.container.config["GONGYI"]
        self.service = self.container.service_name
        self.engine = make_engine(self.settings.db_url(self.service))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(self.engine, self.service, self.settings.amqp_uri, self.settings.outbox_batch)
        self._wake = threading.Event()
        self._running = False
        self._thread = None
        self._topology_declared = False
        self._open: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # The topology names every service's subscriber queues, so it imports all four services:
        # do that here, before the service reports ready, not in the relay under the first load.
        from gongyi.registry import service_classes

        service_classes()

    def start(self) -> None:
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._relay_loop, identifier=f"{self.service}.relay")

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.wait()
        self.relay.close()
        self.engine.dispose()

    def kill(self) -> None:
        self._running = False
        self._wake.set()
        self.relay.close()

    def get_dependency(self, worker_ctx) -> UnitOfWork:  # noqa: ANN001
        data = worker_ctx.data or {}
        uow = UnitOfWork(
            self.sessions,
            self.service,
            correlation_id=data.get("correlation_id"),
            causation_id=data.get("causation_id"),
            on_commit_with_events=self._wake.set,
        )
        self._open[worker_ctx] = uow
        return uow

    def worker_setup(self, worker_ctx) -> None:  # noqa: ANN001
        # every log line a worker writes carries the correlation id of its request or event
        gongyi_logging.bind(self.service, (worker_ctx.data or {}).get("correlation_id"))

    def worker_teardown(self, worker_ctx) -> None:  # noqa: ANN001
        gongyi_logging.unbind()
        uow = self._open.pop(worker_ctx, None)
        if uow is not None:
            uow.rollback()  # nothing uncommitted survives a worker
            uow.close()

    def _declare_topology(self) -> None:
        from gongyi.events.topology import declare_topology
        from gongyi.registry import service_classes

        channel = self.relay._ensure_producer().channel
        declare_topology(channel, list(SERVICES), service_classes())
        self._topology_declared = True

    def _relay_loop(self) -> None:
        backoff = 0.1
        last_gauge = 0.0
        leader = False
        while self._running:
            try:
                if not leader:
                    leader = self.relay.acquire_leadership()
                    if not leader:
                        self._wake.wait(1.0)
                        self._wake.clear()
                        continue
                if not self._topology_declared:
                    self._declare_topology()
                sent = self.relay.run_once()
                backoff = 0.1
                if time.monotonic() - last_gauge > 5:
                    last_gauge = time.monotonic()
                    count, age = outbox_backlog(self.engine)
                    OUTBOX_BACKLOG.labels(self.service).set(count)
                    OUTBOX_OLDEST_AGE.labels(self.service).set(age)
                if sent < self.relay.batch:
                    self._wake.wait(self.idle_wait)
                    self._wake.clear()
            except Exception as exc:  # noqa: BLE001 - broker or database down: retry with backoff
                if self._running:
                    log.warning("outbox relay for %s failed (%s); retrying in %.1f s", self.service, exc, backoff)
                try:
                    self.relay.record_failure(exc)
                except Exception:  # noqa: BLE001 - the database itself may be the problem
                    pass
                self.relay.reset()
                self._topology_declared = False
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)

    def kick(self) -> None:
        self._wake.set()

    def info(self) -> dict[str, Any]:
        count, age = outbox_backlog(self.engine)
        return {"outbox_backlog": count, "outbox_oldest_age_s": round(age, 3)}
