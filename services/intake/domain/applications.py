"""The application lifecycle: who may move an application from which state to which.

draft → submitted (to the unit) → returned (for revision, back to the applicant) / rejected by the
unit / endorsed (with the unit's opinion) → forwarded (in a batch). The applicant may withdraw
before forwarding; after forwarding the form is frozen and only staff may withdraw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.intake.domain.refusals import refuse


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    REJECTED = "rejected"
    ENDORSED = "endorsed"
    FORWARDED = "forwarded"
    WITHDRAWN = "withdrawn"


EDITABLE = {State.DRAFT, State.RETURNED}
# every allowed move, and who may make it
TRANSITIONS: dict[str, tuple[set[State], State, set[str]]] = {
    "submit": ({State.DRAFT, State.RETURNED}, State.SUBMITTED, {"applicant"}),
    "return": ({State.SUBMITTED, State.ENDORSED}, State.RETURNED, {"unit"}),
    "reject": ({State.SUBMITTED, State.ENDORSED}, State.REJECTED, {"unit"}),
    "endorse": ({State.SUBMITTED}, State.ENDORSED, {"unit"}),
    "forward": ({State.ENDORSED}, State.FORWARDED, {"unit"}),
    "withdraw": ({State.DRAFT, State.SUBMITTED, State.RETURNED, State.ENDORSED}, State.WITHDRAWN, {"applicant"}),
    "staff_withdraw": ({State.FORWARDED}, State.WITHDRAWN, {"staff"}),
    "endorse_imported": ({State.DRAFT}, State.ENDORSED, {"unit"}),
    "duplicate_withdraw": (
        {State.SUBMITTED, State.RETURNED, State.ENDORSED, State.FORWARDED},
        State.WITHDRAWN,
        {"staff"},
    ),
}
# the owner of a draft a recommending unit imported from XLSX: no applicant account stands behind it
IMPORT_SUB_PREFIX = "unit-import:"


def import_owner(unit_code: str) -> str:
    return f"{IMPORT_SUB_PREFIX}{unit_code}"

_LABELS_ZH = {
    State.DRAFT: "草稿",
    State.SUBMITTED: "已提交至推荐单位",
    State.RETURNED: "已退回修改",
    State.REJECTED: "推荐单位未通过",
    State.ENDORSED: "推荐单位已审核同意",
    State.FORWARDED: "已由推荐单位统一申报",
    State.WITHDRAWN: "已撤回",
}


@dataclass
class Application:
    id: str
    call_id: str
    call_version: int
    applicant_sub: str
    applicant_org: str | None
    unit_code: str | None
    form: dict[str, Any]
    state: State = State.DRAFT
    unit_opinion: str | None = None
    reason: str | None = None
    batch_id: str | None = None
    submitted_at: datetime | None = None
    forwarded_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def imported_by(self) -> str | None:
        """The unit that imported this application from XLSX, if it was imported."""
        if self.applicant_sub.startswith(IMPORT_SUB_PREFIX):
            return self.applicant_sub.removeprefix(IMPORT_SUB_PREFIX)
        return None

    @property
    def state_label_zh(self) -> str:
        return _LABELS_ZH[self.state]

    def ensure_editable(self) -> None:
        if self.state not in EDITABLE:
            refuse("form_frozen", {"state": self.state.value}, state_zh=self.state_label_zh)

    def move(self, action: str, role: str, at: datetime, **info: Any) -> State:
        sources, target, roles = TRANSITIONS[action]
        if role not in roles:
            refuse("forbidden_transition", {"action": action}, role=role)
        if self.state not in sources:
            refuse("invalid_transition",
                   {"state": self.state.value, "action": action, "allowed_from": sorted(s.value for s in sources)},
                   state_zh=self.state_label_zh)
        previous = self.state
        self.state = target
        if action == "submit":
            self.submitted_at = at
            self.reason = None
        elif action in ("return", "reject", "withdraw", "staff_withdraw", "duplicate_withdraw"):
            self.reason = info.get("reason")
        elif action == "endorse":
            self.unit_opinion = info.get("opinion")
        elif action == "endorse_imported":
            # the unit vouches for the form itself: its endorsement is also its submission
            self.submitted_at = at
            self.unit_opinion = info.get("opinion")
        elif action == "forward":
            self.forwarded_at = at
            self.batch_id = info.get("batch_id")
        self.history.append(
            {
                "action": action,
                "from": previous.value,
                "to": target.value,
                "at": at.isoformat(),
                "by_role": role,
                **{k: v for k, v in info.items() if v is not None},
            }
        )
        return target
