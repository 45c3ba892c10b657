"""A throwaway environment for benchmarks: its own RabbitMQ vhost and PostgreSQL databases, local
search and S3 servers, and services in their own processes (as in a cluster), all removed after.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import psycopg2
import requests

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
MGMT = "http://127.0.0.1:15672"
PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-secret-" + "b" * 40
SERVICES = ("intake", "media", "review", "publish")
# pid of each service process the current environment() started (for CPU and memory readings)
SERVICE_PIDS: dict[str, int] = {}


def machine_busy_seconds() -> float:
    """CPU time all cores have spent busy since boot (Linux /proc/stat: all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def cpu_by_program(names: tuple[str, ...] = ("postgres", "beam.smp", "osmem-server")) -> dict[str, float]:
    """CPU seconds used so far by every live process of each named program (the servers the
    platform talks to). A process that exited in between is not counted."""
    totals = dict.fromkeys(names, 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        if comm in totals:
            fields = text.rsplit(")", 1)[1].split()
            totals[comm] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return totals


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 50), "p95": percentile(values, 95),
            "mean": statistics.fmean(values) if values else float("nan")}


def machine() -> dict[str, str | int]:
    return {"cpus": os.cpu_count() or 0, "python": platform.python_version(), "platform": platform.platform()}


def write_result(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, ensure_ascii=False, indent=2, default=str) + "\n")
    return path


@contextmanager
def environment(services: tuple[str, ...] = ("intake", "review"), extra: dict[str, str] | None = None):
    """Yield (env, urls): environment variables for the services and their base URLs.

    ``extra`` adds settings (e.g. a raised size limit) on top of the benchmark's own."""
    from gongyi.runner import LocalServers

    run = uuid.uuid4().hex[:8]
    vhost = f"gongyi-bench-{run}"
    auth = ("guest", "guest")
    requests.put(f"{MGMT}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=10).raise_for_status()
    requests.put(f"{MGMT}/api/permissions/{quote(vhost, safe='')}/guest", auth=auth, timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    dbs = {s: f"gongyi_bench_{run}_{s}" for s in SERVICES}
    conn = psycopg2.connect(PG)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in dbs.values():
            cur.execute(f'CREATE DATABASE "{name}"')
    servers = LocalServers()
    procs: list[subprocess.Popen] = []
    try:
        search, s3 = servers.start_search(free_port()), servers.start_s3(free_port())
        env = {k: v for k, v in os.environ.items() if not k.startswith("GONGYI_")}
        env.update({
            "GONGYI_MODE": "server", "GONGYI_JWT_SECRET": SECRET, "GONGYI_LOG_LEVEL": "WARNING",
            "GONGYI_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{quote(vhost, safe='')}",
            "GONGYI_RABBITMQ_MANAGEMENT_URL": MGMT, "GONGYI_SEARCH_URL": search, "GONGYI_S3_ENDPOINT": s3,
            "GONGYI_SEARCH_INDEX_PREFIX": f"b{run}",
            **{f"GONGYI_{s.upper()}_DB_URL": f"postgresql+psycopg2://postgres@127.0.0.1:5432/{n}"
               for s, n in dbs.items()},
            **(extra or {}),
        })
        gongyi = [sys.executable, "-m", "gongyi.cli"]
        subprocess.run([*gongyi, "migrate", "all"], env=env, check=True, capture_output=True)
        subprocess.run([*gongyi, "broker", "setup"], env=env, check=True, capture_output=True)
        if "media" in services:  # media is ready only once its buckets exist (a one-shot job in a cluster)
            from gongyi.config import load_settings
            from gongyi.objectstore import ensure_buckets, make_object_client

            settings = load_settings(env)
            ensure_buckets(make_object_client(settings), settings.s3_quarantine_bucket, settings.s3_evidence_bucket)
        urls = {}
        for service in services:
            port = free_port()
            procs.append(subprocess.Popen([*gongyi, "serve", service], env={**env, "GONGYI_HTTP_PORT": str(port)},
                                          cwd=REPO, stdout=subprocess.DEVNULL))
            SERVICE_PIDS[service] = procs[-1].pid
            urls[service] = f"http://127.0.0.1:{port}"
        for service, url in urls.items():
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{url}/api/{service}/readyz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service} not ready")
                time.sleep(0.2)
        yield env, urls
    finally:
        SERVICE_PIDS.clear()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        servers.stop()
        with conn.cursor() as cur:
            for name in dbs.values():
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
        requests.delete(f"{MGMT}/api/vhosts/{quote(vhost, safe='')}", auth=auth, timeout=30)


def token(role: str, **claims: str) -> str:
    from gongyi.config import load_settings
    from gongyi.http.auth import issue_token

    settings = load_settings({"GONGYI_JWT_SECRET": SECRET})
    return issue_token(settings, role, claims.pop("sub", f"{role}-bench"), **claims)


def print_table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
