"""`gongyi run` as a user starts and stops it: two copies in two folders at once, any free ports,
the URLs in use printed, and SIGINT (Ctrl-C) or SIGTERM stopping each cleanly within 10 s."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
import requests
from platform_support import REPO, wait_until

pytestmark = pytest.mark.e2e


def _start(folder) -> tuple[subprocess.Popen, object]:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGYI_")}
    env.update({"GONGYI_DATA_DIR": str(folder / "var"), "GONGYI_HTTP_PORT": "0"})
    log = folder / "run.log"
    proc = subprocess.Popen([sys.executable, "-m", "gongyi.cli", "run"], cwd=folder, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    return proc, log


def _base_url(proc: subprocess.Popen, log) -> str | None:  # noqa: ANN001
    assert proc.poll() is None, log.read_text()[-3000:]
    found = re.search(r"running \(embedded mode\) at (http://\S+)", log.read_text())
    return found.group(1) if found else None


def test_two_copies_run_side_by_side_and_stop_on_sigint_and_sigterm(tmp_path):
    # run from outside the repository, as from another checkout's folder
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, first_log = _start(tmp_path / "a")
    second, second_log = _start(tmp_path / "b")
    try:
        bases = [wait_until(lambda p=p, lg=lg: _base_url(p, lg), timeout=90, message="the banner")
                 for p, lg in ((first, first_log), (second, second_log))]
        assert bases[0] != bases[1]
        for base, log in zip(bases, (first_log, second_log), strict=True):
            wait_until(lambda b=base: requests.get(f"{b}/readyz", timeout=2).status_code == 200, timeout=60,
                       message=f"{base} ready")
            text = log.read_text()
            search = re.search(r"search \(osmem-server\): (http://\S+)", text).group(1)
            s3 = re.search(r"S3 \(moto\): (http://\S+)", text).group(1)
            assert requests.get(search, timeout=2).ok and requests.get(s3, timeout=2).status_code < 500
        searches = {re.search(r"search \(osmem-server\): (\S+)", lg.read_text()).group(1)
                    for lg in (first_log, second_log)}
        assert len(searches) == 2  # each copy its own search server
        assert (tmp_path / "a" / "var" / "intake.db").exists() and (tmp_path / "b" / "var" / "intake.db").exists()

        first.send_signal(signal.SIGINT)
        second.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0, first_log.read_text()[-3000:]
        assert second.wait(timeout=10) == 0, second_log.read_text()[-3000:]
        for base in bases:
            with pytest.raises(requests.ConnectionError):
                requests.get(f"{base}/healthz", timeout=2)
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.kill()


def test_a_busy_port_is_refused_with_a_clear_message(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("GONGYI_")}
        env.update({"GONGYI_DATA_DIR": str(tmp_path / "var"), "GONGYI_HTTP_PORT": str(port)})
        result = subprocess.run([sys.executable, "-m", "gongyi.cli", "run"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "GONGYI_HTTP_PORT" in result.stderr
