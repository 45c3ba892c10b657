"""Running services: one per process (`gongyi serve`) or all in one process (`gongyi run`)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import eventlet
from nameko.containers import ServiceContainer

from gongyi.config import SERVICES, Settings, load_settings, nameko_config
from gongyi.db import migrate
from gongyi.registry import service_class

log = logging.getLogger("gongyi")
REPO = Path(__file__).resolve().parents[1]


def start_container(settings: Settings, service: str, host: str, port: int) -> ServiceContainer:
    container = ServiceContainer(service_class(service), nameko_config(settings, service, f"{host}:{port}"))
    container.start()
    return container


def wait_for_signal(containers: list[ServiceContainer], grace: float = 30.0) -> None:
    """Block until SIGTERM/SIGINT, then stop containers (in-flight workers finish)."""
    stop = eventlet.event.Event()

    def _handler(signum, _frame) -> None:  # noqa: ANN001
        if not stop.ready():
            stop.send(signum)

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    stop.wait()
    log.info("stopping %d service(s)", len(containers))
    for container in containers:
        with eventlet.Timeout(grace, False):
            container.stop()
        if not container._died.ready():  # noqa: SLF001 - nameko has no public "stopped" flag
            container.kill()


def serve(service: str) -> None:
    settings = load_settings()
    settings.check()
    container = start_container(settings, service, settings.http_host, settings.http_port)
    log.info("%s listening on %s:%d", service, settings.http_host, settings.http_port)
    wait_for_signal([container])


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

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
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


def prepare(settings: Settings) -> None:
    """Migrate every database and create the buckets: what a one-shot job does in a cluster."""
    for service in SERVICES:
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


def run_embedded(port: int, search_port: int, s3_port: int) -> None:
    """The whole platform in one process: in-memory broker, SQLite, local search and S3 servers."""
    base = load_settings()
    servers = LocalServers()
    try:
        search_url = base.search_url or servers.start_search(search_port)
        s3_url = base.s3_endpoint or servers.start_s3(s3_port)
        settings = base.with_overrides(search_url=search_url, s3_endpoint=s3_url)
        settings.check()
        prepare(settings)
        calls = list(settings.calls) or [
            str(REPO / "calls" / "2024-national.yaml"),
            str(REPO / "calls" / "2018-henan.yaml"),
        ]
        for result in load_call_files(settings, calls):
            log.info("call %s at version %s", result["call_id"], result["version"])
        backends = {}
        containers = []
        for offset, service in enumerate(SERVICES, start=1):
            containers.append(start_container(settings, service, "127.0.0.1", port + offset))
            backends[service] = ("127.0.0.1", port + offset)
        from gongyi.router import make_router

        listener = eventlet.listen((settings.http_host, port))
        eventlet.spawn(eventlet.wsgi.server, listener, make_router(backends), log_output=False)
        base_url = f"http://{settings.http_host}:{port}"
        print(f"\ngongyi is running (embedded mode) at {base_url}", flush=True)
        for service in SERVICES:
            print(f"  {base_url}/api/{service}/healthz   {base_url}/api/{service}/openapi.json")
        print(f"  search (osmem-server): {search_url}    S3 (moto): {s3_url}    data: {settings.data_dir}")
        print("\nA token:  .venv/bin/gongyi token --role staff   (roles: applicant, unit, expert, staff)")
        print("The README's 'Try it' section has the whole flow as curl commands. Ctrl-C stops.\n", flush=True)
        wait_for_signal(containers)
    finally:
        servers.stop()
