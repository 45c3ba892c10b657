"""Keeping service containers alive: restart with backoff, report who is down, give up loudly.

`gongyi run` supervises its four containers in one process: a container that dies (an unhandled
error in one of its threads) is started again on the same port after a growing delay, and the
platform's readiness answers 503 for it meanwhile. A service that keeps dying is a fault no
restart will fix, so after ``max_restarts`` deaths within ``window_s`` the process exits non-zero
with the reason. `gongyi serve` runs one container with no restarts: the process exits so that
Kubernetes (or any process manager) restarts it, which is the cluster's own supervision.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import eventlet
from eventlet.event import Event
from nameko.containers import ServiceContainer

log = logging.getLogger("gongyi.supervisor")

RUNNING, RESTARTING, FAILED, STOPPED = "running", "restarting", "failed", "stopped"


@dataclass(frozen=True)
class RestartPolicy:
    max_restarts: int = 5
    window_s: float = 300.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0

    def delay(self, recent_failures: int) -> float:
        """Seconds to wait before the next start: doubling from the first failure, capped."""
        return min(self.backoff_max_s, self.backoff_initial_s * 2 ** max(0, recent_failures - 1))


@dataclass
class ServiceState:
    status: str = RUNNING
    restarts: int = 0
    last_error: str = ""
    failures: list[float] = field(default_factory=list)


class Supervisor:
    """Start containers, watch each, restart the dead ones under a policy.

    ``start(service)`` builds and starts a container (and raises if it cannot start).
    """

    def __init__(
        self,
        start: Callable[[str], ServiceContainer],
        services: Iterable[str],
        policy: RestartPolicy = RestartPolicy(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._start = start
        self.services = tuple(services)
        self.policy = policy
        self._clock = clock
        self.containers: dict[str, ServiceContainer] = {}
        self.states: dict[str, ServiceState] = {}
        self._stopping = False
        self._done: Event = Event()

    # -- lifecycle
    def start_all(self) -> None:
        for service in self.services:
            self.containers[service] = self._start(service)
            self.states[service] = ServiceState()
        for service in self.services:
            eventlet.spawn(self._watch, service)

    def wait(self) -> int:
        """Block until stopped by a signal (0) or a service failed for good (1); return that code."""
        return self._done.wait()

    def request_stop(self) -> None:
        if not self._done.ready():
            self._done.send(0)

    def stop(self, grace_s: float = 8.0) -> None:
        """Stop every container, in parallel, within ``grace_s``; kill what is still running then."""
        self._stopping = True
        pool = eventlet.GreenPool()
        for service, container in self.containers.items():
            pool.spawn(self._stop_one, service, container, grace_s)
        pool.waitall()

    def _stop_one(self, service: str, container: ServiceContainer, grace_s: float) -> None:
        with eventlet.Timeout(grace_s, False):
            container.stop()
        if not container._died.ready():  # noqa: SLF001 - nameko has no public "stopped" flag
            log.warning("%s did not stop within %.0f s: killed", service, grace_s)
            container.kill()
        self.states[service].status = STOPPED

    # -- readiness
    def status(self) -> dict[str, dict]:
        return {
            name: {"status": s.status, "restarts": s.restarts, "last_error": s.last_error}
            for name, s in self.states.items()
        }

    def is_up(self, service: str) -> bool:
        state = self.states.get(service)
        return state is None or state.status == RUNNING

    # -- watching
    def _watch(self, service: str) -> None:
        while True:
            reason = _wait_for_death(self.containers[service])
            if self._stopping:
                return
            state = self.states[service]
            state.last_error = reason
            log.error("service %s died: %s", service, reason)
            container = self._restart(service, state)
            if container is None:
                return
            self.containers[service] = container

    def _restart(self, service: str, state: ServiceState) -> ServiceContainer | None:
        while True:
            now = self._clock()
            state.failures = [t for t in state.failures if now - t < self.policy.window_s] + [now]
            if len(state.failures) > self.policy.max_restarts:
                state.status = FAILED
                log.critical(
                    "service %s died %d times within %.0f s (last: %s); giving up",
                    service, len(state.failures), self.policy.window_s, state.last_error,
                )
                if not self._done.ready():
                    self._done.send(1)
                return None
            state.status = RESTARTING
            delay = self.policy.delay(len(state.failures))
            log.warning("restarting %s in %.1f s (restart %d)", service, delay, state.restarts + 1)
            eventlet.sleep(delay)
            if self._stopping:
                return None
            try:
                container = self._start(service)
            except Exception as exc:  # noqa: BLE001 - a failed start counts as another death
                state.last_error = f"start failed: {type(exc).__name__}: {exc}"
                log.error("service %s could not start: %s", service, state.last_error)
                continue
            state.restarts += 1
            state.status = RUNNING
            log.info("service %s restarted (restart %d)", service, state.restarts)
            return container


def _wait_for_death(container: ServiceContainer) -> str:
    try:
        container.wait()
    except BaseException as exc:  # noqa: BLE001 - whatever killed it is the reason we report
        return f"{type(exc).__name__}: {exc}"
    return "stopped"


def install_signal_handlers(supervisor: Supervisor) -> None:
    """SIGINT/SIGTERM stop gracefully; a second one while stopping exits at once."""

    def handler(signum: int, _frame: object) -> None:
        if supervisor._done.ready():  # noqa: SLF001 - the second signal: the user insists
            log.warning("second signal %d: exiting now", signum)
            raise SystemExit(130 if signum == signal.SIGINT else 143)
        log.info("signal %d: stopping", signum)
        supervisor.request_stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def with_platform_status(app: Callable, supervisor: Supervisor) -> Callable:
    """Wrap the front door: ``/healthz`` and ``/readyz`` for the whole platform, and a clear 503
    for a service's paths while it is being restarted (instead of a hung or refused connection)."""
    import json

    def respond(start_response: Callable, status: str, payload: dict, extra: list | None = None) -> list[bytes]:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
        start_response(status, headers + (extra or []))
        return [body]

    def wrapped(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return respond(start_response, "200 OK", {"status": "ok", "service": "platform"})
        if path == "/readyz":
            services = supervisor.status()
            ready = all(s["status"] == RUNNING for s in services.values())
            return respond(
                start_response, "200 OK" if ready else "503 Service Unavailable",
                {"status": "ok" if ready else "unavailable", "services": services},
            )
        parts = path.split("/", 3)
        if len(parts) > 2 and parts[1] == "api" and not supervisor.is_up(parts[2]):
            state = supervisor.states[parts[2]]
            return respond(
                start_response, "503 Service Unavailable",
                {
                    "code": "service_restarting",
                    "message_zh": "该服务正在重启，请稍后重试",
                    "message_en": f"The {parts[2]} service is restarting; retry shortly",
                    "details": {"service": parts[2], "status": state.status, "restarts": state.restarts},
                },
                [("Retry-After", "2")],
            )
        return app(environ, start_response)

    return wrapped
