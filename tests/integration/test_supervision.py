"""Supervision of service containers: a dead container is restarted on its port with backoff, the
platform's readiness says so meanwhile, and repeated deaths end the process with a clear code.

The fault is real: an exception in one of a container's managed threads, which is how nameko kills a
container (the embedded broker's RPC reply bug died this way)."""

from __future__ import annotations

import eventlet
import pytest
import requests
from nameko.containers import ServiceContainer
from nameko.extensions import DependencyProvider
from platform_support import free_port, wait_until

from gongyi.http.api import JsonHttpEntrypoint
from gongyi.supervisor import FAILED, RUNNING, RestartPolicy, Supervisor, with_platform_status


class Fuse(DependencyProvider):
    """Hands workers a way to kill their own container, the way a failing managed thread does."""

    def get_dependency(self, worker_ctx):  # noqa: ANN001, ANN201
        def blow() -> None:
            def fail() -> None:
                raise RuntimeError("fuse blown")

            self.container.spawn_managed_thread(fail)

        return blow


class Fragile:
    name = "fragile"
    fuse = Fuse()

    @JsonHttpEntrypoint.decorator("GET", "/ping")
    def ping(self, request):  # noqa: ANN001, ANN201
        return {"pong": True}

    @JsonHttpEntrypoint.decorator("POST", "/blow")
    def blow(self, request):  # noqa: ANN001, ANN201
        self.fuse()
        return {"blown": True}


def _start(port: int):
    def start(_service: str) -> ServiceContainer:
        config = {"AMQP_URI": "memory://localhost/", "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
        container = ServiceContainer(Fragile, config)
        container.start()
        return container

    return start


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=1)
    except requests.RequestException:
        return None


@pytest.fixture
def fragile():
    port = free_port()
    policy = RestartPolicy(max_restarts=2, window_s=60, backoff_initial_s=0.5, backoff_max_s=2)
    supervisor = Supervisor(_start(port), ["fragile"], policy)
    supervisor.start_all()
    yield supervisor, f"http://127.0.0.1:{port}"
    supervisor.stop(grace_s=2)


def test_a_dead_container_is_restarted_on_its_port(fragile):
    supervisor, base = fragile
    assert requests.get(f"{base}/ping", timeout=2).json() == {"pong": True}
    first = supervisor.containers["fragile"]
    requests.post(f"{base}/blow", timeout=5)
    wait_until(lambda: supervisor.states["fragile"].status != RUNNING or supervisor.containers["fragile"] is not first,
               timeout=5, message="the death to be noticed")
    wait_until(lambda: supervisor.states["fragile"].status == RUNNING and supervisor.containers["fragile"] is not first,
               timeout=10, message="a restart")
    answer = wait_until(lambda: _get(f"{base}/ping"), timeout=5, message="the restarted service to answer")
    assert answer.json() == {"pong": True}
    state = supervisor.states["fragile"]
    assert state.restarts == 1
    assert "fuse blown" in state.last_error


def test_repeated_deaths_give_up_with_exit_code_1(fragile):
    supervisor, base = fragile
    for _ in range(3):  # policy allows 2 restarts in the window; the third death is final
        wait_until(lambda: supervisor.states["fragile"].status == RUNNING and _get(f"{base}/ping") is not None,
                   timeout=10, message="the service up before the next death")
        requests.post(f"{base}/blow", timeout=5)
        wait_until(lambda: supervisor.states["fragile"].status != RUNNING, timeout=5, message="the death")
    with eventlet.Timeout(15):
        assert supervisor.wait() == 1
    assert supervisor.states["fragile"].status == FAILED
    assert supervisor.states["fragile"].restarts == 2


def test_a_single_service_process_exits_on_the_first_death():
    """`gongyi serve`'s policy: no restarts in process, so Kubernetes restarts the pod."""
    port = free_port()
    supervisor = Supervisor(_start(port), ["fragile"], RestartPolicy(max_restarts=0))
    supervisor.start_all()
    try:
        requests.post(f"http://127.0.0.1:{port}/blow", timeout=5)
        with eventlet.Timeout(10):
            assert supervisor.wait() == 1
    finally:
        supervisor.stop(grace_s=2)


def test_platform_readiness_reports_a_restarting_service():
    """The front door answers 503 service_restarting for a service being restarted, and /readyz says who."""
    port = free_port()
    policy = RestartPolicy(max_restarts=3, window_s=60, backoff_initial_s=3, backoff_max_s=3)
    supervisor = Supervisor(_start(port), ["fragile"], policy)
    supervisor.start_all()
    front_port = free_port()

    def backend(environ, start_response):  # noqa: ANN001, ANN202
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"passed through"]

    listener = eventlet.listen(("127.0.0.1", front_port))
    server = eventlet.spawn(eventlet.wsgi.server, listener, with_platform_status(backend, supervisor), log_output=False)
    front = f"http://127.0.0.1:{front_port}"
    try:
        assert requests.get(f"{front}/readyz", timeout=2).status_code == 200
        assert requests.get(f"{front}/api/fragile/x", timeout=2).text == "passed through"
        requests.post(f"http://127.0.0.1:{port}/blow", timeout=5)
        wait_until(lambda: supervisor.states["fragile"].status != RUNNING, timeout=5, message="the death")
        ready = requests.get(f"{front}/readyz", timeout=2)
        assert ready.status_code == 503
        assert ready.json()["services"]["fragile"]["status"] == "restarting"
        down = requests.get(f"{front}/api/fragile/x", timeout=2)
        assert down.status_code == 503 and down.json()["code"] == "service_restarting"
        assert down.headers["Retry-After"]
        wait_until(lambda: supervisor.states["fragile"].status == RUNNING, timeout=10, message="the restart")
        assert requests.get(f"{front}/readyz", timeout=2).status_code == 200
    finally:
        server.kill()
        listener.close()
        supervisor.stop(grace_s=2)
