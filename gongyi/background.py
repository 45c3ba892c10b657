"""The one background loop every service's housekeeping runs in: the outbox relay, review's index
sync and its duplicate checks.

Each is a nameko dependency provider with a managed thread that runs ``step()`` until the
container stops: no waiting while a pass finds a full batch, a wait (cut short by ``kick()``)
after an idle pass, a short linger after a partial one, and a doubling backoff when a pass fails
(the database, broker or engine is down; whatever is pending stays in SQL for the next pass).
"""

from __future__ import annotations

import logging
import threading
import time

from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)


class BackgroundLoop(DependencyProvider):
    """Subclasses give ``loop_name`` and ``step()``; ``on_failure()`` resets what a failed pass leaves."""

    loop_name = "background"
    idle_wait = 0.5  # after an idle pass; kick() ends it early
    linger = 0.0  # after a partial pass, so what arrives meanwhile goes in the next, larger one
    batch = 1  # a pass that did this much found a backlog: run the next one at once
    first_backoff = 0.2
    max_backoff = 5.0

    def setup(self) -> None:
        self._wake = threading.Event()
        self._running = False
        self._thread = None

    def step(self) -> int:
        """One pass; returns how much it did (0: nothing was waiting)."""
        raise NotImplementedError

    def on_failure(self, exc: Exception) -> None:
        """Called after a pass raised, before the backoff."""

    def describe_failure(self, exc: Exception) -> str:
        return f"{self.loop_name} failed ({exc})"

    def start(self) -> None:
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._loop, identifier=self.loop_name)

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.wait()

    def kill(self) -> None:
        self._running = False
        self._wake.set()

    def kick(self) -> None:
        """New work is waiting: end the idle wait now."""
        self._wake.set()

    def wait(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def pause(self, done: int) -> None:
        """Between two passes, by what the last one did."""
        if done >= self.batch:
            return  # a backlog: no waiting
        if done == 0:
            self.wait(self.idle_wait)
        if self.linger:
            time.sleep(self.linger)

    def _loop(self) -> None:
        backoff = self.first_backoff
        while self._running:
            try:
                done = self.step()
                backoff = self.first_backoff
                self.pause(done)
            except Exception as exc:  # noqa: BLE001 - a store is down: retry with backoff, lose nothing
                if self._running:
                    log.warning("%s; retrying in %.1f s", self.describe_failure(exc), backoff)
                self.on_failure(exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff)
