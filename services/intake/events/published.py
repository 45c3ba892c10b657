"""The events intake sends (routing key = type) and what each carries.

Schemas: contracts/events/<type>.schema.json. ``form.contact`` is personal data (marked
``x-personal`` in the schema): subscribers must not show it publicly.
"""

from __future__ import annotations

from typing import Any

from services.intake.domain.applications import Application

CALL_LOADED = "call.loaded.v1"
APPLICATION_CREATED = "application.created.v1"
APPLICATION_SUBMITTED = "application.submitted.v1"
APPLICATION_RETURNED = "application.returned.v1"
APPLICATION_REJECTED = "application.rejected.v1"
APPLICATION_ENDORSED = "application.endorsed.v1"
APPLICATION_FORWARDED = "application.forwarded.v1"
APPLICATION_WITHDRAWN = "application.withdrawn.v1"

BY_ACTION = {
    "create": APPLICATION_CREATED,
    "import": APPLICATION_CREATED,
    "submit": APPLICATION_SUBMITTED,
    "return": APPLICATION_RETURNED,
    "reject": APPLICATION_REJECTED,
    "endorse": APPLICATION_ENDORSED,
    "forward": APPLICATION_FORWARDED,
    "withdraw": APPLICATION_WITHDRAWN,
    "staff_withdraw": APPLICATION_WITHDRAWN,
    "endorse_imported": APPLICATION_ENDORSED,
    "duplicate_withdraw": APPLICATION_WITHDRAWN,
}
_STAFF_ACTIONS = ("staff_withdraw", "duplicate_withdraw")


def subject(app: Application) -> str:
    return f"application/{app.id}"


def application_data(app: Application, action: str) -> dict[str, Any]:
    applicant = app.form.get("applicant") or {}
    data: dict[str, Any] = {
        "application_id": app.id,
        "call_id": app.call_id,
        "call_version": app.call_version,
        "state": app.state.value,
        "unit_code": app.unit_code,
        "project_name": app.form.get("project_name"),
        "category": app.form.get("category"),
        "applicant_name": applicant.get("name"),
        "applicant_type": applicant.get("type"),
        "province": applicant.get("province"),
        # every move appends to the history: consumers order an application's events by this
        "sequence": len(app.history),
    }
    if action in ("create", "import"):
        data["imported"] = action == "import"
    if action in ("return", "reject", "withdraw", *_STAFF_ACTIONS):
        data["reason"] = app.reason
        data["by_role"] = "staff" if action in _STAFF_ACTIONS else ("applicant" if action == "withdraw" else "unit")
    if action in ("withdraw", *_STAFF_ACTIONS):
        data["as_duplicate"] = action == "duplicate_withdraw"
    if action in ("endorse", "endorse_imported"):
        data["unit_opinion"] = app.unit_opinion
        data["imported"] = action == "endorse_imported"
    if action == "forward":
        data.update(
            {
                "batch_id": app.batch_id,
                "unit_opinion": app.unit_opinion,
                "submitted_at": app.submitted_at.isoformat() if app.submitted_at else None,
                "forwarded_at": app.forwarded_at.isoformat() if app.forwarded_at else None,
                "form": app.form,  # the review index needs the whole form
            }
        )
    return data


def call_loaded_data(document: dict[str, Any], version: int, fingerprint: str) -> dict[str, Any]:
    return {"call_id": document["id"], "version": version, "fingerprint": fingerprint, "document": document}
