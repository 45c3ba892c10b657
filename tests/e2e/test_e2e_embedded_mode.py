"""`make run`'s process (`gongyi run`): everything in one process on embedded defaults, one base URL.

Runs the README's flow (scripts/smoke_flow.py) through the router against a fresh data folder.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
from platform_support import REPO, free_port, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    data = tmp_path_factory.mktemp("embedded")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGYI_")}
    env.update({"GONGYI_DATA_DIR": str(data), "GONGYI_HTTP_PORT": str(port)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "gongyi.cli", "run", "--search-port", str(free_port()), "--s3-port", str(free_port())],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/api/publish/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            assert proc.poll() is None, proc.stdout.read()
            return False

    wait_until(up, timeout=90, message="gongyi run to answer")
    yield base, env
    proc.terminate()
    proc.wait(timeout=40)
    assert proc.returncode in (0, -15), f"gongyi run exited with {proc.returncode}"


def test_every_service_answers_health_and_readiness_on_one_base_url(embedded):
    base, _ = embedded
    for service in ("intake", "media", "review", "publish"):
        assert requests.get(f"{base}/api/{service}/healthz", timeout=5).json()["service"] == service
        ready = requests.get(f"{base}/api/{service}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
    unknown = requests.get(f"{base}/api/nowhere/x", timeout=5)
    assert unknown.status_code == 404 and unknown.json()["code"] == "route_not_found"


def test_readme_flow_finds_the_application_in_staff_search(embedded):
    base, env = embedded
    result = subprocess.run([sys.executable, "scripts/smoke_flow.py", "--base", base], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "staff search found" in result.stdout
