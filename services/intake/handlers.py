"""Intake's use cases: each takes a unit of work, applies the domain rules, stores, emits events.

Entrypoints (HTTP, CLI, event handlers) call these; they run without a broker, so tests can drive
them against a database alone.
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import IO, Any

from openpyxl.utils.exceptions import InvalidFileException

from gongyi.db import UnitOfWork
from gongyi.errors import DomainError, InvalidInput, Issue
from gongyi.http.auth import Principal
from services.intake.domain.applications import Application, State, import_owner
from services.intake.domain.call_changes import document_changes, rule_changes, rules_fingerprint
from services.intake.domain.calls import DEFAULT_REPORT_KINDS, CallDocument, parse_call
from services.intake.domain.duplicate_flags import flags_from_suspicion, to_withdraw, withdraw_reason
from services.intake.domain.evidence_notes import evidence_refs, evidence_warnings
from services.intake.domain.form import parse_form
from services.intake.domain.project_names import normalise_project_name
from services.intake.domain.refusals import refuse
from services.intake.domain.rules import EvidenceOwnerCheck, check_draft, check_submission, check_window
from services.intake.domain.unit_quota import quota_refusal
from services.intake.domain.xlsx_import import RowResult, parse_rows
from services.intake.events.published import (
    BY_ACTION,
    CALL_LOADED,
    application_data,
    call_loaded_data,
    subject,
)
from services.intake.storage.repository import (
    ApplicationRepository,
    BatchRepository,
    CallRepository,
    DuplicateFlagRepository,
    EvidenceNoteRepository,
    ImportRepository,
)

# media's answer for each evidence id it knows: {"owner_sub", "kind", "status"} (unknown ids absent)
EvidenceSummary = Callable[[list[str]], dict[str, dict[str, Any]]]


# Parsed call documents by (call, version, loaded_at): a stored version never changes, and
# loaded_at tells apart two databases holding the same (call, version) (tests, replicas).
_CALL_CACHE: dict[tuple[str, int, datetime], CallDocument] = {}
_CALL_CACHE_SIZE = 64


def call_document(uow: UnitOfWork, call_id: str, version: int | None = None) -> tuple[int, CallDocument]:
    repo = CallRepository(uow.session)
    version, loaded_at = repo.stamp(call_id, version)
    key = (call_id, version, loaded_at)
    parsed = _CALL_CACHE.get(key)
    if parsed is None:
        parsed = parse_call(repo.version(call_id, version))
        if len(_CALL_CACHE) >= _CALL_CACHE_SIZE:
            _CALL_CACHE.pop(next(iter(_CALL_CACHE)))
        _CALL_CACHE[key] = parsed
    return version, parsed


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
    changes: list[Issue] = []  # the tightenings
    previous: dict[str, Any] = {}  # a new call: every field is new
    if repo.exists(call.id):
        if repo.fingerprint(call.id) == fingerprint and _same_document(uow, call.id, document):
            version, _ = repo.current(call.id)
            return {"call_id": call.id, "version": version, "changed": False, "changes": [], "tightenings": []}
        _, previous = repo.current(call.id)
        _, old = call_document(uow, call.id)
        changes = rule_changes(old, call)
        if changes and repo.accepted_count(call.id) and not (acknowledge_changes and note):
            refuse("rule_change_needs_acknowledgement", {"changes": [c.to_dict() for c in changes]})
    version = repo.save_version(document, fingerprint, by, note)
    uow.emit(CALL_LOADED, f"call/{call.id}", call_loaded_data(document, version, fingerprint))
    uow.commit()
    return {"call_id": call.id, "version": version, "changed": True,
            "changes": document_changes(previous, document), "tightenings": [c.to_dict() for c in changes]}


def _same_document(uow: UnitOfWork, call_id: str, document: dict[str, Any]) -> bool:
    _, current = CallRepository(uow.session).current(call_id)
    return current == document


# -- visibility


def ensure_visible(principal: Principal, app: Application) -> None:
    allowed = (
        principal.role == "staff"
        or (principal.role == "applicant" and app.applicant_sub == principal.sub)
        or (
            principal.role == "unit"
            and app.unit_code == principal.unit
            # drafts are the applicant's business, except those the unit imported itself
            and (app.state != State.DRAFT or app.imported_by == principal.unit)
        )
    )
    if not allowed:
        # 404, not 403: others' applications are not even confirmed to exist
        refuse("application_not_found", {"application_id": app.id})


def _raise_issues(issues: list[Issue]) -> None:
    if issues:
        raise InvalidInput(issues)


# -- applicant


def create_application(
    uow: UnitOfWork,
    principal: Principal,
    call_id: str,
    form_data: dict[str, Any],
    now: datetime | None = None,
    submit: bool = False,
    evidence_summary: EvidenceSummary | None = None,
) -> Application:
    """A new draft; with ``submit`` also submitted in the same transaction (all the submission
    rules apply, and a refusal leaves nothing behind)."""
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
    repo = ApplicationRepository(uow.session)
    if submit:
        app.call_version = _checked_for_submission(uow, repo, app, now, evidence_summary, (version, call))
        created = application_data(app, "create")  # the draft this request made, before its submission
        # stored already submitted: one INSERT, not an INSERT of the draft and an UPDATE of its form
        app.move("submit", principal.role, now)
        repo.add(app, _name_key(app))
        uow.emit(BY_ACTION["create"], subject(app), created)
        uow.emit(BY_ACTION["submit"], subject(app), application_data(app, "submit"))
    else:
        repo.add(app, _name_key(app))
        uow.emit(BY_ACTION["create"], subject(app), application_data(app, "create"))
    uow.commit()
    return app


def update_form(uow: UnitOfWork, principal: Principal, app_id: str, form_data: dict[str, Any]) -> Application:
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    if principal.role != "applicant":
        refuse("forbidden_role")
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


def owner_check(evidence_summary: EvidenceSummary | None, owner_sub: str) -> EvidenceOwnerCheck | None:
    """The rules' evidence check from media's summary: an id counts only if it is stored (not
    rejected or deleted) and belongs to ``owner_sub``."""
    if evidence_summary is None:
        return None

    def check(ids: list[str]) -> set[str]:
        known = evidence_summary(ids)
        return {
            evidence_id
            for evidence_id, info in known.items()
            if info.get("owner_sub") == owner_sub and info.get("status") == "stored"
        }

    return check


def _checked_for_submission(
    uow: UnitOfWork,
    repo: ApplicationRepository,
    app: Application,
    now: datetime,
    evidence_summary: EvidenceSummary | None,
    current: tuple[int, CallDocument] | None = None,
) -> int:
    """Check ``app`` for submission against its call's current rules; the version it passed.
    ``current`` is that (version, call) when the caller has just read it."""
    # re-check against the call's current rules: the version the application keeps is the one
    # it was accepted under
    version, call = current or call_document(uow, app.call_id)
    form = parse_form(app.form)
    _raise_issues(check_submission(form, call, now, owner_check(evidence_summary, app.applicant_sub)))
    name_key = _name_key(app)
    credit_code = (app.form.get("applicant") or {}).get("credit_code")
    if credit_code and name_key:
        clash = repo.identity_clash(app.call_id, credit_code, name_key, app.id)
        if clash:
            refuse("duplicate_application", {"existing_application_id": clash})
    return version


def submit(
    uow: UnitOfWork,
    principal: Principal,
    app_id: str,
    now: datetime | None = None,
    evidence_summary: EvidenceSummary | None = None,
) -> Application:
    """Submit to the unit. ``evidence_summary`` asks media about evidence ids; without it (tests of
    the rules alone) ownership is not checked — the service always passes it."""
    now = now or datetime.now(UTC)
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    app.call_version = _checked_for_submission(uow, repo, app, now, evidence_summary)
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


def unit_decision(
    uow: UnitOfWork,
    principal: Principal,
    app_id: str,
    action: str,
    text: str,
    evidence_summary: EvidenceSummary | None = None,
) -> Application:
    now = datetime.now(UTC)
    repo = ApplicationRepository(uow.session)
    app = repo.get(app_id, for_update=True)
    ensure_visible(principal, app)
    info = {"opinion": text} if action == "endorse" else {"reason": text}
    if action == "endorse" and app.state == State.DRAFT and app.imported_by == principal.unit:
        # an imported draft was never submitted: the unit's endorsement is its submission, so it
        # must pass every submission rule first
        app.call_version = _checked_for_submission(uow, repo, app, now, evidence_summary)
        action, info = "endorse_imported", {**info, "imported": True}
    _transition(uow, repo, app, action, principal, now, **info)
    return app


class _BatchRules:
    """The window and quota in force now, per call of a batch (a changed window is a new version of
    the rules, which an application's own version predates)."""

    def __init__(self, uow: UnitOfWork, repo: ApplicationRepository, unit: str | None) -> None:
        self.uow, self.repo, self.unit = uow, repo, unit
        self.calls: dict[str, CallDocument] = {}
        self.in_batch: dict[str, int] = {}  # per call: items of this batch counted against the unit's quota
        self.already: dict[str, int] = {}  # per call: the unit's forwarded applications before this batch

    def check(self, app: Application, now: datetime) -> None:
        if app.call_id not in self.calls:
            self.calls[app.call_id] = call_document(self.uow, app.call_id)[1]
        current = self.calls[app.call_id]
        window = check_window(current, now)
        if window:
            raise InvalidInput(window)
        if app.state != State.ENDORSED:
            return  # the move to forwarded refuses it
        if app.call_id not in self.in_batch:
            # serialise a unit's concurrent batches to one call, so two cannot both fit the quota
            CallRepository(self.uow.session).lock(app.call_id)
            self.already[app.call_id] = self.repo.forwarded_count(app.call_id, self.unit)
        position = self.in_batch.get(app.call_id, 0) + 1
        refusal = quota_refusal(current.quotas.per_unit, self.already[app.call_id], position)
        if refusal:
            raise refusal
        self.in_batch[app.call_id] = position


def _earlier_batch(batches: BatchRepository, unit: str | None, key: str, request_hash: str) -> dict[str, Any] | None:
    """The result of the batch sent before with this idempotency key, if any."""
    previous = batches.find(unit, key)
    if previous is None:
        return None
    if previous["request_hash"] != request_hash:
        refuse("idempotency_key_reused", {"batch_id": previous["id"]})
    return {**previous["result"], "replayed": True}


def forward_batch(
    uow: UnitOfWork,
    principal: Principal,
    application_ids: list[str],
    key: str,
    now: datetime | None = None,
    endorse_opinion: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Forward endorsed applications together: all or none, with a result per item.

    With ``endorse_opinion`` the unit endorses every submitted application of the batch with that
    opinion first (each sends its own endorsed event), as a unit reviewing a list does.
    The same idempotency key returns the first result and forwards nothing again.
    """
    now = now or datetime.now(UTC)
    batches = BatchRepository(uow.session)
    request_hash = batches.request_hash(application_ids, endorse_opinion)
    earlier = _earlier_batch(batches, principal.unit, key, request_hash)
    if earlier is not None:
        return 200, earlier
    repo = ApplicationRepository(uow.session)
    rules = _BatchRules(uow, repo, principal.unit)
    batch_id = str(uuid.uuid4())
    items, failed, apps, endorsed = [], False, [], []
    for app_id in dict.fromkeys(application_ids):
        try:
            app = repo.get(app_id, for_update=True)
            ensure_visible(principal, app)
            if endorse_opinion is not None and app.state == State.SUBMITTED:
                app.move("endorse", principal.role, now, opinion=endorse_opinion)
                endorsed.append((subject(app), application_data(app, "endorse")))
            rules.check(app, now)
            app.move("forward", principal.role, now, batch_id=batch_id)
            apps.append(app)
            items.append({"application_id": app_id, "status": "forwarded"})
        except DomainError as err:
            failed = True
            items.append({"application_id": app_id, "status": "refused", "error": err.to_dict()})
    if failed:
        uow.rollback()
        refuse("batch_refused", {"items": items})
    for app_subject, data in endorsed:
        uow.emit(BY_ACTION["endorse"], app_subject, data)
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


def change_deadlines(uow: UnitOfWork, principal: Principal, call_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Set the review and tracking-report deadlines the reminders are sent for: a new version.

    ``review_due`` is always taken (null removes it); ``report_due`` only when given. A call
    without a ``reporting`` section gets one with the default report kinds' codes of publish.
    """
    _, call = call_document(uow, call_id)
    document = call.model_dump(mode="json")
    review = document["review"]
    review["due"] = body["review_due"].isoformat() if body.get("review_due") else None
    if body.get("review_remind_days_before") is not None:
        review["remind_days_before"] = body["review_remind_days_before"]
    if body.get("report_due") is not None or body.get("report_remind_days_before") is not None:
        if not document.get("reporting"):
            document["reporting"] = {"kinds": [dict(k) for k in DEFAULT_REPORT_KINDS]}
        reporting = document["reporting"]
        if body.get("report_due") is not None:
            reporting["due"] = [d.isoformat() for d in body["report_due"]]
        if body.get("report_remind_days_before") is not None:
            reporting["remind_days_before"] = body["report_remind_days_before"]
    return load_call(uow, document, principal.sub, body["note"])


# -- duplicate flags (from review)


def record_duplicate_suspected(uow: UnitOfWork, event: dict[str, Any]) -> None:
    """Flag both applications of a suspicion (those intake holds); applied once per event."""
    if not uow.claim(event, "intake.duplicate_suspected"):
        return
    flags = flags_from_suspicion(event["data"])
    known = ApplicationRepository(uow.session).existing_ids([f.application_id for f in flags])
    repo = DuplicateFlagRepository(uow.session)
    at = datetime.now(UTC)
    for flag in flags:
        if flag.application_id in known:
            repo.record_suspected(flag, at)
    uow.commit()


def record_duplicate_settled(uow: UnitOfWork, event: dict[str, Any]) -> list[str]:
    """Settle the flags; "same project, withdraw" withdraws every application but the kept one.

    Returns the ids withdrawn now. Applied once per event; an application already out of the
    running (withdrawn, rejected, a draft) is left as it is.
    """
    if not uow.claim(event, "intake.duplicate_settled"):
        return []
    data = event["data"]
    apps = ApplicationRepository(uow.session)
    known = apps.existing_ids(list(data["application_ids"]))
    flags = DuplicateFlagRepository(uow.session)
    now = datetime.now(UTC)
    for app_id in dict.fromkeys(data["application_ids"]):
        if app_id in known:
            flags.record_settled(data, app_id, now)
    withdrawn = []
    for app_id in to_withdraw(data):
        if app_id not in known:
            continue
        app = apps.get(app_id, for_update=True)
        if app.state in (State.WITHDRAWN, State.REJECTED, State.DRAFT):
            continue
        app.move(
            "duplicate_withdraw",
            "staff",
            now,
            reason=withdraw_reason(data),
            suspicion_id=data["suspicion_id"],
            decided_by=data.get("decided_by"),
        )
        apps.save(app, _name_key(app))
        uow.emit(BY_ACTION["duplicate_withdraw"], subject(app), application_data(app, "duplicate_withdraw"))
        withdrawn.append(app_id)
    uow.commit()
    return withdrawn


# -- media's evidence warnings


def record_evidence_stored(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "intake.evidence_stored"):
        return False
    EvidenceNoteRepository(uow.session).record(event["data"])
    uow.commit()
    return True


def record_evidence_deleted(uow: UnitOfWork, event: dict[str, Any]) -> bool:
    if not uow.claim(event, "intake.evidence_deleted"):
        return False
    EvidenceNoteRepository(uow.session).drop(event["data"]["evidence_id"])
    uow.commit()
    return True


def evidence_warnings_for(uow: UnitOfWork, app: Application) -> list[dict[str, Any]]:
    """Media's warnings (e.g. low_resolution) on the evidence ``app``'s form cites."""
    ids = [evidence_id for _, evidence_id in evidence_refs(app.form)]
    return evidence_warnings(app.form, EvidenceNoteRepository(uow.session).warnings_for(ids))


def duplicate_flags_for(uow: UnitOfWork, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    return DuplicateFlagRepository(uow.session).for_applications(ids)


# -- bulk entry (XLSX)


def import_workbook(
    uow: UnitOfWork,
    unit_code: str,
    call_id: str,
    stream: IO[bytes],
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Turn each row of a filled template into a draft addressed to ``unit_code`` (owned by the
    placeholder ``unit-import:<unit>``), or an error row. All rows commit together with the
    import record; the same file imported again returns the first report and creates nothing.

    ``stream`` must be seekable (it is read twice: hashed, then parsed row by row).
    """
    now = now or datetime.now(UTC)
    version, call = call_document(uow, call_id)
    _raise_issues(check_window(call, now))
    if call.unit(unit_code) is None:
        refuse("unit_not_in_call", {"unit_code": unit_code, "call_id": call_id})
    digest = _sha256(stream)
    imports = ImportRepository(uow.session)
    previous = imports.find(unit_code, call_id, digest)
    if previous is not None:
        return 200, {**previous["report"], "replayed": True}
    repo = ApplicationRepository(uow.session)
    owner = import_owner(unit_code)
    created: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for result in _rows(stream, call):
        if progress:
            progress(1)
        issues = [i.to_dict() for i in result.issues]
        if result.ok:
            form = result.form.model_dump(mode="json", exclude_none=True)
            form.setdefault("unit_code", unit_code)
            issues = _import_row_issues(repo, call_id, form, unit_code, result.row, seen)
            if not issues:
                app = Application(
                    id=str(uuid.uuid4()),
                    call_id=call_id,
                    call_version=version,
                    applicant_sub=owner,
                    applicant_org=(form.get("applicant") or {}).get("credit_code"),
                    unit_code=unit_code,
                    form=form,
                )
                repo.add(app, _name_key(app))
                uow.emit(BY_ACTION["import"], subject(app), application_data(app, "import"))
                created.append({"row": result.row, "application_id": app.id, "project_name": form.get("project_name")})
                continue
        errors.append({"row": result.row, "issues": issues})
    import_id = str(uuid.uuid4())
    report = {
        "import_id": import_id,
        "call_id": call_id,
        "unit_code": unit_code,
        "created": created,
        "errors": errors,
        "replayed": False,
    }
    imports.add(import_id, unit_code, call_id, digest, report)
    uow.commit()
    return 201, report


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for chunk in iter(lambda: stream.read(1 << 16), b""):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _rows(stream: IO[bytes], call: CallDocument) -> Iterable[RowResult]:
    try:
        yield from parse_rows(stream, call)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, InvalidFileException) as exc:  # not a workbook
        raise InvalidInput(
            [Issue("xlsx_unreadable", "无法读取该文件，请上传由模板填写的 .xlsx 文件",
                   f"Cannot read the file as an XLSX workbook: {type(exc).__name__}")],
            code="xlsx_unreadable",
            message_zh="无法读取该文件，请上传由模板填写的 .xlsx 文件",
            message_en="The file is not a readable XLSX workbook",
        ) from exc


def _import_row_issues(
    repo: ApplicationRepository,
    call_id: str,
    form: dict[str, Any],
    unit_code: str,
    row: int,
    seen: dict[tuple[str, str], int],
) -> list[dict[str, Any]]:
    """Refusals a row meets beyond the form rules: another unit, or a project already applied."""
    issues = []
    if form["unit_code"] != unit_code:
        issues.append(
            Issue(
                "xlsx_unit_mismatch",
                f"第{row}行的推荐单位不是本单位，只能导入本单位推荐的项目",
                f"Row {row} names another recommending unit; a unit imports only its own",
                "unit_code",
                {"row": row, "unit_code": form["unit_code"]},
            ).to_dict()
        )
    name = form.get("project_name")
    credit_code = (form.get("applicant") or {}).get("credit_code")
    if name and credit_code:
        key = (credit_code, normalise_project_name(name))
        clash = repo.identity_clash(call_id, key[0], key[1], "")
        if key in seen or clash:
            details: dict[str, Any] = {"row": row}
            if clash:
                details["existing_application_id"] = clash
            else:
                details["same_as_row"] = seen[key]
            issues.append(
                Issue(
                    "duplicate_application",
                    f"第{row}行：同一申报主体已以相同项目名称申报本次征集，每个项目限申报一次",
                    f"Row {row}: the same organisation already applied with this project name in this call",
                    "project_name",
                    details,
                ).to_dict()
            )
        seen.setdefault(key, row)
    return issues
