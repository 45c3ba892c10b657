"""The intake nameko service: HTTP for applicants, units and staff. Thin: the work is in handlers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from nameko.rpc import RpcProxy
from werkzeug.wrappers import Response

from gongyi.db import UnitOfWork
from gongyi.dependencies import Database, SettingsProvider
from gongyi.errors import PayloadTooLarge, UnsupportedMediaType
from gongyi.events.consumer import event_handler
from gongyi.health import check_broker, check_database
from gongyi.http.api import PUBLIC, Api
from gongyi.http.auth import Principal
from gongyi.http.platform import platform_routes
from gongyi.pii import form_for
from services.intake import handlers
from services.intake.domain.applications import Application
from services.intake.domain.xlsx_import import build_template
from services.intake.entrypoints.evidence import media_evidence_summary
from services.intake.entrypoints.schemas import (
    ApplicationCreateIn,
    ApplicationList,
    ApplicationListQuery,
    ApplicationOut,
    BatchIn,
    BatchOut,
    CallLoadIn,
    CallLoadOut,
    DeadlinesIn,
    FormIn,
    ImportQuery,
    ImportReport,
    OpinionIn,
    OptionalReasonIn,
    ReasonIn,
    WindowIn,
)
from services.intake.storage.repository import ApplicationRepository, CallRepository

api = Api("intake", "gongyi intake API", "Calls, the recommendation form (推荐表), recommending units' vetting.")
NOT_FOUND = (404, "application_not_found", "no such application visible to the caller")
BAD_STATE = (409, "invalid_transition", "the application is not in a state that allows this")
EVIDENCE_DOWN = (503, "evidence_check_unavailable", "the media service did not answer; nothing was submitted")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 20 << 20
# who sees review's duplicate findings: the unit (before forwarding) and staff, never the applicant
SEES_DUPLICATE_FLAGS = ("unit", "staff")


def _out(uow: UnitOfWork, app: Application, duplicate_flags: list[dict[str, Any]] | None = None,
         principal: Principal | None = None) -> ApplicationOut:
    """``principal``: whose view (gongyi/pii.py). The applicant and its vetting unit see the contact;
    staff only with the ``pii`` claim."""
    return ApplicationOut(
        evidence_warnings=handlers.evidence_warnings_for(uow, app),
        id=app.id,
        call_id=app.call_id,
        call_version=app.call_version,
        state=app.state.value,
        state_label_zh=app.state_label_zh,
        unit_code=app.unit_code,
        form=form_for(principal, app.form, owner=principal is not None and principal.role == "applicant",
                      vetting_unit=principal is not None and principal.role == "unit"),
        unit_opinion=app.unit_opinion,
        reason=app.reason,
        batch_id=app.batch_id,
        submitted_at=app.submitted_at,
        forwarded_at=app.forwarded_at,
        history=app.history,
        imported_by=app.imported_by,
        duplicate_flags=duplicate_flags,
    )


class IntakeService(platform_routes(api)):
    name = "intake"
    db = Database()
    settings = SettingsProvider()
    media = RpcProxy("media")

    def readiness_checks(self) -> dict[str, Callable[[], None]]:
        return {
            "database": lambda: check_database(self.db.session.get_bind()),
            "broker": lambda: check_broker(self.settings.amqp_uri),
        }

    # -- calls
    @api.route("GET", "/calls", summary="List calls / 征集活动列表", roles=PUBLIC)
    def list_calls(self) -> dict:
        with self.db as uow:
            return {"items": CallRepository(uow.session).list()}

    @api.route(
        "GET",
        "/calls/{call_id}",
        summary="A call's current rules / 征集活动规则",
        roles=PUBLIC,
        errors=[(404, "call_not_found", "no such call")],
    )
    def get_call(self, call_id: str) -> dict:
        with self.db as uow:
            version, document = CallRepository(uow.session).current(call_id)
            return {"version": version, "document": document}

    @api.route(
        "POST",
        "/calls",
        summary="Load a call document (new version) / 加载征集活动配置",
        roles=("staff",),
        body=CallLoadIn,
        response=CallLoadOut,
        errors=[(409, "rule_change_needs_acknowledgement", "tightening rules with accepted applications")],
    )
    def load_call(self, principal: Principal, body: CallLoadIn) -> dict:
        with self.db as uow:
            return handlers.load_call(uow, body.document, principal.sub, body.note, body.acknowledge_changes)

    @api.route(
        "PUT",
        "/calls/{call_id}/window",
        summary="Change a call's window (new version) / 调整征集时间",
        roles=("staff",),
        body=WindowIn,
        response=CallLoadOut,
        errors=[
            (404, "call_not_found", "no such call"),
            (409, "rule_change_needs_acknowledgement", "shortening with accepted applications"),
        ],
    )
    def change_window(self, principal: Principal, call_id: str, body: WindowIn) -> dict:
        with self.db as uow:
            return handlers.change_window(
                uow, principal, call_id, body.closes, body.opens, body.note, body.acknowledge_changes
            )

    @api.route(
        "PUT",
        "/calls/{call_id}/deadlines",
        summary="Set the review and tracking-report deadlines (new version) / 设置评审与跟踪报告截止时间",
        roles=("staff",),
        body=DeadlinesIn,
        response=CallLoadOut,
        errors=[(404, "call_not_found", "no such call")],
    )
    def change_deadlines(self, principal: Principal, call_id: str, body: DeadlinesIn) -> dict:
        with self.db as uow:
            return handlers.change_deadlines(uow, principal, call_id, body.model_dump())

    # -- applications
    @api.route(
        "POST",
        "/applications",
        summary="Create a draft application, or create and submit it / 新建申报草稿（或创建并提交）",
        roles=("applicant",),
        body=ApplicationCreateIn,
        response=ApplicationOut,
        status=201,
        errors=[
            (404, "call_not_found", "no such call"),
            (422, "call_closed", "the window is closed"),
            (409, "duplicate_application", "with submit: same organisation and project name"),
            (422, "invalid_input", "the form breaks a rule (with submit: every submission rule)"),
            EVIDENCE_DOWN,
        ],
    )
    def create_application(self, principal: Principal, body: ApplicationCreateIn) -> ApplicationOut:
        with self.db as uow:
            summary = media_evidence_summary(self.media) if body.submit else None
            return _out(
                uow,
                handlers.create_application(
                    uow, principal, body.call_id, body.form, submit=body.submit, evidence_summary=summary
                ),
                principal=principal,
            )

    @api.route(
        "GET",
        "/applications",
        summary="Applications visible to the caller / 可见的申报列表",
        roles=("applicant", "unit", "staff"),
        query=ApplicationListQuery,
        response=ApplicationList,
    )
    def list_applications(self, principal: Principal, query: ApplicationListQuery) -> dict:
        scope = {
            "applicant": {"applicant_sub": principal.sub},
            "unit": {"unit_code": principal.unit or "-"},
            "staff": {},
        }[principal.role]
        with self.db as uow:
            rows = ApplicationRepository(uow.session).list(
                call_id=query.call_id, state=query.state, limit=query.limit, offset=query.offset, **scope
            )
            flags = (
                handlers.duplicate_flags_for(uow, [r["id"] for r in rows])
                if principal.role in SEES_DUPLICATE_FLAGS
                else {}
            )
        items = []
        for r in rows:
            item = {k: r[k] for k in ("id", "call_id", "state", "unit_code", "project_name", "updated_at")}
            sub = r["applicant_sub"]
            item["imported_by"] = sub.split(":", 1)[1] if sub.startswith("unit-import:") else None
            item["duplicate_flags"] = flags.get(r["id"]) if principal.role in SEES_DUPLICATE_FLAGS else None
            items.append(item)
        return {"items": items}

    @api.route(
        "GET",
        "/applications/{app_id}",
        summary="One application / 申报详情",
        roles=("applicant", "unit", "staff"),
        response=ApplicationOut,
        errors=[NOT_FOUND],
    )
    def get_application(self, principal: Principal, app_id: str) -> ApplicationOut:
        with self.db as uow:
            app = ApplicationRepository(uow.session).get(app_id)
            handlers.ensure_visible(principal, app)
            if principal.role not in SEES_DUPLICATE_FLAGS:
                return _out(uow, app, principal=principal)
            return _out(uow, app, handlers.duplicate_flags_for(uow, [app.id])[app.id], principal)

    @api.route(
        "PUT",
        "/applications/{app_id}/form",
        summary="Save the form (draft) / 保存申报表",
        roles=("applicant",),
        body=FormIn,
        response=ApplicationOut,
        errors=[NOT_FOUND, (409, "form_frozen", "the form can no longer be edited")],
    )
    def save_form(self, principal: Principal, app_id: str, body: FormIn) -> ApplicationOut:
        with self.db as uow:
            return _out(uow, handlers.update_form(uow, principal, app_id, body.form), principal=principal)

    @api.route(
        "POST",
        "/applications/{app_id}/submit",
        summary="Submit to the recommending unit / 提交至推荐单位",
        roles=("applicant",),
        response=ApplicationOut,
        errors=[
            NOT_FOUND,
            BAD_STATE,
            (409, "duplicate_application", "same organisation and project name"),
            (422, "invalid_input", "the form is incomplete or breaks a rule (evidence_not_found: not the applicant's)"),
            EVIDENCE_DOWN,
        ],
    )
    def submit(self, principal: Principal, app_id: str) -> ApplicationOut:
        with self.db as uow:
            app = handlers.submit(uow, principal, app_id, evidence_summary=media_evidence_summary(self.media))
            return _out(uow, app, principal=principal)

    @api.route(
        "POST",
        "/applications/{app_id}/withdraw",
        summary="Withdraw / 撤回申报",
        roles=("applicant", "staff"),
        body=OptionalReasonIn,
        response=ApplicationOut,
        errors=[NOT_FOUND, BAD_STATE],
    )
    def withdraw(self, principal: Principal, app_id: str, body: OptionalReasonIn) -> ApplicationOut:
        with self.db as uow:
            return _out(uow, handlers.withdraw(uow, principal, app_id, body.reason), principal=principal)

    @api.route(
        "POST",
        "/applications/{app_id}/endorse",
        summary="Unit endorses with an opinion / 推荐单位审核同意",
        roles=("unit",),
        body=OpinionIn,
        response=ApplicationOut,
        errors=[
            NOT_FOUND,
            BAD_STATE,
            (409, "duplicate_application", "an imported draft: same organisation and project name"),
            (422, "invalid_input", "an imported draft is incomplete or breaks a rule"),
            EVIDENCE_DOWN,
        ],
    )
    def endorse(self, principal: Principal, app_id: str, body: OpinionIn) -> ApplicationOut:
        """Endorse a submitted application; or a draft this unit imported from XLSX, which must then
        pass every submission rule (the endorsement is its submission)."""
        with self.db as uow:
            return _out(
                uow,
                handlers.unit_decision(
                    uow, principal, app_id, "endorse", body.opinion, media_evidence_summary(self.media)
                )
            )

    @api.route(
        "POST",
        "/applications/{app_id}/return",
        summary="Unit returns for revision / 退回修改",
        roles=("unit",),
        body=ReasonIn,
        response=ApplicationOut,
        errors=[NOT_FOUND, BAD_STATE],
    )
    def return_for_revision(self, principal: Principal, app_id: str, body: ReasonIn) -> ApplicationOut:
        with self.db as uow:
            app = handlers.unit_decision(uow, principal, app_id, "return", body.reason)
            return _out(uow, app, principal=principal)

    @api.route(
        "POST",
        "/applications/{app_id}/reject",
        summary="Unit rejects / 推荐单位不予推荐",
        roles=("unit",),
        body=ReasonIn,
        response=ApplicationOut,
        errors=[NOT_FOUND, BAD_STATE],
    )
    def reject(self, principal: Principal, app_id: str, body: ReasonIn) -> ApplicationOut:
        with self.db as uow:
            app = handlers.unit_decision(uow, principal, app_id, "reject", body.reason)
            return _out(uow, app, principal=principal)

    @api.route(
        "POST",
        "/batches",
        summary="Forward endorsed applications together / 推荐单位统一申报",
        roles=("unit",),
        body=BatchIn,
        response=BatchOut,
        status=201,
        errors=[
            (
                409,
                "batch_refused",
                "an item cannot be forwarded (its error per item, e.g. unit_quota_exceeded); nothing was",
            ),
            (409, "idempotency_key_reused", "the key names a different batch"),
        ],
    )
    def forward_batch(self, principal: Principal, body: BatchIn) -> tuple[int, dict]:
        with self.db as uow:
            return handlers.forward_batch(
                uow, principal, body.application_ids, body.idempotency_key, endorse_opinion=body.endorse_opinion
            )

    # -- bulk entry
    @api.route(
        "GET",
        "/calls/{call_id}/template.xlsx",
        summary="XLSX template for bulk entry / 推荐表批量填报模板",
        roles=("unit",),
        produces=(XLSX,),
        errors=[(404, "call_not_found", "no such call")],
    )
    def import_template(self, principal: Principal, call_id: str) -> Response:
        with self.db as uow:
            _, call = handlers.call_document(uow, call_id)
        name = quote(f"推荐表模板-{call_id}.xlsx")
        return Response(
            build_template(call),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename=template-{call_id}.xlsx; filename*=UTF-8''{name}"},
        )

    @api.route(
        "POST",
        "/imports",
        summary="Import a filled template: one draft per row / 批量导入推荐表",
        roles=("unit",),
        query=ImportQuery,
        response=ImportReport,
        status=201,
        raw_body=XLSX,
        pass_request=True,
        errors=[
            (403, "unit_not_in_call", "the unit is not a recommending unit of the call"),
            (404, "call_not_found", "no such call"),
            (413, "body_too_large", "the workbook is over 20 MiB"),
            (415, "unsupported_media_type", "the body is not an XLSX workbook"),
            (422, "call_closed", "the window is closed"),
            (422, "xlsx_unreadable", "the body is not a readable XLSX workbook"),
        ],
    )
    def import_applications(self, principal: Principal, query: ImportQuery, request) -> tuple[int, dict]:  # noqa: ANN001
        """Each valid row becomes a draft addressed to the caller's unit (owner ``unit-import:<unit>``),
        each other row an error with its issues. The same file again returns the first report (200)."""
        if (request.mimetype or "").lower() != XLSX:
            raise UnsupportedMediaType(
                "unsupported_media_type", "请上传 .xlsx 文件", f"Send the workbook as {XLSX}", {"expected": XLSX}
            )
        if request.content_length and request.content_length > MAX_IMPORT_BYTES:
            raise _too_large()
        with tempfile.SpooledTemporaryFile(max_size=4 << 20) as spool:
            size = 0
            for chunk in iter(lambda: request.stream.read(1 << 16), b""):
                size += len(chunk)
                if size > MAX_IMPORT_BYTES:
                    raise _too_large()
                spool.write(chunk)
            spool.seek(0)
            with self.db as uow:
                return handlers.import_workbook(uow, principal.unit or "-", query.call_id, spool)

    # -- review's duplicate findings
    @event_handler("review", "duplicate.suspected.v1")
    def on_duplicate_suspected(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_duplicate_suspected(uow, event)

    @event_handler("review", "duplicate.settled.v1")
    def on_duplicate_settled(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_duplicate_settled(uow, event)

    # -- media's warnings on stored evidence, shown with the applications citing it
    @event_handler("media", "evidence.stored.v1")
    def on_evidence_stored(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_evidence_stored(uow, event)

    @event_handler("media", "evidence.deleted.v1")
    def on_evidence_deleted(self, event: dict) -> None:
        with self.db as uow:
            handlers.record_evidence_deleted(uow, event)


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(
        "body_too_large",
        "文件过大（上限 20 MiB），请分批导入",
        "The workbook is over 20 MiB; split it",
        {"limit_bytes": MAX_IMPORT_BYTES},
    )
