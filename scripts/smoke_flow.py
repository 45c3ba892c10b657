#!/usr/bin/env python3
"""The README's thin flow as a script: used by the embedded-mode test and `make image-smoke`.

Staff reopen the 2024 call's window (the real one closed on 2024-02-29), an applicant creates and
submits an application, its unit endorses and forwards it in a batch, and a staff search for a
word of its title finds it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

import requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="http://127.0.0.1:8000", help="base URL serving /api/<service>/")
    parser.add_argument("--intake", default=None, help="intake base URL when services have their own")
    parser.add_argument("--review", default=None, help="review base URL when services have their own")
    parser.add_argument("--jwt-secret", default=None, help="token secret (default: GONGYI_JWT_SECRET)")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.jwt_secret:
        os.environ["GONGYI_JWT_SECRET"] = args.jwt_secret

    from gongyi.config import load_settings
    from gongyi.http.auth import issue_token

    settings = load_settings()
    intake = (args.intake or args.base).rstrip("/")
    review = (args.review or args.base).rstrip("/")
    marker = uuid.uuid4().hex[:6]
    staff = {"Authorization": "Bearer " + issue_token(settings, "staff", "smoke-staff")}
    applicant = {"Authorization": "Bearer " + issue_token(settings, "applicant", f"smoke-{marker}")}
    unit = {"Authorization": "Bearer " + issue_token(settings, "unit", "smoke-unit", unit="cac-beijing")}

    def step(name: str, resp: requests.Response, expect: int) -> dict:
        ok = resp.status_code == expect
        print(f"[smoke] {name}: {resp.status_code}", flush=True)
        if not ok:
            print(resp.text, file=sys.stderr)
            raise SystemExit(1)
        return resp.json()

    step("reopen call window", requests.put(
        f"{intake}/api/intake/calls/2024-national/window", headers=staff, timeout=30,
        json={"closes": "2099-12-31T23:59:59+08:00", "note": "smoke test: window reopened"}), 200)
    form = {
        "project_name": f"乡村留守儿童网络课堂{marker}", "category": "education",
        "applicant": {"name": "北京阳光公益基金会", "type": "social_organisation",
                      "credit_code": "53110000500000007T", "province": "北京市", "address": "北京市东城区"},
        "contact": {"name": "张三", "title": "项目主管", "mobile": "13800138000", "email": "zhangsan@example.org"},
        "started_on": "2021-03-01", "still_running": True,
        "summary": "通过互联网直播课堂为乡村留守儿童提供优质教育资源。",
        "implementation_results": "覆盖12个省份300所乡村学校，累计授课5000课时。",
        "innovation": "双师课堂模式可复制推广。",
        "approval": {"department": "北京市民政局", "document_no": "京民发〔2020〕12号"},
        "platform": {"website": "https://example.org"}, "unit_code": "cac-beijing",
    }
    app = step("create draft", requests.post(f"{intake}/api/intake/applications", headers=applicant, timeout=30,
                                             json={"call_id": "2024-national", "form": form}), 201)
    app_id = app["id"]
    step("submit", requests.post(f"{intake}/api/intake/applications/{app_id}/submit", headers=applicant,
                                 timeout=30), 200)
    step("endorse", requests.post(f"{intake}/api/intake/applications/{app_id}/endorse", headers=unit, timeout=30,
                                  json={"opinion": "同意推荐"}), 200)
    step("forward batch", requests.post(f"{intake}/api/intake/batches", headers=unit, timeout=30,
                                        json={"application_ids": [app_id], "idempotency_key": f"smoke-{marker}"}), 201)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        r = requests.get(f"{review}/api/review/search", headers=staff, params={"q": "留守儿童"}, timeout=30)
        if r.status_code == 200 and any(i["application_id"] == app_id for i in r.json()["items"]):
            print(f"[smoke] staff search found {app_id}", flush=True)
            return 0
        time.sleep(0.3)
    print(f"[smoke] staff search did not find {app_id} within {args.timeout} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
