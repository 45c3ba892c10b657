"""Running services: one per process (`gongyi serve`) or all in one process (`gongyi run`)."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import eventlet
from nameko.containers import ServiceContainer

from gongyi.config import CONSOLE, DATABASES, SERVICES, Settings, load_settings, nameko_config
from gongyi.db import migrate
from gongyi.registry import service_class
from gongyi.supervisor import RestartPolicy, Supervisor, install_signal_handlers, with_platform_status

log = logging.getLogger("gongyi")
REPO = Path(__file__).resolve().parents[1]


def start_container(settings: Settings, service: str, host: str, port: int) -> ServiceContainer:
    container = ServiceContainer(service_class(service), nameko_config(settings, service, f"{host}:{port}"))
    container.start()
    return container


def serve(service: str) -> None:
    """One service in this process, as a cluster runs it. If its container dies the process exits
    non-zero, so that Kubernetes restarts the pod (a half-dead process would keep its readiness)."""
    settings = load_settings()
    settings.check()
    supervisor = Supervisor(
        lambda name: start_container(settings, name, settings.http_host, settings.http_port),
        [service],
        RestartPolicy(max_restarts=0),
    )
    supervisor.start_all()
    install_signal_handlers(supervisor)
    log.info("%s listening on %s:%d", service, settings.http_host, settings.http_port)
    code = supervisor.wait()
    supervisor.stop()
    if code:
        state = supervisor.states[service]
        print(f"gongyi serve {service}: the service died ({state.last_error}); exiting", file=sys.stderr, flush=True)
        sys.exit(code)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def resolve_port(port: int, host: str = "127.0.0.1") -> int:
    """0 means any free port (so two copies of the platform never collide)."""
    return port or free_port(host)


class LocalServers:
    """osmem-server (search) and moto (S3) as child processes for the embedded mode and tests."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start_search(self, port: int) -> str:
        from osmem_server import resolve_binary

        proc = subprocess.Popen(
            [resolve_binary(), "--addr", f"127.0.0.1:{port}", "--parent-pid", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/", proc)
        return url

    def start_s3(self, port: int) -> str:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/", proc)
        return url

    def start_smtp_sink(self, port: int, maildir: str) -> str:
        """aiosmtpd accepting every message into a Maildir: the console's e-mail in embedded mode."""
        proc = subprocess.Popen(
            [sys.executable, "-m", "gongyi.mailsink", "--port", str(port), "--maildir", maildir,
             "--parent-pid", str(os.getpid())],
            stdout=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        _wait_tcp(port, proc)
        return f"smtp://127.0.0.1:{port}"

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _wait_tcp(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"port {port}: the server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


def prepare(settings: Settings) -> None:
    """Migrate every database and create the buckets: what a one-shot job does in a cluster."""
    for service in DATABASES:
        migrate(service, settings.db_url(service))
    if settings.s3_endpoint:
        from gongyi.objectstore import ensure_buckets, make_object_client

        ensure_buckets(make_object_client(settings), settings.s3_quarantine_bucket, settings.s3_evidence_bucket)


def load_call_files(settings: Settings, paths: list[str]) -> list[dict]:
    """Load call documents through intake's use case (versioned, evented)."""
    from sqlalchemy.orm import sessionmaker

    from gongyi.db import UnitOfWork, make_engine
    from services.intake import handlers
    from services.intake.domain.calls import load_call_file

    engine = make_engine(settings.db_url("intake"))
    results = []
    try:
        for path in paths:
            call = load_call_file(path)
            with UnitOfWork(sessionmaker(engine, expire_on_commit=False), "intake") as uow:
                results.append(
                    handlers.load_call(
                        uow, call.model_dump(mode="json"), "gongyi-cli", f"loaded from {Path(path).name}"
                    )
                )
    finally:
        engine.dispose()
    return results


def run_embedded(port: int | None = None, search_port: int | None = None, s3_port: int | None = None) -> None:
    """The whole platform in one process: in-memory broker, SQLite, local search and S3 servers.

    Ports come from the settings (GONGYI_HTTP_PORT, GONGYI_SEARCH_PORT, GONGYI_S3_PORT) unless
    given; 0 picks a free one. The services themselves listen on free ports behind the router."""
    base = load_settings()
    host = base.http_host
    port = base.http_port if port is None else port
    listener = _listen(host, port)
    servers = LocalServers()
    supervisor: Supervisor | None = None
    try:
        search_url = base.search_url or servers.start_search(
            resolve_port(base.search_port if search_port is None else search_port)
        )
        s3_url = base.s3_endpoint or servers.start_s3(resolve_port(base.s3_port if s3_port is None else s3_port))
        smtp_url = base.smtp_url or servers.start_smtp_sink(free_port(), str(Path(base.data_dir) / "mail"))
        # the console calls the APIs through this very router, on the port it really got (0 = free)
        api_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        api_base_url = base.api_base_url or f"http://{api_host}:{listener.getsockname()[1]}"
        settings = base.with_overrides(search_url=search_url, s3_endpoint=s3_url, smtp_url=smtp_url,
                                       api_base_url=api_base_url)
        settings.check()
        prepare(settings)
        calls = list(settings.calls) or [
            str(REPO / "calls" / "2024-national.yaml"),
            str(REPO / "calls" / "2018-henan.yaml"),
        ]
        for result in load_call_files(settings, calls):
            log.info("call %s at version %s", result["call_id"], result["version"])
        components = (*SERVICES, CONSOLE)
        backends = {service: ("127.0.0.1", free_port()) for service in components}
        supervisor = Supervisor(
            lambda service: start_container(settings, service, *backends[service]), components, RestartPolicy()
        )
        supervisor.start_all()
        install_signal_handlers(supervisor)
        from gongyi.router import JsonErrorProtocol, make_router

        app = with_platform_status(make_router(backends, trusted_proxies=settings.trusted_proxies), supervisor)
        # eventlet's defaults would put a traceback in a 500's body and answer bad syntax in HTML
        front = eventlet.spawn(eventlet.wsgi.server, listener, app, log_output=False, debug=False,
                               protocol=JsonErrorProtocol)
        _print_banner(f"http://{host}:{listener.getsockname()[1]}", search_url, s3_url, settings.data_dir)
        code = supervisor.wait()
        front.kill()
        listener.close()
        supervisor.stop()
        if code:
            failed = {name: s for name, s in supervisor.status().items() if s["status"] == "failed"}
            for name, state in failed.items():
                print(f"gongyi run: service {name} kept dying ({state['last_error']}); stopping the platform",
                      file=sys.stderr, flush=True)
            sys.exit(code)
    finally:
        if supervisor is not None and not supervisor._stopping:  # noqa: SLF001 - an error before wait()
            supervisor.stop()
        servers.stop()


def _listen(host: str, port: int) -> socket.socket:
    try:
        return eventlet.listen((host, port))
    except OSError as exc:
        raise SystemExit(
            f"gongyi run: cannot listen on {host}:{port} ({exc.strerror}). Another copy may be running: "
            "set GONGYI_HTTP_PORT to another port (0 picks a free one)."
        ) from exc


def _print_banner(base_url: str, search_url: str, s3_url: str, data_dir: str) -> None:
    print(f"\ngongyi is running (embedded mode) at {base_url}", flush=True)
    print(f"  platform readiness: {base_url}/readyz")
    for service in SERVICES:
        print(f"  {base_url}/api/{service}/healthz   {base_url}/api/{service}/openapi.json")
    print(f"  console (browser): {base_url}/console/")
    print(f"  search (osmem-server): {search_url}    S3 (moto): {s3_url}    data: {data_dir}")
    print("\nA token:  .venv/bin/gongyi token --role staff   (roles: applicant, unit, expert, staff)")
    print("The README's 'Try it' section has the whole flow as curl commands. Ctrl-C stops.\n", flush=True)
