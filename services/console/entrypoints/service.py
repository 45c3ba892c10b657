"""The console: server-rendered pages (zh-CN) for applicants, units, experts, staff and the public.

A backend for the frontend: every page calls the four services' HTTP APIs through the platform's
base URL with a token minted for the signed-in account, so the services keep their boundaries
and checks; the console owns only accounts, sessions, notifications and its e-mail outbox
(docs/console.md). Its notification consumers turn the platform's events into messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from gongyi.dependencies import Database, SettingsProvider
from gongyi.errors import DomainError
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database
from gongyi.http.api import Api
from gongyi.http.platform import platform_routes
from services.console import handlers
from services.console.config import api_base, console_origin, load_console_env, secure_cookies
from services.console.domain.accounts import ROLE_LABELS
from services.console.domain.call_upload import MAX_BYTES as MAX_CALL_BYTES
from services.console.domain.call_upload import parse_call_upload
from services.console.domain.deadlines import BEIJING, parse_deadline, parse_deadline_list
from services.console.domain.material import count_material
from services.console.domain.refusals import refuse
from services.console.entrypoints.mail import MailLoop
from services.console.entrypoints.platform_api import PlatformApi
from services.console.entrypoints.web import Page, http, page, static_file

api = Api("console", "gongyi console", "The browser console's health and metrics (its pages are under /console/).")
CRITERIA = ("compliance", "platform", "public_benefit", "effectiveness", "influence", "exemplarity")
STATE_ORDER = ("draft", "submitted", "returned", "endorsed", "forwarded", "rejected", "withdrawn")
SEARCH_FILTERS = ("q", "call_id", "category", "province", "unit_code", "applicant_type", "status")
HOME = {"applicant": "/applicant/", "unit": "/unit/", "expert": "/expert/", "staff": "/staff/"}


def _notify(event_type: str) -> Callable:
    def consume(self: ConsoleService, event: dict) -> None:
        with self.db as uow:
            handlers.notify_from_event(uow, event, self.origin)
        self.mail.kick()

    consume.__name__ = "notify_" + event_type.split(".v")[0].replace(".", "_")
    return consume


class ConsoleService(platform_routes(api)):
    name = "console"
    db = Database()
    settings = SettingsProvider()
    mail = MailLoop()

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
        }

    # -- the platform's events that need someone (services/console/domain/notifications.py)
    on_submitted = event_handler("intake", "application.submitted.v1")(_notify("application.submitted.v1"))
    on_returned = event_handler("intake", "application.returned.v1")(_notify("application.returned.v1"))
    on_forwarded = event_handler("intake", "application.forwarded.v1")(_notify("application.forwarded.v1"))
    on_assigned = event_handler("review", "assignment.made.v1")(_notify("assignment.made.v1"))
    on_selected = event_handler("review", "selection.confirmed.v1")(_notify("selection.confirmed.v1"))
    on_objection_filed = event_handler("publish", "objection.filed.v1")(_notify("objection.filed.v1"))
    on_objection_resolved = event_handler("publish", "objection.resolved.v1")(_notify("objection.resolved.v1"))
    on_report_returned = event_handler("publish", "report.returned.v1")(_notify("report.returned.v1"))
    on_review_due = event_handler("review", "review.due.v1")(_notify("review.due.v1"))
    on_report_due = event_handler("publish", "report.due.v1")(_notify("report.due.v1"))

    # -- helpers the page machinery uses
    @property
    def env(self) -> Any:
        return load_console_env()

    @property
    def origin(self) -> str:
        return console_origin(self.settings, self.env)

    @property
    def secure_cookies(self) -> bool:
        return secure_cookies(self.settings, self.env)

    def visit(self, cookie: str | None) -> handlers.Visit:
        env = self.env
        with self.db as uow:
            return handlers.open_visit(uow, cookie, env.session_idle_s, env.session_absolute_s)

    def api_for(self, account: Any) -> PlatformApi:
        return PlatformApi(api_base(self.settings), self.settings, account, self.env.api_token_ttl_s)

    # ------------------------------------------------------------------ assets and the front page
    @http("GET", "/console/static/<path:name>")
    def static(self, request: Request, name: str) -> Response:
        return static_file(name)

    @page("GET", "/")
    def home(self, pg: Page) -> Response:
        if pg.visit.account is not None:
            return pg.redirect(HOME[pg.account.role])
        return pg.render("home.html", notices=_public_notices(pg))

    # ------------------------------------------------------------------ sign-in and accounts
    @page("GET", "/login")
    def login_form(self, pg: Page) -> Response:
        why = {"session_expired": "登录已过期，请重新登录", "sign_in_required": "请先登录"}.get(pg.arg("why"), "")
        return pg.render("login.html", next=pg.arg("next"), why=why, error="")

    @page("POST", "/login")
    def login(self, pg: Page) -> Response:
        client = pg.request.headers.get("X-Forwarded-For", pg.request.remote_addr or "").split(",")[0].strip()
        try:
            with self.db as uow:
                fresh = handlers.sign_in(uow, pg.visit, pg.form.get("email", ""), pg.form.get("password", ""),
                                         client, self.env.login_rate)
        except DomainError as err:
            return pg.render("login.html", http_status=err.status, next=pg.form.get("next", ""), why="",
                             error=err.message_zh)
        pg.use_session(fresh)
        target = pg.form.get("next", "")
        if not target.startswith("/console/") or target.startswith("//"):
            return pg.redirect(HOME[fresh.account.role])
        return Response("", status=303, headers={"Location": target})

    @page("POST", "/logout")
    def logout(self, pg: Page) -> Response:
        with self.db as uow:
            handlers.sign_out(uow, pg.visit)
            pg.use_session(handlers.open_visit(uow, None, 1, 1))
        return pg.redirect("/login", "signed_out")

    @page("GET", "/register")
    def register_form(self, pg: Page) -> Response:
        return pg.render("register.html", values={}, error="")

    @page("POST", "/register")
    def register(self, pg: Page) -> Response:
        f = pg.form
        try:
            with self.db as uow:
                handlers.register_applicant(uow, email=f.get("email", ""), password=f.get("password", ""),
                                            repeated=f.get("password2", ""), name=f.get("name", ""),
                                            org_name=f.get("org_name", ""), org_code=f.get("org_code", ""),
                                            origin=self.origin, ttl_s=self.env.confirm_ttl_s)
        except DomainError as err:
            values = {k: f.get(k, "") for k in ("email", "name", "org_name", "org_code")}
            return pg.render("register.html", http_status=err.status, values=values, error=err.message_zh)
        self.mail.kick()
        return pg.redirect("/login", "registered")

    @page("GET", "/confirm/<secret>")
    def confirm(self, pg: Page, secret: str) -> Response:
        with self.db as uow:
            handlers.confirm_email(uow, secret)
        return pg.redirect("/login", "confirmed_email")

    @page("GET", "/invitation/<secret>")
    def invitation_form(self, pg: Page, secret: str) -> Response:
        with self.db as uow:
            account = handlers.invitation_account(uow, secret)
        return pg.render("set_password.html", title="接受邀请并设置密码", account=account, error="",
                         action=f"/console/invitation/{secret}")

    @page("POST", "/invitation/<secret>")
    def accept_invitation(self, pg: Page, secret: str) -> Response:
        return self._set_password(pg, secret, "invite")

    @page("GET", "/reset")
    def reset_request_form(self, pg: Page) -> Response:
        return pg.render("reset_request.html")

    @page("POST", "/reset")
    def reset_request(self, pg: Page) -> Response:
        with self.db as uow:
            handlers.request_reset(uow, pg.form.get("email", ""), self.origin, self.env.reset_ttl_s)
        self.mail.kick()
        return pg.redirect("/login", "reset_sent")

    @page("GET", "/reset/<secret>")
    def reset_form(self, pg: Page, secret: str) -> Response:
        with self.db as uow:
            account = handlers.invitation_account(uow, secret, "reset")
        return pg.render("set_password.html", title="重置密码", account=account, error="",
                         action=f"/console/reset/{secret}")

    @page("POST", "/reset/<secret>")
    def reset(self, pg: Page, secret: str) -> Response:
        return self._set_password(pg, secret, "reset")

    def _set_password(self, pg: Page, secret: str, purpose: str) -> Response:
        try:
            with self.db as uow:
                handlers.set_password_by_ticket(uow, secret, purpose, pg.form.get("password", ""),
                                                pg.form.get("password2", ""))
        except DomainError as err:
            if err.code == "ticket_invalid":
                raise
            with self.db as uow:
                account = handlers.invitation_account(uow, secret, purpose)
            where = "invitation" if purpose == "invite" else "reset"
            return pg.render("set_password.html", http_status=err.status, title="设置密码", account=account,
                             error=err.message_zh, action=f"/console/{where}/{secret}")
        return pg.redirect("/login", "password_set")

    @page("GET", "/notifications", signed_in=True)
    def notifications(self, pg: Page) -> Response:
        with self.db as uow:
            items = handlers.repo(uow).notifications_of(pg.account.id)
        return pg.render("notifications.html", items=items)

    # ------------------------------------------------------------------ applicant
    @page("GET", "/applicant/", area="applicant")
    def applicant_home(self, pg: Page) -> Response:
        mine = pg.api.get("/api/intake/applications", params={"limit": 200})["items"]
        calls = [c for c in pg.api.get("/api/intake/calls")["items"] if c.get("accepting", True)]
        return pg.render("applicant/home.html", applications=mine, calls=calls)

    @page("POST", "/applicant/applications", area="applicant")
    def applicant_create(self, pg: Page) -> Response:
        call_id = pg.form.get("call_id", "")
        account = pg.account
        form = {"applicant": {"name": account.org_name, "credit_code": account.org_code},
                "contact": {"name": account.name, "email": account.email}}
        created = pg.api.post("/api/intake/applications", json={"call_id": call_id, "form": form})
        with self.db as uow:
            handlers.record_owner(uow, created["id"], account)
        return pg.redirect(f"/applicant/applications/{created['id']}", "saved")

    @page("GET", "/applicant/applications/<app_id>", area="applicant")
    def applicant_application(self, pg: Page, app_id: str) -> Response:
        app = pg.api.get(f"/api/intake/applications/{quote(app_id)}")
        call = pg.api.get(f"/api/intake/calls/{quote(app['call_id'])}")["document"]
        limit = call.get("text_limit") or {"max_chars": 2000, "fields": []}
        count = count_material(app["form"], limit["fields"])
        return pg.render("applicant/application.html", app=app, call=call, limit=limit, count=count,
                         editable=app["state"] in ("draft", "returned"))

    @page("POST", "/applicant/applications/<app_id>/form", area="applicant")
    def applicant_save(self, pg: Page, app_id: str) -> Response:
        app = pg.api.get(f"/api/intake/applications/{quote(app_id)}")
        form = _form_from_fields(app["form"], pg.form)
        saved = pg.api.put(f"/api/intake/applications/{quote(app_id)}/form", json={"form": form})
        if "application/json" in pg.request.headers.get("Accept", ""):
            call = pg.api.get(f"/api/intake/calls/{quote(app['call_id'])}")["document"]
            fields = (call.get("text_limit") or {}).get("fields", [])
            return pg.json({"state": saved["state"], "count": count_material(saved["form"], fields),
                            "saved_at": dt.datetime.now(dt.UTC).isoformat()})
        return pg.redirect(f"/applicant/applications/{app_id}", "saved")

    @page("POST", "/applicant/applications/<app_id>/evidence", area="applicant")
    def applicant_upload(self, pg: Page, app_id: str) -> Response:
        """The file arrives as the request body (the page's upload shows its progress) and goes on
        to media; its id is attached to the draft."""
        kind = pg.arg("kind", "image")
        filename = pg.arg("filename", "file")
        body = pg.request.get_data(cache=False)
        stored = pg.api.post("/api/media/evidence", params={"kind": kind, "filename": filename}, data=body,
                             headers={"Content-Type": pg.request.content_type or "application/octet-stream"})
        app = pg.api.get(f"/api/intake/applications/{quote(app_id)}")
        form = dict(app["form"])
        key = "video_evidence_ids" if kind == "video" else "image_evidence_ids"
        form[key] = [*form.get(key, []), stored["id"]]
        pg.api.put(f"/api/intake/applications/{quote(app_id)}/form", json={"form": form})
        return pg.json({"id": stored["id"], "status": stored.get("status"), "warnings": stored.get("warnings", [])},
                       status=201)

    @page("POST", "/applicant/applications/<app_id>/submit", area="applicant")
    def applicant_submit(self, pg: Page, app_id: str) -> Response:
        pg.api.post(f"/api/intake/applications/{quote(app_id)}/submit")
        return pg.redirect(f"/applicant/applications/{app_id}", "submitted")

    # ------------------------------------------------------------------ recommending unit
    @page("GET", "/unit/", area="unit")
    def unit_home(self, pg: Page) -> Response:
        params = {k: v for k in ("call_id", "state") if (v := pg.arg(k))}
        items = pg.api.get("/api/intake/applications", params={**params, "limit": 200})["items"]
        q = pg.arg("q").strip()
        if q:
            items = [i for i in items if q in (i.get("project_name") or "")]
        return pg.render("unit/home.html", items=items, filters={"state": pg.arg("state"), "q": q},
                         states=STATE_ORDER)

    @page("GET", "/unit/applications/<app_id>", area="unit")
    def unit_application(self, pg: Page, app_id: str) -> Response:
        app = pg.api.get(f"/api/intake/applications/{quote(app_id)}")
        return pg.render("unit/application.html", app=app)

    @page("POST", "/unit/applications/<app_id>/endorse", area="unit")
    def unit_endorse(self, pg: Page, app_id: str) -> Response:
        pg.api.post(f"/api/intake/applications/{quote(app_id)}/endorse", json={"opinion": pg.form.get("opinion", "")})
        return pg.redirect(f"/unit/applications/{app_id}", "endorsed")

    @page("POST", "/unit/applications/<app_id>/return", area="unit")
    def unit_return(self, pg: Page, app_id: str) -> Response:
        pg.api.post(f"/api/intake/applications/{quote(app_id)}/return", json={"reason": pg.form.get("reason", "")})
        return pg.redirect(f"/unit/applications/{app_id}", "returned")

    @page("POST", "/unit/batch", area="unit")
    def unit_batch(self, pg: Page) -> Response:
        ids = pg.form.getlist("application_ids")
        if not ids:
            raise refuse("missing_field", field="application_ids")
        # the same selection posted twice (a double click) forwards one batch
        key = "console-" + hashlib.sha256(" ".join(sorted(ids)).encode()).hexdigest()[:32]
        pg.api.post("/api/intake/batches", json={"application_ids": ids, "idempotency_key": key})
        return pg.redirect("/unit/", "forwarded")

    # ------------------------------------------------------------------ expert
    @page("GET", "/expert/", area="expert")
    def expert_home(self, pg: Page) -> Response:
        items = pg.api.get("/api/review/expert/projects")["items"]
        return pg.render("expert/home.html", items=items)

    @page("GET", "/expert/projects/<app_id>", area="expert")
    def expert_project(self, pg: Page, app_id: str) -> Response:
        view = pg.api.get(f"/api/review/expert/projects/{quote(app_id)}")
        try:
            review = (pg.api.get(f"/api/review/reviews/{quote(app_id)}").get("items") or [{}])[0]
        except DomainError:
            review = {}
        call = pg.api.get(f"/api/intake/calls/{quote(view['call_id'])}")["document"]  # public: the labels
        labels = {c["code"]: c["label"] for c in call.get("categories", [])}
        return pg.render("expert/project.html", view=view, review=review, app_id=app_id,
                         criteria=_criteria(view), category_labels=labels)

    @page("POST", "/expert/projects/<app_id>/score", area="expert")
    def expert_score(self, pg: Page, app_id: str) -> Response:
        view = pg.api.get(f"/api/review/expert/projects/{quote(app_id)}")
        scores = {}
        for c in _criteria(view):
            raw = pg.form.get(f"score_{c['code']}", "").strip()
            if raw:
                try:
                    scores[c["code"]] = float(raw) if "." in raw else int(raw)
                except ValueError:
                    raise refuse("missing_field", field=c["code"]) from None
        pg.api.put(f"/api/review/reviews/{quote(app_id)}", json={"scores": scores,
                                                                  "comments": pg.form.get("comments", "")})
        if pg.form.get("action") == "submit":
            pg.api.post(f"/api/review/reviews/{quote(app_id)}/submit")
            return pg.redirect(f"/expert/projects/{app_id}", "review_submitted")
        return pg.redirect(f"/expert/projects/{app_id}", "scored")

    @page("POST", "/expert/projects/<app_id>/conflict", area="expert")
    def expert_conflict(self, pg: Page, app_id: str) -> Response:
        pg.api.post(f"/api/review/projects/{quote(app_id)}/conflict", json={"reason": pg.form.get("reason", "")})
        return pg.redirect("/expert/", "conflict")

    @page("POST", "/expert/projects/<app_id>/decline", area="expert")
    def expert_decline(self, pg: Page, app_id: str) -> Response:
        pg.api.post(f"/api/review/expert/projects/{quote(app_id)}/decline",
                    json={"reason": pg.form.get("reason", "")})
        return pg.redirect("/expert/", "declined")

    # ------------------------------------------------------------------ staff
    @page("GET", "/staff/", area="staff")
    def staff_home(self, pg: Page) -> Response:
        calls = pg.api.get("/api/intake/calls")["items"]
        counts = {}
        for call in calls:
            items = pg.api.get("/api/intake/applications", params={"call_id": call["id"], "limit": 500})["items"]
            counts[call["id"]] = Counter(i["state"] for i in items)
        return pg.render("staff/home.html", calls=calls, counts=counts, states=STATE_ORDER)

    @page("POST", "/staff/calls", area="staff")
    def staff_load_call(self, pg: Page) -> Response:
        """A new call, or a new version of one, from a YAML or JSON document."""
        upload = pg.request.files.get("document")
        raw = upload.read(MAX_CALL_BYTES + 1) if upload else pg.form.get("document_text", "").encode("utf-8")
        document = parse_call_upload(raw)
        body = {"document": document, "note": pg.form.get("note", "") or "控制台加载征集活动配置",
                "acknowledge_changes": pg.form.get("acknowledge") == "1"}
        loaded = pg.api.post("/api/intake/calls", json=body)
        return pg.redirect(f"/staff/calls/{loaded['call_id']}", "call_loaded")

    @page("GET", "/staff/calls/<call_id>", area="staff")
    def staff_call(self, pg: Page, call_id: str) -> Response:
        call = pg.api.get(f"/api/intake/calls/{quote(call_id)}")
        items = pg.api.get("/api/intake/applications", params={"call_id": call_id, "limit": 500})["items"]
        notices = pg.api.get("/api/publish/staff/notices", params={"call_id": call_id})["items"]
        due = (call["document"].get("review") or {}).get("due")
        # <input type="datetime-local"> shows wall-clock time: the deadline as Beijing time, so
        # saving the form again keeps it
        review_due_local = parse_deadline(due).astimezone(BEIJING).strftime("%Y-%m-%dT%H:%M") if due else ""
        return pg.render("staff/call.html", call=call, doc=call["document"], items=items, notices=notices,
                         counts=Counter(i["state"] for i in items), states=STATE_ORDER,
                         review_due_local=review_due_local)

    @page("POST", "/staff/calls/<call_id>/window", area="staff")
    def staff_window(self, pg: Page, call_id: str) -> Response:
        closes = pg.form.get("closes", "").strip()
        if len(closes) == 16:  # <input type="datetime-local"> gives no seconds and no zone: Beijing time
            closes += ":00+08:00"
        pg.api.put(f"/api/intake/calls/{quote(call_id)}/window",
                   json={"closes": closes, "note": pg.form.get("note", "") or "控制台调整申报时间"})
        return pg.redirect(f"/staff/calls/{call_id}", "window")

    @page("POST", "/staff/calls/<call_id>/deadlines", area="staff")
    def staff_deadlines(self, pg: Page, call_id: str) -> Response:
        """评审截止 and 跟踪报告截止: the reminders are sent from these (review and publish)."""
        review_due = pg.form.get("review_due", "").strip()
        body = {
            "review_due": parse_deadline(review_due).isoformat() if review_due else None,
            "report_due": [d.isoformat() for d in parse_deadline_list(pg.form.get("report_due", ""))],
            "note": pg.form.get("deadline_note", "") or "控制台设置截止时间",
        }
        for key in ("review_remind_days_before", "report_remind_days_before"):
            if pg.form.get(key, "").strip().isdigit():
                body[key] = int(pg.form[key])
        pg.api.put(f"/api/intake/calls/{quote(call_id)}/deadlines", json=body)
        return pg.redirect(f"/staff/calls/{call_id}", "deadlines")

    @page("POST", "/staff/calls/<call_id>/rehearsal", area="staff")
    def staff_rehearsal(self, pg: Page, call_id: str) -> Response:
        """A copy of the call as a rehearsal (演练): its window open now, its 公示 period in minutes."""
        source = pg.api.get(f"/api/intake/calls/{quote(call_id)}")["document"]
        now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
        new_id = pg.form.get("new_id", "").strip() or f"{call_id}-rehearsal-{now:%H%M%S}"
        doc = dict(source, id=new_id, title=f"{source['title']}（演练）", rehearsal=True)
        doc["window"] = {**source["window"], "opens": (now - dt.timedelta(days=1)).isoformat(),
                         "closes": (now + dt.timedelta(days=30)).isoformat()}
        doc["notice"] = {**source["notice"], "minutes": float(pg.form.get("minutes") or 1)}
        doc["quotas"] = {**source.get("quotas", {}), "select_about": int(pg.form.get("select_about") or 3)}
        doc["review"] = {**source["review"], "experts_per_project": int(pg.form.get("experts_per_project") or 1)}
        pg.api.post("/api/intake/calls", json={"document": doc, "note": "控制台创建演练 / rehearsal"})
        return pg.redirect(f"/staff/calls/{new_id}", "rehearsal")

    @page("GET", "/staff/calls/<call_id>/screening", area="staff")
    def staff_screening(self, pg: Page, call_id: str) -> Response:
        items = pg.api.get("/api/intake/applications", params={"call_id": call_id, "state": "forwarded",
                                                               "limit": 500})["items"]
        projects = []
        for item in items:
            try:
                projects.append({**item, "review": pg.api.get(f"/api/review/projects/{quote(item['id'])}")})
            except DomainError:
                projects.append({**item, "review": None})  # review has not received it yet
        return pg.render("staff/screening.html", call_id=call_id, projects=projects)

    @page("POST", "/staff/calls/<call_id>/screening", area="staff")
    def staff_screen(self, pg: Page, call_id: str) -> Response:
        decisions = []
        for app_id in pg.form.getlist("application_ids"):
            decision = pg.form.get(f"decision_{app_id}", "pass")
            default = "符合申报条件" if decision == "pass" else "不符合申报条件"
            decisions.append({"application_id": app_id, "decision": decision,
                              "reason": pg.form.get(f"reason_{app_id}", "") or default})
        if not decisions:
            raise refuse("missing_field", field="application_ids")
        pg.api.post("/api/review/screening/decisions", json={"decisions": decisions})
        return pg.redirect(f"/staff/calls/{call_id}/screening", "screened")

    @page("GET", "/staff/calls/<call_id>/experts", area="staff")
    def staff_experts(self, pg: Page, call_id: str) -> Response:
        pool = pg.api.get("/api/review/experts")["items"]
        call = pg.api.get(f"/api/intake/calls/{quote(call_id)}")["document"]
        return pg.render("staff/experts.html", call_id=call_id, pool=pool, categories=call.get("categories", []))

    @page("POST", "/staff/calls/<call_id>/experts", area="staff")
    def staff_add_expert(self, pg: Page, call_id: str) -> Response:
        """An expert joins the review pool and gets an invitation to the console in one step."""
        f = pg.form
        expert_id = f.get("expert_id", "").strip()
        pg.api.post("/api/review/experts", json={
            "expert_id": expert_id, "name": f.get("name", ""), "organisation": f.get("organisation", ""),
            "province": f.get("province", ""), "expertise": f.getlist("expertise"), "call_ids": [call_id]})
        with self.db as uow:
            handlers.invite(uow, email=f.get("email", ""), role="expert", name=f.get("name", ""),
                            expert_id=expert_id, origin=self.origin, ttl_s=self.env.invite_ttl_s)
        self.mail.kick()
        return pg.redirect(f"/staff/calls/{call_id}/experts", "expert")

    @page("POST", "/staff/calls/<call_id>/assign", area="staff")
    def staff_assign(self, pg: Page, call_id: str) -> Response:
        pg.api.post(f"/api/review/calls/{quote(call_id)}/assignments/auto")
        return pg.redirect(f"/staff/calls/{call_id}/experts", "assigned")

    @page("GET", "/staff/calls/<call_id>/ranking", area="staff")
    def staff_ranking(self, pg: Page, call_id: str) -> Response:
        ranking = pg.api.get(f"/api/review/calls/{quote(call_id)}/ranking")
        try:
            selection = pg.api.get(f"/api/review/calls/{quote(call_id)}/selection")
        except DomainError:
            selection = None
        return pg.render("staff/ranking.html", call_id=call_id, ranking=ranking, selection=selection,
                         proposal=None)

    @page("POST", "/staff/calls/<call_id>/ranking", area="staff")
    def staff_propose(self, pg: Page, call_id: str) -> Response:
        ranking = pg.api.get(f"/api/review/calls/{quote(call_id)}/ranking")
        proposal = pg.api.post(f"/api/review/calls/{quote(call_id)}/selection/proposal",
                               json={"ranking_id": ranking["ranking_id"]})
        return pg.render("staff/ranking.html", call_id=call_id, ranking=ranking, selection=None, proposal=proposal)

    @page("POST", "/staff/calls/<call_id>/confirm", area="staff")
    def staff_confirm(self, pg: Page, call_id: str) -> Response:
        pg.api.post(f"/api/review/calls/{quote(call_id)}/selection/confirm",
                    json={"proposal_id": pg.form.get("proposal_id", ""), "reserves": int(pg.form.get("reserves") or 0)})
        return pg.redirect(f"/staff/calls/{call_id}/ranking", "confirmed")

    @page("GET", "/staff/notices/<notice_id>", area="staff")
    def staff_notice(self, pg: Page, notice_id: str) -> Response:
        notice = pg.api.get(f"/api/publish/staff/notices/{quote(notice_id)}")
        objections = pg.api.get(f"/api/publish/notices/{quote(notice_id)}/objections")["items"]
        return pg.render("staff/notice.html", notice=notice, objections=objections)

    @page("POST", "/staff/notices/<notice_id>/<action>", area="staff")
    def staff_notice_action(self, pg: Page, notice_id: str, action: str) -> Response:
        if action not in ("open", "close", "publish"):
            raise refuse("missing_field", field="action")
        pg.api.post(f"/api/publish/notices/{quote(notice_id)}/{action}", json={})
        return pg.redirect(f"/staff/notices/{notice_id}", {"open": "opened", "close": "closed",
                                                           "publish": "published"}[action])

    @page("POST", "/staff/notices/<notice_id>/objections/<objection_id>", area="staff")
    def staff_resolve(self, pg: Page, notice_id: str, objection_id: str) -> Response:
        pg.api.post(f"/api/publish/notices/{quote(notice_id)}/objections/{quote(objection_id)}/resolve",
                    json={"outcome": pg.form.get("outcome", ""), "note_zh": pg.form.get("note_zh", "")})
        return pg.redirect(f"/staff/notices/{notice_id}", "resolved")

    @page("GET", "/staff/accounts", area="staff")
    def staff_accounts(self, pg: Page) -> Response:
        with self.db as uow:
            people = handlers.repo(uow).all_accounts()
        return pg.render("staff/accounts.html", people=people, role_labels=ROLE_LABELS)

    @page("POST", "/staff/accounts", area="staff")
    def staff_invite(self, pg: Page) -> Response:
        f = pg.form
        with self.db as uow:
            handlers.invite(uow, email=f.get("email", ""), role=f.get("role", ""), name=f.get("name", ""),
                            unit_code=f.get("unit_code", "").strip() or None,
                            expert_id=f.get("expert_id", "").strip() or None, origin=self.origin,
                            ttl_s=self.env.invite_ttl_s)
        self.mail.kick()
        return pg.redirect("/staff/accounts", "invited")

    @page("GET", "/staff/search", area="staff")
    def staff_search(self, pg: Page) -> Response:
        q = pg.arg("q").strip()
        params = {k: v for k in SEARCH_FILTERS if (v := pg.arg(k))}
        result = pg.api.get("/api/review/search", params=params) if params else None
        return pg.render("staff/search.html", result=result, params=params, q=q, filters=SEARCH_FILTERS[1:])

    @page("GET", "/staff/duplicates", area="staff")
    def staff_duplicates(self, pg: Page) -> Response:
        showing = pg.arg("status", "open")
        listed = pg.api.get("/api/review/duplicates", params={"status": showing, "size": 100})
        return pg.render("staff/duplicates.html", items=listed["items"], showing=showing)

    @page("GET", "/staff/duplicates/<suspicion_id>", area="staff")
    def staff_duplicate(self, pg: Page, suspicion_id: str) -> Response:
        """The two projects side by side with the reasons for and against."""
        detail = pg.api.get(f"/api/review/duplicates/{quote(suspicion_id)}")
        sides = []
        for app_id in detail["application_ids"][:2]:
            try:
                sides.append(pg.api.get(f"/api/intake/applications/{quote(app_id)}"))
            except DomainError:
                sides.append({"id": app_id, "form": {}, "state": ""})
        return pg.render("staff/duplicate.html", d=detail, sides=sides)

    @page("GET", "/staff/projects/<app_id>/similar", area="staff")
    def staff_similar(self, pg: Page, app_id: str) -> Response:
        """The ranked review queue: the project's most similar others, flagged or not."""
        queue = pg.api.get(f"/api/review/duplicates/similar/{quote(app_id)}", params={"top_n": 10})
        return pg.render("staff/similar.html", q=queue, app_id=app_id)

    @page("POST", "/staff/duplicates/<suspicion_id>", area="staff")
    def staff_settle(self, pg: Page, suspicion_id: str) -> Response:
        f = pg.form
        body = {"outcome": f.get("outcome", ""), "note": f.get("note", "")}
        if body["outcome"] == "same_project":
            body.update(keep_id=f.get("keep_id") or None, action=f.get("action") or "withdrawn")
        pg.api.post(f"/api/review/duplicates/{quote(suspicion_id)}/settle", json=body)
        return pg.redirect(f"/staff/duplicates/{suspicion_id}", "settled")

    @page("GET", "/staff/reports", area="staff")
    def staff_reports(self, pg: Page) -> Response:
        items = pg.api.get("/api/publish/reports")["items"]
        return pg.render("reports.html", items=items, role="staff")

    @page("POST", "/staff/reports/<report_id>/<action>", area="staff")
    def staff_report_action(self, pg: Page, report_id: str, action: str) -> Response:
        if action not in ("accept", "return", "publish-case"):
            raise refuse("missing_field", field="action")
        body = {"note": pg.form.get("note", "")} if action == "return" else {}
        pg.api.post(f"/api/publish/reports/{quote(report_id)}/{action}", json=body)
        return pg.redirect("/staff/reports", "saved")

    @page("GET", "/unit/reports", area="unit")
    def unit_reports(self, pg: Page) -> Response:
        items = pg.api.get("/api/publish/reports")["items"]
        return pg.render("reports.html", items=items, role="unit")

    @page("POST", "/unit/reports/<report_id>/confirm", area="unit")
    def unit_confirm_report(self, pg: Page, report_id: str) -> Response:
        pg.api.post(f"/api/publish/reports/{quote(report_id)}/confirm", json={})
        return pg.redirect("/unit/reports", "saved")

    @page("GET", "/applicant/reports", area="applicant")
    def applicant_reports(self, pg: Page) -> Response:
        items = pg.api.get("/api/publish/reports")["items"]
        mine = pg.api.get("/api/intake/applications", params={"state": "forwarded", "limit": 200})["items"]
        return pg.render("reports.html", items=items, role="applicant", applications=mine)

    @page("POST", "/applicant/reports", area="applicant")
    def applicant_file_report(self, pg: Page) -> Response:
        f = pg.form
        pg.api.post("/api/publish/reports", json={"application_id": f.get("application_id", ""),
                                                  "kind": f.get("kind", "work_update"), "title": f.get("title", ""),
                                                  "body": f.get("body", "")})
        return pg.redirect("/applicant/reports", "submitted")

    # ------------------------------------------------------------------ the public
    @page("GET", "/public/notices/<notice_id>")
    def public_notice(self, pg: Page, notice_id: str) -> Response:
        notice = pg.service.api_for(None).get(f"/api/publish/notices/{quote(notice_id)}")
        return pg.render("public/notice.html", notice=notice)

    @page("GET", "/public/notices/<notice_id>/objection")
    def objection_form(self, pg: Page, notice_id: str) -> Response:
        notice = pg.service.api_for(None).get(f"/api/publish/notices/{quote(notice_id)}")
        return pg.render("public/objection.html", notice=notice, values={}, filed=None)

    @page("POST", "/public/notices/<notice_id>/objection")
    def objection(self, pg: Page, notice_id: str) -> Response:
        public = pg.service.api_for(None)
        notice = public.get(f"/api/publish/notices/{quote(notice_id)}")
        f = pg.form
        values = {k: f.get(k, "") for k in ("application_id", "name", "contact", "relation", "reason")}
        filed = public.post(f"/api/publish/notices/{quote(notice_id)}/objections", json=values,
                            headers={"X-Forwarded-For": pg.request.remote_addr or ""})
        return pg.render("public/objection.html", notice=notice, values={}, filed=filed)

    @page("GET", "/public/objections")
    def objection_status(self, pg: Page) -> Response:
        code = pg.arg("code").strip()
        found = pg.service.api_for(None).get(f"/api/publish/objections/{quote(code)}") if code else None
        return pg.render("public/objection_status.html", code=code, objection=found)


def _public_notices(pg: Page) -> list[dict]:
    try:
        return pg.service.api_for(None).get("/api/publish/notices")["items"]
    except DomainError:
        return []


def _criteria(view: dict) -> list[dict]:
    found = view.get("criteria") or []
    if found:
        return found
    return [{"code": c, "label": c, "weight": 1, "max_score": 10} for c in CRITERIA]


_FIELDS = {
    "project_name": ("project_name",), "category": ("category",), "unit_code": ("unit_code",),
    "started_on": ("started_on",), "summary": ("summary",), "implementation_results": ("implementation_results",),
    "innovation": ("innovation",), "applicant_name": ("applicant", "name"), "applicant_type": ("applicant", "type"),
    "credit_code": ("applicant", "credit_code"), "province": ("applicant", "province"),
    "address": ("applicant", "address"), "contact_name": ("contact", "name"), "contact_title": ("contact", "title"),
    "mobile": ("contact", "mobile"), "email": ("contact", "email"), "approval_department": ("approval", "department"),
    "approval_no": ("approval", "document_no"), "website": ("platform", "website"),
}


def _form_from_fields(current: dict, fields: Any) -> dict:
    """The draft's form with the page's fields written in; an emptied field is removed."""
    form = {k: (dict(v) if isinstance(v, dict) else v) for k, v in current.items()}
    for name, path in _FIELDS.items():
        if name not in fields:
            continue
        value = fields.get(name, "").strip()
        target = form
        for key in path[:-1]:
            target = target.setdefault(key, {})
        if value:
            target[path[-1]] = value
        else:
            target.pop(path[-1], None)
    if "still_running" in fields or "started_on" in fields:
        form["still_running"] = fields.get("still_running") == "yes"
    if "beneficiaries" in fields:
        raw = fields.get("beneficiaries", "").strip()
        if raw.isdigit():
            form["beneficiaries"] = int(raw)
        else:
            form.pop("beneficiaries", None)
    return form
