"""The console in a real browser: the whole call through its pages, in chromium driven by Playwright.

The platform runs as `gongyi run` does (embedded mode, GONGYI_HTTP_PORT=0, so the console must call
the APIs on the port the router really got); the journey (tests/browser/journey.py) runs in a child
process because Playwright's sync API cannot share one with eventlet's patches. It covers register,
confirm, draft with the live character count and autosave, upload with progress, submit, unit
vetting (a return, then forwarding), screening, an expert who declines and one who declares a
conflict, a third who scores, the review and tracking-report deadlines with their reminder
e-mails, ranking and confirmation, the 公示, an objection and its answer, close, publish, the
public list, notifications on the page and by e-mail, plus a CSRF refusal, a session expiry and
a role opening another role's page. axe-core runs on every page; `make screenshots` runs it to
refresh docs/console/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from platform_support import REPO

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("GONGYI_CHROMIUM", "/usr/bin/chromium")
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium is needed at {CHROMIUM} (scripts/ensure_services.sh installs Debian's chromium)")
    if not AXE.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=REPO, check=True,
                       capture_output=True, timeout=300)
    data = tmp_path_factory.mktemp("console")
    log = data / "run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGYI_")}
    # reminders looked for every second, so the review and tracking-report e-mails come at once
    env.update({"GONGYI_DATA_DIR": str(data / "var"), "GONGYI_HTTP_PORT": "0", "GONGYI_REMINDER_INTERVAL_S": "1"})
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gongyi.cli", "run"], cwd=REPO, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    base = None
    deadline = time.monotonic() + 120
    while base is None:
        found = re.search(r"is running \(embedded mode\) at (http://\S+)", log.read_text(errors="replace"))
        if found:
            base = found.group(1)
        elif proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"gongyi run did not start: {log.read_text(errors='replace')[-3000:]}")
        else:
            time.sleep(0.3)
    yield base, data / "var", env, log
    proc.terminate()
    proc.wait(timeout=40)


@pytest.mark.timeout(900)
def test_the_whole_call_through_the_console_in_chromium(platform, tmp_path):
    base, data_dir, env, log = platform
    assert not base.endswith(":0") and not base.endswith(":8000"), base  # the real bound port
    # `make screenshots` refreshes the README's pictures; a test run leaves the working tree alone
    shots = REPO / "docs" / "console" if os.environ.get("GONGYI_UPDATE_SCREENSHOTS") == "1" else tmp_path / "shots"
    result = subprocess.run([sys.executable, str(REPO / "tests" / "browser" / "journey.py"), base, str(data_dir),
                             str(shots)], cwd=REPO, env={**env, "GONGYI_DATA_DIR": str(data_dir)},
                            capture_output=True, text=True, timeout=600)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result from the journey:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    outcome = json.loads(lines[-1])
    assert "error" not in outcome, f"{outcome}\n--- platform log (tail)\n{log.read_text(errors='replace')[-2000:]}"
    assert outcome["violations"] == [], "axe-core: serious or critical violations"
    assert outcome["pages_checked"] >= 20
    for role in ("applicant", "unit", "expert", "staff", "public"):
        assert (shots / f"{role}.png").stat().st_size > 10_000, role
    assert result.returncode == 0


def test_static_assets_are_served_by_the_platform_itself(platform):
    import requests

    base = platform[0]
    css = requests.get(f"{base}/console/static/console.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert requests.get(f"{base}/console/static/../service.py", timeout=10).status_code == 404
    page = requests.get(f"{base}/console/login", timeout=10)
    assert page.status_code == 200, page.text[:500]
    # no asset from elsewhere (a CDN): every src/href is the platform's own path
    external = re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', page.text)
    assert external == [], external
    assert "HttpOnly" in page.headers["Set-Cookie"] and "SameSite=Lax" in page.headers["Set-Cookie"]
    assert "Secure" not in page.headers["Set-Cookie"]  # embedded mode over plain http
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
