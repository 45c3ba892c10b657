"""The console's page machinery: one decorator gives every page its session, CSRF check, role
check, refusal page and security headers, so no page can forget one of them."""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import ChainableUndefined
from markupsafe import Markup, escape
from nameko.web.handlers import HttpRequestHandler
from werkzeug.wrappers import Request, Response

from gongyi.errors import DomainError
from gongyi.http.api import NoDelayWebServer
from gongyi.http.templates import make_environment
from services.console.domain import accounts as acc
from services.console.domain.refusals import refuse
from services.console.domain.sessions import same_token
from services.console.handlers import Visit

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PREFIX = "/console"
COOKIE = "gongyi_console"
HTML = "text/html; charset=utf-8"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
DONE = {
    "saved": "已保存", "submitted": "已提交", "endorsed": "已填写推荐意见", "returned": "已退回",
    "forwarded": "已报送", "scored": "评分已保存", "review_submitted": "评分已提交", "conflict": "已申报回避",
    "declined": "已谢绝评审", "window": "申报时间已更新",
    "deadlines": "截止时间已更新", "call_loaded": "征集活动配置已加载",
    "rehearsal": "演练已创建", "screened": "初审结果已记录",
    "assigned": "已自动分配专家", "expert": "专家已加入并已发送邀请", "proposed": "入选建议已生成",
    "confirmed": "入选名单已确认", "opened": "公示已开始", "closed": "公示已结束", "published": "名单已发布",
    "resolved": "异议已处理", "invited": "邀请已发送", "registered": "注册成功，请查收确认邮件",
    "confirmed_email": "邮箱已确认，请登录", "password_set": "密码已设置，请登录",
    "reset_sent": "如该邮箱已注册，重置链接已发送",
    "signed_out": "已退出登录", "objection": "异议已提交", "settled": "已处理疑似重复",
}

class PageEntrypoint(HttpRequestHandler):
    # the same shared web server as the JSON routes (nameko keys shared extensions by class)
    server = NoDelayWebServer()


http = PageEntrypoint.decorator
# intake's own labels (ApplicationOut.state_label_zh); lists carry only the code
APP_STATES = {"draft": "草稿", "submitted": "已提交至推荐单位", "returned": "已退回修改", "rejected": "推荐单位未通过",
              "endorsed": "推荐单位已审核同意", "forwarded": "已由推荐单位统一申报", "withdrawn": "已撤回"}
def highlight(fragment: str) -> Markup:
    """A search highlight: everything escaped, then only the engine's own <em> marks turned into <mark>."""
    escaped = str(escape(fragment))
    return Markup(escaped.replace("&lt;em&gt;", "<mark>").replace("&lt;/em&gt;", "</mark>"))


NOTICE_STATES = {"draft": "草稿", "open": "公示中", "closed": "公示结束", "scheduled": "待发布", "published": "已发布"}
templates = make_environment(HERE / "templates", ChainableUndefined, role_labels=acc.ROLE_LABELS, prefix=PREFIX,
                             notice_states=NOTICE_STATES, app_states=APP_STATES)
templates.filters["highlight"] = highlight


@dataclass
class Page:
    """What a page handler gets: the request, the visitor's session and helpers to answer."""

    service: Any
    request: Request
    visit: Visit
    cookie_changed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def account(self) -> acc.Account:
        assert self.visit.account is not None
        return self.visit.account

    @property
    def form(self) -> Any:
        return self.request.form

    def arg(self, name: str, default: str = "") -> str:
        return self.request.args.get(name, default)

    @property
    def api(self) -> Any:
        return self.service.api_for(self.visit.account)

    def render(self, template: str, http_status: int = 200, **context: Any) -> Response:
        done = DONE.get(self.request.args.get("done", ""), "")
        body = templates.get_template(template).render(
            me=self.visit.account, csrf=self.visit.csrf, done=done, path=self.request.path, **context)
        return Response(body, status=http_status, content_type=HTML)

    def redirect(self, path: str, done: str | None = None) -> Response:
        target = PREFIX + path + (("&" if "?" in path else "?") + f"done={done}" if done else "")
        return Response("", status=303, headers={"Location": target})

    def json(self, payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")

    def use_session(self, visit: Visit) -> None:
        """After sign-in or sign-out: the cookie names the new session."""
        self.visit = visit
        self.cookie_changed = True


def page(method: str, path: str, area: str | None = None, signed_in: bool = False) -> Callable:
    """A console page at ``/console<path>``. ``area``: the one role's area it belongs to;
    ``signed_in``: any signed-in account; neither: public."""

    def decorator(fn: Callable) -> Callable:
        def handler(self: Any, request: Request, **kwargs: Any) -> Response:
            return serve(self, request, fn, area, signed_in or area is not None, kwargs)

        handler.__name__ = fn.__name__
        handler.__doc__ = fn.__doc__
        return http(method, PREFIX + path)(handler)

    return decorator


def serve(service: Any, request: Request, fn: Callable, area: str | None, needs_account: bool,
          kwargs: dict[str, Any]) -> Response:
    visit = service.visit(request.cookies.get(COOKIE))
    pg = Page(service, request, visit, cookie_changed=visit.new)
    try:
        if request.method == "POST" and not same_token(visit.csrf, request.form.get("csrf")
                                                       or request.headers.get("X-CSRF-Token")):
            raise refuse("csrf_failed")
        if needs_account and visit.account is None:
            if request.method == "GET":
                code = "session_expired" if visit.expired else "sign_in_required"
                response = pg.redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='')}&why={code}")
                return finish(service, pg, response)
            raise refuse("session_expired" if visit.expired else "sign_in_required")
        if area is not None and not acc.may_enter(visit.account.role, area):
            raise refuse("wrong_role", area=area)
        response = fn(service, pg, **kwargs)
    except DomainError as err:
        response = refusal(pg, err)
    except Exception:  # a page must answer with a page, not nameko's bare 500
        log.exception("console page %s failed", request.path)
        response = pg.render("error.html", http_status=500, code="internal_error",
                             message="页面出错，请稍后重试", details={}, issues=[])
    return finish(service, pg, response)


def refusal(pg: Page, err: DomainError) -> Response:
    wants_json = "application/json" in pg.request.headers.get("Accept", "")
    if wants_json:
        return pg.json(err.to_dict(), status=err.status)
    issues = (err.details or {}).get("issues") or []
    return pg.render("error.html", http_status=err.status, code=err.code, message=err.message_zh, details=err.details,
                     issues=issues)


def finish(service: Any, pg: Page, response: Response) -> Response:
    if pg.cookie_changed:
        response.set_cookie(COOKIE, pg.visit.session_id, httponly=True, samesite="Lax", path=PREFIX + "/",
                            secure=service.secure_cookies)
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cache-Control", "no-store")
    return response


def static_file(name: str) -> Response:
    path = (HERE / "static" / name).resolve()
    if not path.is_file() or (HERE / "static") not in path.parents:
        return Response("not found", status=404, content_type="text/plain; charset=utf-8")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript",):
        kind += "; charset=utf-8"
    return Response(path.read_bytes(), content_type=kind, headers={"Cache-Control": "public, max-age=3600"})
