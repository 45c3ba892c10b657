"""Intake's use cases: each takes a unit of work, applies the domain rules, stores, emits events.

Entrypoints (HTTP, CLI, event handlers) call these; they run without a broker, so tests can drive
them against a database alone.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from gongyi.db import UnitOfWork
from gongyi.errors import Conflict, DomainError, Forbidden, InvalidInput, Issue, NotFound
from gongyi.http.auth import Principal
from services.intake.domain.applications import Application, State
from services.intake.domain.call_changes import rule_changes, rules_fingerprint
from services.intake.domain.calls import CallDocument, parse_call
from services.intake.domain.form import parse_form
from services.intake.domain.project_names import normalise_project_name
from services.intake.domain.rules import check_draft, check_submission, check_window
from services.intake.events.published import (
    BY_ACTION,
    CALL_LOADED,
    application_data,
    call_loaded_data,
    subject,
)
from services.intake.storage.repository import ApplicationRepository, BatchRepository, CallRepository


@lru_cache(maxsize=64)
def _parsed(document_json: str) -> CallDocument:
    # keyed by content: the same (call, version) may differ between databases (tests, replicas)
    return parse_call(json.loads(document_json))


def call_document(uow: UnitOfWork, call_id: str, version: int | None = None) -> tuple[int, CallDocument]:
    repo = CallRepository(uow.session)
    if version is None:
        version, doc = repo.current(call_id)
    else:
        doc = repo.version(call_id, version)
    return version, _parsed(json.dumps(doc, sort_keys=True, default=str))


# -- calls


def load_call(
    uow: UnitOfWork, data: dict[str, Any], by: str, note: str | None = None, acknowledge_changes: bool = False
) -> dict[str, Any]:
    """Store a new version of a call. A change that could invalidate accepted applications must be
    acknowledged with a note; applications keep the version they were checked against."""
    call = parse_call(data)
    document = call.model_dump(mode="json")
    repo = CallRepository(uow.session)
    fingerprint = rules_fingerprint(call)
    changes: list[Issue] = []
    if repo.exists(call.id):
        if repo.fingerprint(call.id) == fingerprint and _same_document(uow, call.id, document):
            version, _ = repo.current(call.id)
            return {"call_id": call.id, "version": version, "changed": False, "changes": []}
        _, old = call_document(uow, call.id)
        changes = rule_changes(old, call)
        if changes and repo.accepted_count(call.id) and not (acknowledge_changes and note):
            raise Conflict(
                "rule_change_needs_acknowledgement",
                "规则变更可能使已受理的申报不再符合要求，请确认并填写变更说明",
                "This rule change may invalidate accepted applications; acknowledge it with a note",
                {"changes": [c.to_dict() for c in changes]},
            )
    version = repo.save_version(document, fingerprint, by, note)
    uow.emit(CALL_LOADED, f"call/{call.id}", call_loaded_data(document, version, fingerprint))
    uow.commit()
    return {"call_id": call.id, "version": version, "changed": True, "changes": [c.to_dict() for c in changes]}


def _same_document(uow: UnitOfWork, call_id: str, document: dict[str, Any]) -> bool:
    _, current = CallRepository(uow.session).current(call_id)
    return current == document


# -- visibility


def ensure_visible(principal: Principal, app: Application) -> None:
    allowed = (
        principal.role == "staff"
        or (principal.role == "applicant" and app.applicant_sub == principal.sub)
        or (principal.role == "unit" and app.unit_code == principal.unit and app.state != State.DRAFT)
    )
    if not allowed:
        # 404, not 403: others' applications are not even confirmed to exist
        raise NotFound("application_not_found", "申报不存在", f"No application {app.id!r}", {"application_id": app.id})


def _raise_issues(issues: list[Issue]) -> None:
    if issues:
        raise InvalidInput(issues)


# -- applicant


def create_application(
    uow: UnitOfWork, principal: Principal, call_id: str, form_data: dict[str, Any], now: datetime | None = None
) -> Application:
    now = now or datetime.now(UTC)
    version, call = call_document(uow, call_id)
    _raise_issues(check_window(call, now))
    form = parse_form(form_data)
    _raise_issues(check_draft(form, call))
    app = Application(
        id=str(uuid.uuid4()),
        call_id=call_id,
        call_version=version,
        applicant_sub=principal.sub,
        applicant_org=principal.org,
        unit_code=form.unit_code,
        form=form.model_dump(mode="json", exclude_none=True),
    )
    ApplicationRepository(uow.session).add(app, _name_key(app))
    uow.commit()
    return app


def update_form(uow: UnitOfWork, principal: Principal, app_id: str, form_data: dict[str, Any]) -> Application:
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    if principal.role != "applicant":
        raise Forbidden("forbidden_role", "只有申报主体可以修改申报表", "Only the applicant edits the form")
    app.ensure_editable()
    _, call = call_document(uow, app.call_id, app.call_version)
    form = parse_form(form_data)
    _raise_issues(check_draft(form, call))
    app.form = form.model_dump(mode="json", exclude_none=True)
    app.unit_code = form.unit_code
    repo.save(app, _name_key(app))
    uow.commit()
    return app


def _name_key(app: Application) -> str | None:
    name = app.form.get("project_name")
    return normalise_project_name(name) if name else None


def submit(uow: UnitOfWork, principal: Principal, app_id: str, now: datetime | None = None) -> Application:
    now = now or datetime.now(UTC)
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    # re-check against the call's current rules: the version the application keeps is the one
    # it was accepted under
    version, call = call_document(uow, app.call_id)
    form = parse_form(app.form)
    _raise_issues(check_submission(form, call, now))
    name_key = _name_key(app)
    credit_code = (app.form.get("applicant") or {}).get("credit_code")
    if credit_code and name_key:
        clash = repo.identity_clash(app.call_id, credit_code, name_key, app.id)
        if clash:
            raise Conflict(
                "duplicate_application",
                "同一申报主体已以相同项目名称申报本次征集，每个项目限申报一次",
                "The same organisation already applied with this project name in this call",
                {"existing_application_id": clash},
            )
    app.call_version = version
    _transition(uow, repo, app, "submit", principal, now)
    return app


def _transition(
    uow: UnitOfWork,
    repo: ApplicationRepository,
    app: Application,
    action: str,
    principal: Principal,
    now: datetime,
    **info: Any,
) -> None:
    app.move(action, principal.role, now, **info)
    repo.save(app, _name_key(app))
    uow.emit(BY_ACTION[action], subject(app), application_data(app, action))
    uow.commit()


def withdraw(uow: UnitOfWork, principal: Principal, app_id: str, reason: str | None) -> Application:
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    action = "staff_withdraw" if principal.role == "staff" else "withdraw"
    _transition(uow, repo, app, action, principal, datetime.now(UTC), reason=reason)
    return app


# -- recommending unit


def unit_decision(uow: UnitOfWork, principal: Principal, app_id: str, action: str, text: str) -> Application:
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    info = {"opinion": text} if action == "endorse" else {"reason": text}
    _transition(uow, repo, app, action, principal, datetime.now(UTC), **info)
    return app


def forward_batch(
    uow: UnitOfWork, principal: Principal, application_ids: list[str], key: str, now: datetime | None = None
) -> tuple[int, dict[str, Any]]:
    """Forward endorsed applications together: all or none, with a result per item.

    The same idempotency key returns the first result and forwards nothing again.
    """
    now = now or datetime.now(UTC)
    batches = BatchRepository(uow.session)
    request_hash = batches.request_hash(application_ids)
    previous = batches.find(principal.unit, key)
    if previous is not None:
        if previous["request_hash"] != request_hash:
            raise Conflict(
                "idempotency_key_reused",
                "该幂等键已用于另一批次",
                "This idempotency key was used for a different batch",
                {"batch_id": previous["id"]},
            )
        return 200, {**previous["result"], "replayed": True}
    repo = ApplicationRepository(uow.session)
    batch_id = str(uuid.uuid4())
    items, failed, apps = [], False, []
    for app_id in dict.fromkeys(application_ids):
        try:
            app = repo.get(app_id, for_update=True)
            ensure_visible(principal, app)
            _, call = call_document(uow, app.call_id, app.call_version)
            window = check_window(call, now)
            if window:
                raise InvalidInput(window)
            app.move("forward", principal.role, now, batch_id=batch_id)
            apps.append(app)
            items.append({"application_id": app_id, "status": "forwarded"})
        except DomainError as err:
            failed = True
            items.append({"application_id": app_id, "status": "refused", "error": err.to_dict()})
    if failed:
        uow.rollback()
        raise Conflict(
            "batch_refused",
            "批次中有申报无法统一申报，本批次未提交任何申报",
            "Some applications cannot be forwarded; nothing in this batch was forwarded",
            {"items": items},
        )
    for app in apps:
        repo.save(app, _name_key(app))
        uow.emit(BY_ACTION["forward"], subject(app), application_data(app, "forward"))
    result = {
        "batch_id": batch_id,
        "unit_code": principal.unit,
        "forwarded_at": now.isoformat(),
        "items": items,
        "replayed": False,
    }
    batches.add(batch_id, principal.unit, key, request_hash, result)
    uow.commit()
    return 201, result


def change_window(
    uow: UnitOfWork,
    principal: Principal,
    call_id: str,
    closes: datetime,
    opens: datetime | None,
    note: str,
    acknowledge_changes: bool = False,
) -> dict[str, Any]:
    """Extend (or shorten) a call's window: a new version of its rules, through the same checks."""
    _, call = call_document(uow, call_id)
    document = call.model_dump(mode="json")
    document["window"]["closes"] = closes.isoformat()
    if opens is not None:
        document["window"]["opens"] = opens.isoformat()
    return load_call(uow, document, principal.sub, note, acknowledge_changes)
