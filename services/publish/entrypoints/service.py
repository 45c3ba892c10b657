"""The publish nameko service: notices, objections, final lists, public pages, reports.

Thin: every rule is in domain/, every use case in handlers.py; this class maps HTTP, events and
the publication timer onto them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from nameko.timer import timer

from gongyi import pii
from gongyi.config import load_settings
from gongyi.dependencies import Database, SettingsProvider
from gongyi.errors import TooManyRequests
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database
from gongyi.http.api import PUBLIC, Api, error_response
from gongyi.http.auth import Principal
from gongyi.http.platform import platform_routes
from services.publish import handlers, site
from services.publish.domain.exports import export
from services.publish.domain.feeds import atom_feed, case_entry, list_entry
from services.publish.domain.public_view import public_entry
from services.publish.domain.year_end import year_end_pdf, year_end_xlsx
from services.publish.entrypoints import views
from services.publish.entrypoints.dependencies import ObjectionRateLimit
from services.publish.entrypoints.pages import (
    render_case_page,
    render_final_list_page,
    render_notice_page,
    render_project_page,
)
from services.publish.entrypoints.schemas import (
    CaseIn,
    CaseList,
    CaseOut,
    FormatQuery,
    NoticeList,
    NoticeListQuery,
    ObjectionIn,
    ObjectionReceipt,
    ObjectionStatusOut,
    OpenIn,
    PublicNoticeOut,
    ReportIn,
    ReportList,
    ReportListQuery,
    ReportOut,
    ReportResubmitIn,
    ReportReviewIn,
    ResolveIn,
    ScheduleIn,
    StaffNoticeOut,
    StaffObjectionList,
)
from services.publish.storage.repository import CallRepository, CaseRepository, NoticeRepository, ReportRepository

api = Api("publish", "gongyi publish API", "Public notice, objections, final lists, showcase and reports.")
PUBLISH_TIMER_SECONDS = 30
REMINDER_TIMER_SECONDS = load_settings().reminder_interval_s

NOTICE_404 = (404, "notice_not_found", "no such notice")
STATE_409 = (409, "invalid_notice_state", "the notice is not in a state that allows this")
LOCK_409 = (409, "concurrent_update", "changed by someone else meanwhile")
NOT_PUBLISHED = (404, "list_not_published", "the final list is not published yet")
REPORT_404 = (404, "report_not_found", "no such report visible to the caller")
FORMAT_415 = (415, "unsupported_export_format", "format is not csv, xlsx or pdf")
# who files and reads progress reports: the project's team, its recommending unit, staff
REPORTERS = ("applicant", "unit", "staff")
FILES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf")


class PublishService(platform_routes(api)):
    name = "publish"
    db = Database()
    settings = SettingsProvider()
    objection_limit = ObjectionRateLimit()

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
        }

    # -- events from other services
    @event_handler("intake", "call.loaded.v1")
    def on_call_loaded(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_call(uow, event)

    @event_handler("intake", "application.created.v1")
    def on_application_created(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("intake", "application.submitted.v1")
    def on_application_submitted(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("intake", "application.returned.v1")
    def on_application_returned(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("intake", "application.rejected.v1")
    def on_application_rejected(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("intake", "application.endorsed.v1")
    def on_application_endorsed(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("intake", "application.forwarded.v1")
    def on_application_forwarded(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("intake", "application.withdrawn.v1")
    def on_application_withdrawn(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_application(uow, event)

    @event_handler("review", "selection.confirmed.v1")
    def on_selection_confirmed(self, event: dict) -> None:
        with self.db as uow:
            handlers.create_draft(uow, event)

    @event_handler("review", "screening.decided.v1")
    def on_screening_decided(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_screening(uow, event)

    @event_handler("review", "review.submitted.v1")
    def on_review_submitted(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_review(uow, event)

    @timer(interval=PUBLISH_TIMER_SECONDS)
    def publish_due_lists(self) -> None:
        with self.db as uow:
            handlers.publish_due(uow)

    @timer(interval=REMINDER_TIMER_SECONDS)
    def send_report_reminders(self) -> None:
        with self.db as uow:
            handlers.send_report_reminders(uow)

    # -- public: notices and lists
    @api.route("GET", "/notices", summary="Notices and published lists / 公示与名单", roles=PUBLIC,
               query=NoticeListQuery, response=NoticeList)
    def list_notices(self, query: NoticeListQuery) -> dict:
        with self.db as uow:
            # rehearsals only when asked for by call id, never in the general public list
            hidden = None if query.call_id else CallRepository(uow.session).rehearsal_ids()
            items = NoticeRepository(uow.session).list(
                call_id=query.call_id, states=("open", "closed", "scheduled", "published"),
                limit=query.limit, offset=query.offset, exclude_calls=hidden,
            )
            return {"items": [views.public_notice(n) for n in items]}

    @api.route("GET", "/notices/{notice_id}", summary="A notice or final list (public) / 公示详情", roles=PUBLIC,
               response=PublicNoticeOut, errors=[NOTICE_404])
    def get_notice(self, notice_id: str) -> dict:
        with self.db as uow:
            return views.public_notice(handlers.get_notice(uow, notice_id, public=True))

    @api.route("GET", "/notices/{notice_id}/page.html", summary="Notice page / 公示页面", roles=PUBLIC,
               produces=("text/html",), errors=[NOTICE_404])
    def notice_page(self, notice_id: str):  # noqa: ANN201
        with self.db as uow:
            notice = handlers.get_notice(uow, notice_id, public=True)
        return views.html(render_notice_page(notice, objection_url=f"{site.base_url()}/objections/new"))

    @api.route("GET", "/notices/{notice_id}/final.html", summary="Final list page / 入选名单页面", roles=PUBLIC,
               produces=("text/html",), errors=[NOTICE_404, NOT_PUBLISHED])
    def final_list_page(self, notice_id: str):  # noqa: ANN201
        with self.db as uow:
            notice = handlers.published_notice(uow, notice_id)
        return views.html(render_final_list_page(notice))

    @api.route("GET", "/notices/{notice_id}/projects/{application_id}.html",
               summary="A selected project's page / 入选项目页面", roles=PUBLIC, produces=("text/html",),
               errors=[NOTICE_404, NOT_PUBLISHED, (404, "project_not_found", "not on the final list")])
    def project_page(self, notice_id: str, application_id: str):  # noqa: ANN201
        with self.db as uow:
            notice = handlers.published_notice(uow, notice_id)
            cases = CaseRepository(uow.session).list(application_id=application_id)
        entry = next((e for e in notice.final_list() if e.application_id == application_id), None)
        if entry is None:
            raise views.project_not_on_list(application_id)
        return views.html(render_project_page(
            public_entry(entry, publish_scores=notice.publish_scores), call_name=notice.call_name,
            cases=views.case_links(cases), list_url="../final.html",
        ))

    @api.route("GET", "/notices/{notice_id}/export.{fmt}", summary="Export the notice (csv|xlsx|pdf) / 导出公示",
               roles=PUBLIC, produces=FILES, errors=[NOTICE_404, FORMAT_415])
    def export_notice(self, notice_id: str, fmt: str):  # noqa: ANN201
        with self.db as uow:
            notice = handlers.get_notice(uow, notice_id, public=True)
        return views.file(*export(notice, final=False, fmt=fmt))

    @api.route("GET", "/notices/{notice_id}/final-list/export.{fmt}",
               summary="Export the final list (csv|xlsx|pdf) / 导出入选名单", roles=PUBLIC, produces=FILES,
               errors=[NOTICE_404, NOT_PUBLISHED, FORMAT_415])
    def export_final_list(self, notice_id: str, fmt: str):  # noqa: ANN201
        with self.db as uow:
            notice = handlers.published_notice(uow, notice_id)
        return views.file(*export(notice, final=True, fmt=fmt))

    @api.route("GET", "/feed.atom", summary="Atom feed of lists and cases / 订阅", roles=PUBLIC,
               produces=("application/atom+xml",))
    def feed(self):  # noqa: ANN201
        base, authority = site.base_url() + "/api/publish", site.authority()
        with self.db as uow:
            hidden = CallRepository(uow.session).rehearsal_ids()  # a rehearsal never reaches a feed
            lists = NoticeRepository(uow.session).list(states=("published",), limit=50, exclude_calls=hidden)
            cases = CaseRepository(uow.session).list(limit=50, exclude_calls=hidden)
        entries = [list_entry(n, base_url=base, authority=authority) for n in lists]
        entries += [case_entry(c, base_url=base, authority=authority) for c in cases]
        body = atom_feed(
            feed_id=f"tag:{authority},2024:feed", title="网络公益项目征集：入选名单与典型案例",
            self_url=f"{base}/feed.atom", site_url=site.base_url(), entries=entries,
            updated=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )
        from werkzeug.wrappers import Response

        return Response(body, status=200, content_type=views.ATOM)

    # -- public: objections
    @api.route("POST", "/notices/{notice_id}/objections", summary="File an objection / 提出异议", roles=PUBLIC,
               body=ObjectionIn, response=ObjectionReceipt, status=201, pass_request=True,
               errors=[NOTICE_404, LOCK_409,
                       (404, "project_not_on_notice", "the project is not on this notice"),
                       (409, "notice_not_open", "the notice is not open"),
                       (409, "notice_period_ended", "the notice period is over"),
                       (409, "objection_already_upheld", "the same person's objection was already upheld"),
                       (429, "rate_limited", "too many submissions from this address (Retry-After)")])
    def file_objection(self, notice_id: str, body: ObjectionIn, request):  # noqa: ANN001, ANN201
        """Anyone may object while the notice is open. The objector's identity is confidential:
        it is kept for staff only and never appears in any public output or event. Evidence ids
        (uploaded through media) are accepted as given; their ownership is not checked."""
        try:
            # per real client (X-Forwarded-For from a trusted proxy, gongyi/http/forwarded.py) and per
            # notice: one person's objections to one list (docs/publish.md)
            self.objection_limit.check(f"{request.client_address}|{notice_id}")
        except TooManyRequests as exc:
            response = error_response(exc)
            response.headers["Retry-After"] = str(exc.details.get("retry_after", 60))
            return response
        payload = body.model_dump(exclude={"application_id"})
        with self.db as uow:
            return handlers.file_objection(uow, notice_id, body.application_id, payload)

    @api.route("GET", "/objections/{code}", summary="Objection status by tracking code / 异议处理进度",
               roles=PUBLIC, response=ObjectionStatusOut,
               errors=[(404, "objection_not_found", "no objection with this code")])
    def objection_status(self, code: str) -> dict:
        with self.db as uow:
            return handlers.objection_status(uow, code)

    # -- staff: the notice lifecycle
    @api.route("GET", "/staff/notices", summary="All notices incl. drafts (staff) / 公示管理", roles=("staff",),
               query=NoticeListQuery, response=NoticeList)
    def staff_list_notices(self, principal: Principal, query: NoticeListQuery) -> dict:
        with self.db as uow:
            items = NoticeRepository(uow.session).list(call_id=query.call_id, limit=query.limit, offset=query.offset)
            return {"items": [views.public_notice(n) for n in items]}

    @api.route("GET", "/staff/notices/{notice_id}", summary="A notice with reserves (staff) / 公示详情（管理）",
               roles=("staff",), response=StaffNoticeOut, errors=[NOTICE_404])
    def staff_get_notice(self, principal: Principal, notice_id: str) -> dict:
        with self.db as uow:
            notice = handlers.get_notice(uow, notice_id, public=False)
            return views.staff_notice(notice, handlers.key_dates(uow, notice.call_id))

    def _staff_view(self, uow, notice) -> dict:  # noqa: ANN001
        return views.staff_notice(notice, handlers.key_dates(uow, notice.call_id))

    @api.route("POST", "/notices/{notice_id}/open", summary="Open the notice period / 开始公示", roles=("staff",),
               body=OpenIn, response=StaffNoticeOut,
               errors=[NOTICE_404, STATE_409, LOCK_409, (503, "calendar_unavailable", "no holiday data for the year")])
    def open_notice(self, principal: Principal, notice_id: str, body: OpenIn) -> dict:
        with self.db as uow:
            return self._staff_view(uow, handlers.open_notice(uow, notice_id, body.working_days))

    @api.route("GET", "/notices/{notice_id}/objections", summary="Objections with identities (staff) / 异议列表",
               roles=("staff",), response=StaffObjectionList, errors=[NOTICE_404])
    def list_objections(self, principal: Principal, notice_id: str) -> dict:
        with self.db as uow:
            notice = handlers.get_notice(uow, notice_id, public=False)
            return {"items": views.staff_objections(notice, pii.may_see_personal_data(principal))}

    @api.route("POST", "/notices/{notice_id}/objections/{objection_id}/resolve",
               summary="Resolve an objection / 处理异议", roles=("staff",), body=ResolveIn, response=StaffNoticeOut,
               errors=[NOTICE_404, STATE_409, LOCK_409, (404, "objection_not_found", "no such objection"),
                       (409, "objection_already_resolved", "already resolved")])
    def resolve_objection(self, principal: Principal, notice_id: str, objection_id: str, body: ResolveIn) -> dict:
        with self.db as uow:
            notice = handlers.resolve_objection(
                uow, notice_id, objection_id, upheld=body.outcome == "upheld", note_zh=body.note_zh,
                by=principal.sub, replace=body.replace, no_replacement_reason_zh=body.no_replacement_reason_zh,
            )
            return self._staff_view(uow, notice)

    @api.route("POST", "/notices/{notice_id}/close", summary="Close the notice / 结束公示", roles=("staff",),
               response=StaffNoticeOut,
               errors=[NOTICE_404, STATE_409, LOCK_409,
                       (409, "notice_period_not_over", "the period has not ended"),
                       (409, "unresolved_objections", "objections are still unresolved")])
    def close_notice(self, principal: Principal, notice_id: str) -> dict:
        with self.db as uow:
            return self._staff_view(uow, handlers.close_notice(uow, notice_id))

    @api.route("POST", "/notices/{notice_id}/publish", summary="Publish the final list now / 发布入选名单",
               roles=("staff",), response=StaffNoticeOut,
               errors=[NOTICE_404, STATE_409, LOCK_409, (409, "publication_not_due", "scheduled for later")])
    def publish_list(self, principal: Principal, notice_id: str) -> dict:
        with self.db as uow:
            return self._staff_view(uow, handlers.publish_now(uow, notice_id))

    @api.route("POST", "/notices/{notice_id}/schedule", summary="Schedule publication / 定时发布",
               roles=("staff",), body=ScheduleIn, response=StaffNoticeOut,
               errors=[NOTICE_404, STATE_409, LOCK_409, (400, "schedule_in_past", "the moment has passed")])
    def schedule_list(self, principal: Principal, notice_id: str, body: ScheduleIn) -> dict:
        with self.db as uow:
            notice = handlers.schedule_publication(uow, notice_id, publish_at=body.publish_at, key_date=body.key_date)
            return self._staff_view(uow, notice)

    @api.route("POST", "/notices/{notice_id}/unschedule", summary="Cancel scheduled publication / 取消定时发布",
               roles=("staff",), response=StaffNoticeOut, errors=[NOTICE_404, STATE_409, LOCK_409])
    def unschedule_list(self, principal: Principal, notice_id: str) -> dict:
        with self.db as uow:
            return self._staff_view(uow, handlers.unschedule(uow, notice_id))

    # -- reports and cases
    @api.route("POST", "/reports", summary="Submit a progress report / 信息报送", roles=REPORTERS,
               body=ReportIn, response=ReportOut, status=201,
               errors=[(404, "project_not_found", "not a project of the caller's unit or organisation"),
                       (409, "project_not_selected", "the project is not on a published list")])
    def submit_report(self, principal: Principal, body: ReportIn) -> dict:
        """The selected project's own team (role ``applicant`` whose ``org`` is the credit code the
        project applied with; its report waits for the unit's confirmation, state ``awaiting_unit``),
        its recommending unit (scope ``unit`` equal to the project's unit code) or staff file reports;
        the unit's and staff's go straight to review (``submitted``)."""
        with self.db as uow:
            return handlers.submit_report(uow, principal, body.model_dump())

    @api.route("GET", "/reports", summary="Reports visible to the caller / 报送列表", roles=REPORTERS,
               query=ReportListQuery, response=ReportList)
    def list_reports(self, principal: Principal, query: ReportListQuery) -> dict:
        scope = {"staff": {}, "unit": {"unit_code": principal.unit or "-"},
                 "applicant": {"applicant_org": (principal.org or "-").upper()}}[principal.role]
        with self.db as uow:
            items = ReportRepository(uow.session).list(
                call_id=query.call_id, state=query.state, application_id=query.application_id,
                limit=query.limit, offset=query.offset, **scope,
            )
        return {"items": [handlers.report_view(*_report_parts(i)) for i in items]}

    @api.route("GET", "/reports/{report_id}", summary="One report / 报送详情", roles=REPORTERS,
               response=ReportOut, errors=[REPORT_404])
    def get_report(self, principal: Principal, report_id: str) -> dict:
        with self.db as uow:
            return handlers.get_report(uow, principal, report_id)

    @api.route("POST", "/reports/{report_id}/accept", summary="Accept a report / 审核通过", roles=("staff",),
               body=ReportReviewIn, response=ReportOut,
               errors=[REPORT_404, LOCK_409, (409, "report_not_submitted", "not awaiting review")])
    def accept_report(self, principal: Principal, report_id: str, body: ReportReviewIn) -> dict:
        with self.db as uow:
            return handlers.review_report(uow, principal, report_id, accept=True, note=body.note)

    @api.route("POST", "/reports/{report_id}/return", summary="Return a report / 退回修改",
               roles=("unit", "staff"), body=ReportReviewIn, response=ReportOut,
               errors=[REPORT_404, LOCK_409, (409, "report_not_submitted", "staff: not awaiting review"),
                       (409, "report_not_awaiting_unit", "unit: not a team's report awaiting confirmation"),
                       (422, "invalid_input", "a note is required")])
    def return_report(self, principal: Principal, report_id: str, body: ReportReviewIn) -> dict:
        """Staff return a report under review; the project's unit returns its team's report before
        confirming it. Either way the note says why."""
        with self.db as uow:
            return handlers.review_report(uow, principal, report_id, accept=False, note=body.note)

    @api.route("POST", "/reports/{report_id}/confirm", summary="Confirm the team's report / 推荐单位确认",
               roles=("unit",), response=ReportOut,
               errors=[REPORT_404, LOCK_409,
                       (409, "report_not_awaiting_unit", "not a team's report awaiting confirmation")])
    def confirm_report(self, principal: Principal, report_id: str) -> dict:
        """The project's recommending unit confirms a report its team filed: it goes to staff review."""
        with self.db as uow:
            return handlers.confirm_report(uow, principal, report_id)

    @api.route("POST", "/reports/{report_id}/resubmit", summary="Revise and resubmit / 修改后重新报送",
               roles=REPORTERS, body=ReportResubmitIn, response=ReportOut,
               errors=[REPORT_404, LOCK_409, (409, "report_not_returned", "only a returned report")])
    def resubmit_report(self, principal: Principal, report_id: str, body: ReportResubmitIn) -> dict:
        with self.db as uow:
            return handlers.resubmit_report(uow, principal, report_id, body.title, body.body)

    @api.route("POST", "/reports/{report_id}/publish-case", summary="Publish as a typical case / 发布典型案例",
               roles=("staff",), body=CaseIn, response=CaseOut, status=201,
               errors=[REPORT_404, (409, "report_not_accepted", "only accepted reports"),
                       (409, "case_already_published", "already in the case library")])
    def publish_case(self, principal: Principal, report_id: str, body: CaseIn) -> dict:
        with self.db as uow:
            return handlers.publish_case(uow, report_id, title=body.title, summary=body.summary)

    @api.route("GET", "/cases", summary="Typical case library / 典型案例", roles=PUBLIC, query=NoticeListQuery,
               response=CaseList)
    def list_cases(self, query: NoticeListQuery) -> dict:
        with self.db as uow:
            hidden = None if query.call_id else CallRepository(uow.session).rehearsal_ids()
            items = CaseRepository(uow.session).list(call_id=query.call_id, limit=query.limit, offset=query.offset,
                                                     exclude_calls=hidden)
        return {"items": [c.public_dict() for c in items]}

    @api.route("GET", "/cases/{case_id}", summary="A typical case / 典型案例详情", roles=PUBLIC, response=CaseOut,
               errors=[(404, "case_not_found", "no such case")])
    def get_case(self, case_id: str) -> dict:
        with self.db as uow:
            return CaseRepository(uow.session).get(case_id).public_dict()

    @api.route("GET", "/cases/{case_id}/page.html", summary="A typical case's page / 典型案例页面", roles=PUBLIC,
               produces=("text/html",), errors=[(404, "case_not_found", "no such case")])
    def case_page(self, case_id: str):  # noqa: ANN201
        with self.db as uow:
            case = CaseRepository(uow.session).get(case_id)
        return views.html(render_case_page(case.title, case.project_name, case.summary, case.published_at))

    # -- year-end summary
    @api.route("GET", "/calls/{call_id}/summary", summary="Year-end summary (json|xlsx|pdf) / 年度总结",
               roles=("staff",), query=FormatQuery, produces=("application/json", *FILES[1:]),
               errors=[(404, "call_not_found", "publish has not received this call")])
    def year_end_summary(self, principal: Principal, call_id: str, query: FormatQuery):  # noqa: ANN201
        with self.db as uow:
            summary = handlers.year_end(uow, call_id)
        title = f"{summary['call_title']} 年度总结"
        if query.format == "xlsx":
            return views.file(year_end_xlsx(summary, title), FILES[1], f"{call_id}-summary.xlsx")
        if query.format == "pdf":
            return views.file(year_end_pdf(summary, title), FILES[2], f"{call_id}-summary.pdf")
        return summary


def _report_parts(item: dict) -> tuple:
    from services.publish.storage.documents import report_from_doc

    return report_from_doc(item), item["call_id"], item["unit_code"]
