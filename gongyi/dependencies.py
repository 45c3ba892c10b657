"""nameko dependency providers every service uses: its database (with the outbox relay) and settings."""

from __future__ import annotations

import logging
import time
import weakref
from typing import Any

from nameko.extensions import DependencyProvider
from sqlalchemy.orm import sessionmaker

from gongyi import logging as gongyi_logging
from gongyi.background import BackgroundLoop
from gongyi.config import SERVICES, Settings
from gongyi.db import UnitOfWork, make_engine, outbox_backlog
from gongyi.events.relay import OutboxRelay
from gongyi.events.topology import declare_topology
from gongyi.metrics import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE
from gongyi.registry import service_classes

log = logging.getLogger(__name__)


class SettingsProvider(DependencyProvider):
    def get_dependency(self, worker_ctx) -> Settings:  # noqa: ANN001
        return self.container.config["GONGYI"]


class Database(BackgroundLoop):
    """Gives each worker a UnitOfWork on the service's own database and runs its outbox relay."""

    idle_wait = 0.5
    first_backoff = 0.1
    max_backoff = 5.0
    leader_wait = 1.0  # a replica that is not the relay's leader asks again this often

    def __init__(self, unit_of_work: type[UnitOfWork] = UnitOfWork) -> None:
        # a service whose unit of work owns its repositories passes its subclass
        self.unit_of_work = unit_of_work

    def make_uow(self, **context: str | None) -> UnitOfWork:
        """A unit of work outside any worker (background loops); events it commits wake the relay."""
        return self.unit_of_work(self.sessions, self.service, on_commit_with_events=self._wake.set, **context)

    def setup(self) -> None:
        super().setup()
        self.settings: Settings = self.container.config["GONGYI"]
        self.service = self.container.service_name
        self.loop_name = f"{self.service}.relay"
        self.engine = make_engine(self.settings.db_url(self.service))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(self.engine, self.service, self.settings.amqp_uri, self.settings.outbox_batch)
        self.batch = self.relay.batch
        self._leader = False
        self._last_gauge = 0.0
        self._topology_declared = False
        self._open: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # The topology names every service's subscriber queues, so it imports all four services:
        # do that here, before the service reports ready, not in the relay under the first load.
        service_classes()

    def stop(self) -> None:
        super().stop()
        self.relay.close()
        self.engine.dispose()

    def kill(self) -> None:
        super().kill()
        self.relay.close()

    def get_dependency(self, worker_ctx) -> UnitOfWork:  # noqa: ANN001
        data = worker_ctx.data or {}
        uow = self.make_uow(correlation_id=data.get("correlation_id"), causation_id=data.get("causation_id"))
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
        channel = self.relay._ensure_producer().channel
        declare_topology(channel, list(SERVICES), service_classes())
        self._topology_declared = True

    def step(self) -> int:
        if not self._leader:
            self._leader = self.relay.acquire_leadership()
            if not self._leader:
                self.wait(self.leader_wait)
                return self.batch  # waited already: pause() must not wait again
        if not self._topology_declared:
            self._declare_topology()
        sent = self.relay.run_once()
        if time.monotonic() - self._last_gauge > 5:
            self._last_gauge = time.monotonic()
            count, age = outbox_backlog(self.engine)
            OUTBOX_BACKLOG.labels(self.service).set(count)
            OUTBOX_OLDEST_AGE.labels(self.service).set(age)
        return sent

    def pause(self, done: int) -> None:
        # no linger: each event should leave as soon as it is committed
        if done < self.batch:
            self.wait(self.idle_wait)

    def describe_failure(self, exc: Exception) -> str:
        return f"outbox relay for {self.service} failed ({exc})"

    def on_failure(self, exc: Exception) -> None:
        try:
            self.relay.record_failure(exc)
        except Exception:  # noqa: BLE001 - the database itself may be the problem
            pass
        self.relay.reset()
        self._topology_declared = False

    def info(self) -> dict[str, Any]:
        count, age = outbox_backlog(self.engine)
        return {"outbox_backlog": count, "outbox_oldest_age_s": round(age, 3)}
