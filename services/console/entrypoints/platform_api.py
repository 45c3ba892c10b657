"""The console's client of the four services' HTTP APIs, on behalf of the signed-in person.

For each request the console mints a short-lived API token carrying the account's own role and
scope (its unit, expert id or organisation), so every service checks the person exactly as it
checks any API client: the console is given no power of its own.
"""

from __future__ import annotations

from typing import Any

import requests

from gongyi.config import Settings
from gongyi.errors import DomainError
from gongyi.http.auth import issue_token
from services.console.domain.accounts import Account


class ApiRefusal(DomainError):
    """A service refused: its code and texts, passed on to the page."""


class PlatformApi:
    def __init__(self, base: str, settings: Settings, account: Account | None, ttl_s: int = 300) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        if account is not None:
            token = issue_token(settings, account.role, account.id, ttl=ttl_s, **account.token_claims())
            self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self.http.request(method, self.base + path, timeout=60, **kwargs)
        except requests.RequestException as exc:
            raise ApiRefusal("service_unreachable", "平台服务暂时无法访问，请稍后重试",
                             f"The platform did not answer ({type(exc).__name__})", status=503) from exc
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {}
            raise ApiRefusal(body.get("code", "api_error"), body.get("message_zh", "请求未成功"),
                             body.get("message_en", resp.reason or "error"), body.get("details") or {},
                             status=resp.status_code)
        if "json" in resp.headers.get("Content-Type", ""):
            return resp.json()
        return resp.content

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Any:
        return self.call("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Any:
        return self.call("PUT", path, **kw)
