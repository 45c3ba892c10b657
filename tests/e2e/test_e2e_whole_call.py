"""One whole call, from the first draft to the year-end report, through one base URL, on both brokers.

The same scenario (gongyi/demo/scenario.py, what `gongyi demo` runs) drives:
- `gongyi run` as a subprocess: the embedded broker, SQLite, the local search and S3 servers;
- every service in its own container on the real RabbitMQ and PostgreSQL, behind the same router.
Each phase checks what a user would check at that step (states, lists, reasons, marks on files);
evidence of every kind crosses the media service's RPC, which once killed media on the embedded broker.
"""

from __future__ import annotations

import os
import subprocess
import sys

import eventlet
import pytest
import requests
from platform_support import REPO, free_port, load_open_call, running_services, wait_until

from gongyi.config import SERVICES, load_settings
from gongyi.demo.scenario import PHASES, run_scenario
from gongyi.router import make_router

pytestmark = pytest.mark.e2e


def _scenario(base: str, settings) -> list[str]:  # noqa: ANN001
    lines: list[str] = []
    run = run_scenario(base, settings, notice_minutes=0.2, log=lines.append)
    assert run.notice_id and run.case_id and run.report_id and run.selection_id
    assert len(lines) == len(PHASES) + 1  # one line per phase, plus the wait for the period's end
    return lines


def test_whole_call_on_gongyi_run(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGYI_")}
    env.update({"GONGYI_DATA_DIR": str(tmp_path / "var"), "GONGYI_HTTP_PORT": str(port)})
    # the log goes to a file: an undrained pipe fills up and blocks the whole process on its next write
    log_path = tmp_path / "gongyi-run.log"
    log_file = log_path.open("w")
    proc = subprocess.Popen([sys.executable, "-m", "gongyi.cli", "run"], cwd=REPO, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert proc.poll() is None, log_path.read_text()[-5000:]
        try:
            return requests.get(f"{base}/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(ready, timeout=90, message="gongyi run to be ready")
        try:
            _scenario(base, load_settings(env))
        except AssertionError:
            print(log_path.read_text()[-20000:])  # the platform's log, for the failure report
            raise
        # nothing died on the way: every service still up, none restarted
        status = requests.get(f"{base}/readyz", timeout=5).json()["services"]
        assert {s["status"] for s in status.values()} == {"running"}
        assert {s["restarts"] for s in status.values()} == {0}, status
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log_file.close()
    output = log_path.read_text()
    assert proc.returncode in (0, -15), output[-3000:]
    assert "killing <ServiceContainer" not in output and "CRITICAL" not in output, output[-3000:]


def test_whole_call_on_rabbitmq_and_postgresql(settings):
    load_open_call(settings)
    with running_services(settings, *SERVICES) as urls:
        backends = {name: ("127.0.0.1", int(url.rsplit(":", 1)[1])) for name, url in urls.items()}
        listener = eventlet.listen(("127.0.0.1", 0))
        server = eventlet.spawn(eventlet.wsgi.server, listener, make_router(backends), log_output=False)
        try:
            _scenario(f"http://127.0.0.1:{listener.getsockname()[1]}", settings)
        finally:
            server.kill()
            listener.close()
