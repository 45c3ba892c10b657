"""Helpers for tests that run the services: containers on free ports, tokens, a sample form."""

from __future__ import annotations

import json
import socket
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from gongyi.config import Settings
from gongyi.http.auth import issue_token

REPO = Path(__file__).resolve().parents[1]


class Client:
    """requests against one base URL with a bearer token."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)


def tokens(settings: Settings, unit: str = "cac-beijing") -> dict[str, str]:
    sub = f"applicant-{uuid.uuid4().hex[:6]}"
    return {
        "applicant": issue_token(settings, "applicant", sub, org="53110000500000007T"),
        "unit": issue_token(settings, "unit", f"unit-{unit}", unit=unit),
        "staff": issue_token(settings, "staff", "staff-1"),
        "expert": issue_token(settings, "expert", "expert-1", expert="e1"),
    }


def sample_form(name: str | None = None, unit: str = "cac-beijing", credit_code: str = "53110000500000007T") -> dict:
    return {
        "project_name": name or f"乡村留守儿童网络课堂{uuid.uuid4().hex[:6]}",
        "category": "education",
        "applicant": {"name": "北京阳光公益基金会", "type": "social_organisation", "credit_code": credit_code,
                      "province": "北京市", "address": "北京市东城区"},
        "contact": {"name": "张三", "title": "项目主管", "mobile": "13800138000", "email": "zhangsan@example.org"},
        "started_on": "2021-03-01",
        "still_running": True,
        "summary": "通过互联网直播课堂为乡村留守儿童提供优质教育资源。",
        "implementation_results": "覆盖12个省份300所乡村学校，累计授课5000课时。",
        "innovation": "双师课堂模式可复制推广。",
        "approval": {"department": "北京市民政局", "document_no": "京民发〔2020〕12号"},
        "platform": {"website": "https://example.org"},
        "beneficiaries": 52000,
        "unit_code": unit,
    }


def open_call_document(call_id: str = "2024-national") -> dict:
    """The shipped call with its window moved around now, as an organiser would for a new round."""
    from services.intake.domain.calls import load_call_file

    doc = load_call_file(REPO / "calls" / f"{call_id}.yaml").model_dump(mode="json")
    doc["window"]["opens"] = "2020-01-01T00:00:00+08:00"
    doc["window"]["closes"] = "2099-12-31T23:59:59+08:00"
    return doc


@contextmanager
def running_services(settings: Settings, *names: str):
    """Start each named service in its own nameko container on its own port (as in a cluster)."""
    from gongyi.runner import start_container

    containers, urls = [], {}
    try:
        for name in names:
            port = free_port()
            containers.append(start_container(settings, name, "127.0.0.1", port))
            urls[name] = f"http://127.0.0.1:{port}"
        yield urls
    finally:
        for c in containers:
            c.stop()


def load_open_call(settings: Settings, call_id: str = "2024-national") -> None:
    from sqlalchemy.orm import sessionmaker

    from gongyi.db import UnitOfWork, make_engine
    from services.intake import handlers

    engine = make_engine(settings.db_url("intake"))
    try:
        with UnitOfWork(sessionmaker(engine), "intake") as uow:
            handlers.load_call(uow, open_call_document(call_id), "test", "test round", acknowledge_changes=True)
    finally:
        engine.dispose()


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.1, message: str = "condition"):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")
