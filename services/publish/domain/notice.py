"""The Notice aggregate: the public notice period (公示) and the final list it produces.

States: draft -> open -> closed -> scheduled -> published (or closed -> published directly).
Every transition returns the domain events it produced, as plain dicts, for the outbox.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from gongyi.errors import Conflict, DomainError, InvalidInput, Issue, NotFound

from .domain_events import iso, make_event
from .objections import Objection, ObjectionInput, Replacement, find_duplicate
from .public_view import public_list_dicts
from .selection import SelectionEntry
from .tracking_codes import new_tracking_code
from .workdays import DEFAULT_TZ, add_working_days

DEFAULT_NOTICE_WORKING_DAYS = 5

Event = dict[str, Any]


class NoticeState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


def _wrong_state(
    action_zh: str, action_en: str, state: NoticeState, allowed: Iterable[NoticeState]
) -> Conflict:
    return Conflict(
        "invalid_notice_state",
        f"公示当前状态为“{state.value}”，不能{action_zh}",
        f"The notice is {state.value}; cannot {action_en}",
        {"state": state.value, "allowed": [s.value for s in allowed]},
    )


def _require_aware(moment: dt.datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(
            "naive_datetime", "时间必须带时区", "The datetime must carry a timezone", {"field": name}
        )


def key_date_moment(
    year: int, month_day: str, hour: int = 9, minute: int = 0, tz: str = DEFAULT_TZ
) -> dt.datetime:
    """A call's key date (e.g. ``"09-05"`` 中华慈善日) as a publication time."""
    month, day = (int(p) for p in month_day.split("-"))
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz))


# prefixed to every title of a rehearsal, so no page, file or feed entry can pass for the real thing
REHEARSAL_MARK = "【演练】"

@dataclass
class Notice:
    id: str
    call_id: str
    call_name: str
    title: str
    selected: list[SelectionEntry]
    reserves: list[SelectionEntry] = field(default_factory=list)
    publish_scores: bool = False
    tz: str = DEFAULT_TZ
    state: NoticeState = NoticeState.DRAFT
    working_days: int = DEFAULT_NOTICE_WORKING_DAYS
    # a rehearsal (演练) of a call: every output is marked and kept out of public lists and feeds;
    # its notice period may last minutes instead of working days
    rehearsal: bool = False
    period_minutes: float | None = None
    opens_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    publish_at: dt.datetime | None = None
    published_at: dt.datetime | None = None
    listed_ids: list[str] = field(default_factory=list)
    objections: list[Objection] = field(default_factory=list)
    replacements: list[Replacement] = field(default_factory=list)

    # --- creation ---------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        notice_id: str,
        call_id: str,
        call_name: str,
        selected: Sequence[SelectionEntry],
        reserves: Sequence[SelectionEntry] = (),
        *,
        title: str | None = None,
        publish_scores: bool = False,
        tz: str = DEFAULT_TZ,
        rehearsal: bool = False,
    ) -> Notice:
        """A draft from a confirmed selection snapshot; reserves are the next-ranked projects."""
        issues: list[Issue] = []
        if not selected:
            issues.append(Issue("selection_empty", "入选名单为空", "The selection is empty", "selected"))
        ids = [e.application_id for e in (*selected, *reserves)]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            issues.append(
                Issue(
                    "duplicate_entries",
                    "名单中有重复的项目",
                    "The snapshot lists a project more than once",
                    "selected",
                    {"application_ids": dupes},
                )
            )
        ranks = [e.rank for e in (*selected, *reserves)]
        if len(set(ranks)) != len(ranks):
            issues.append(Issue("duplicate_ranks", "名次有重复", "Two entries share a rank", "selected"))
        if issues:
            raise InvalidInput(issues)
        ordered = sorted(selected, key=lambda e: e.rank)
        return cls(
            id=notice_id,
            call_id=call_id,
            call_name=call_name,
            title=(REHEARSAL_MARK if rehearsal else "") + (title or f"{call_name}拟入选项目公示"),
            rehearsal=rehearsal,
            selected=ordered,
            reserves=sorted(reserves, key=lambda e: e.rank),
            publish_scores=publish_scores,
            tz=tz,
            listed_ids=[e.application_id for e in ordered],
        )

    # --- queries ----------------------------------------------------------------------

    @property
    def final_list_title(self) -> str:
        return (REHEARSAL_MARK if self.rehearsal else "") + f"{self.call_name}入选项目名单"

    def _entry(self, application_id: str) -> SelectionEntry:
        for entry in (*self.selected, *self.reserves):
            if entry.application_id == application_id:
                return entry
        raise NotFound(
            "project_not_found", "未找到该项目", "No such project", {"application_id": application_id}
        )

    def current_entries(self) -> list[SelectionEntry]:
        """The projects listed now, in review rank order, with their review ranks."""
        return sorted((self._entry(i) for i in self.listed_ids), key=lambda e: e.rank)

    def final_list(self) -> list[SelectionEntry]:
        """The list renumbered 1..N; ``review_rank`` keeps the rank from review."""
        return [
            dataclasses.replace(e, rank=pos, review_rank=e.rank)
            for pos, e in enumerate(self.current_entries(), start=1)
        ]

    def public_entries(self) -> list[dict[str, Any]]:
        return public_list_dicts(self.final_list(), publish_scores=self.publish_scores)

    def unresolved_objections(self) -> list[Objection]:
        return [o for o in self.objections if not o.resolved]

    def objection(self, objection_id: str) -> Objection:
        for o in self.objections:
            if o.id == objection_id:
                return o
        raise NotFound(
            "objection_not_found", "未找到该异议", "No such objection", {"objection_id": objection_id}
        )

    def is_accepting_objections(self, now: dt.datetime) -> bool:
        return (
            self.state is NoticeState.OPEN
            and self.opens_at is not None
            and self.ends_at is not None
            and self.opens_at <= now <= self.ends_at
        )

    # --- transitions ------------------------------------------------------------------

    def open(
        self, now: dt.datetime, working_days: int = DEFAULT_NOTICE_WORKING_DAYS, minutes: float | None = None
    ) -> list[Event]:
        """Open the period: ``working_days`` Chinese working days, or ``minutes`` in a rehearsal."""
        _require_aware(now, "now")
        if self.state is not NoticeState.DRAFT:
            raise _wrong_state("开始公示", "open it", self.state, [NoticeState.DRAFT])
        if minutes is not None and not self.rehearsal:
            raise DomainError(
                "notice_minutes_outside_rehearsal",
                "只有演练活动的公示期可以按分钟计",
                "Only a rehearsal's notice period may be set in minutes",
                {"minutes": minutes},
            )
        if minutes is not None:
            ends_at = now + dt.timedelta(minutes=minutes)
        else:
            ends_at = add_working_days(now, working_days, self.tz)
        self.state = NoticeState.OPEN
        self.working_days = working_days
        self.period_minutes = minutes
        self.opens_at = now
        self.ends_at = ends_at
        return [
            make_event(
                "notice.opened.v1",
                self.id,
                now,
                {
                    "notice_id": self.id,
                    "call_id": self.call_id,
                    "title": self.title,
                    "opens_at": iso(self.opens_at),
                    "ends_at": iso(self.ends_at),
                    "working_days": working_days,
                    "rehearsal": self.rehearsal,
                    "entries": public_list_dicts(self.current_entries(), publish_scores=self.publish_scores),
                },
            )
        ]

    def file_objection(
        self,
        application_id: str,
        data: ObjectionInput,
        now: dt.datetime,
        *,
        objection_id: str | None = None,
        code_factory: Callable[[], str] = new_tracking_code,
    ) -> tuple[Objection, list[Event]]:
        """File (or merge into an earlier) objection; only while the notice is open."""
        _require_aware(now, "now")
        if self.state is not NoticeState.OPEN:
            raise Conflict(
                "notice_not_open",
                "当前不在公示期内，不能提出异议",
                "The notice is not open; objections cannot be filed",
                {"state": self.state.value},
            )
        assert self.opens_at is not None and self.ends_at is not None
        if not self.opens_at <= now <= self.ends_at:
            raise Conflict(
                "notice_period_ended",
                "公示期已结束，不再受理异议",
                "The notice period has ended; objections are no longer accepted",
                {"ends_at": iso(self.ends_at)},
            )
        if application_id not in self.listed_ids:
            raise NotFound(
                "project_not_on_notice",
                "该项目不在本次公示名单中",
                "This project is not on the notice",
                {"application_id": application_id},
            )
        existing = find_duplicate(self.objections, self.id, application_id, data.contact)
        if existing is not None:
            existing.merge(data, now)
            return existing, [
                make_event("objection.filed.v1", existing.id, now, existing.event_data() | {"merged": True})
            ]
        objection = Objection.create(
            objection_id or str(uuid.uuid4()), self.id, application_id, data, now, code_factory
        )
        known = {o.tracking_code for o in self.objections}
        while objection.tracking_code in known:  # 50 random bits; a clash is near impossible
            objection.tracking_code = code_factory()
        self.objections.append(objection)
        return objection, [
            make_event("objection.filed.v1", objection.id, now, objection.event_data() | {"merged": False})
        ]

    def _next_reserve(self, removing: str) -> SelectionEntry | None:
        used = set(self.listed_ids) | {r.removed_application_id for r in self.replacements} | {removing}
        for entry in self.reserves:
            if entry.application_id not in used:
                return entry
        return None

    def resolve_objection(
        self,
        objection_id: str,
        *,
        upheld: bool,
        note_zh: str,
        resolved_by: str,
        now: dt.datetime,
        replace: bool = True,
        no_replacement_reason_zh: str = "",
    ) -> list[Event]:
        """Decide an objection. Upheld removes the project and brings in the next-ranked
        reserve, unless ``replace`` is False (then ``no_replacement_reason_zh`` is required)."""
        _require_aware(now, "now")
        if self.state is not NoticeState.OPEN:
            raise _wrong_state("处理异议", "resolve objections", self.state, [NoticeState.OPEN])
        objection = self.objection(objection_id)
        if upheld and not replace and not no_replacement_reason_zh.strip():
            raise InvalidInput(
                [
                    Issue(
                        "no_replacement_reason_required",
                        "不递补时须说明理由",
                        "A reason is required when no project replaces the removed one",
                        "no_replacement_reason_zh",
                    )
                ]
            )
        objection.resolve(upheld, note_zh, resolved_by, now)
        data = objection.event_data() | {
            "outcome": objection.status.value,
            "resolution_note_zh": objection.resolution_note_zh,
        }
        if upheld:
            removed = objection.application_id
            if removed not in self.listed_ids:
                data["replacement"] = None
                data["project_already_removed"] = True
            else:
                self.listed_ids.remove(removed)
                reserve = self._next_reserve(removed) if replace else None
                if reserve is not None:
                    self.listed_ids.append(reserve.application_id)
                    reason_zh = f"由候补项目“{reserve.project_name}”（评审排名第 {reserve.rank} 名）递补"
                    reason_en = f"Replaced by the next-ranked reserve (review rank {reserve.rank})"
                elif replace:
                    reason_zh = "候补项目已用尽，不再递补"
                    reason_en = "No reserve left; the place stays empty"
                else:
                    reason_zh = no_replacement_reason_zh.strip()
                    reason_en = "The organiser decided not to fill the place"
                replacement = Replacement(
                    removed, reserve.application_id if reserve else None, reason_zh, reason_en, now
                )
                objection.replacement = replacement
                self.replacements.append(replacement)
                data["replacement"] = replacement.to_dict()
                assert self.ends_at is not None
                # A reserve added after the period never faced the public; staff may re-notice.
                data["replacement_after_period_end"] = reserve is not None and now > self.ends_at
        return [make_event("objection.resolved.v1", objection.id, now, data)]

    def close(self, now: dt.datetime) -> list[Event]:
        _require_aware(now, "now")
        if self.state is not NoticeState.OPEN:
            raise _wrong_state("结束公示", "close it", self.state, [NoticeState.OPEN])
        assert self.ends_at is not None
        if now <= self.ends_at:
            raise Conflict(
                "notice_period_not_over",
                "公示期尚未届满，不能提前结束",
                "The notice period has not ended yet",
                {"ends_at": iso(self.ends_at)},
            )
        pending = self.unresolved_objections()
        if pending:
            raise Conflict(
                "unresolved_objections",
                f"尚有 {len(pending)} 件异议未处理，处理完毕后方可结束公示",
                f"{len(pending)} objection(s) are still unresolved; resolve them before closing",
                {"count": len(pending), "objection_ids": [o.id for o in pending]},
            )
        self.state = NoticeState.CLOSED
        self.closed_at = now
        return [
            make_event(
                "notice.closed.v1",
                self.id,
                now,
                {
                    "notice_id": self.id,
                    "call_id": self.call_id,
                    "closed_at": iso(now),
                    "rehearsal": self.rehearsal,
                    "final_application_ids": [e.application_id for e in self.final_list()],
                    "objections": {
                        "total": len(self.objections),
                        "upheld": sum(o.status.value == "upheld" for o in self.objections),
                        "rejected": sum(o.status.value == "rejected" for o in self.objections),
                    },
                    "replacements": [r.to_dict() for r in self.replacements],
                },
            )
        ]

    def schedule(self, publish_at: dt.datetime, now: dt.datetime) -> list[Event]:
        """Publish the final list at ``publish_at`` (e.g. a key date); reschedule allowed."""
        _require_aware(publish_at, "publish_at")
        _require_aware(now, "now")
        allowed = [NoticeState.CLOSED, NoticeState.SCHEDULED]
        if self.state not in allowed:
            raise _wrong_state("定时发布", "schedule publication", self.state, allowed)
        if publish_at <= now:
            raise DomainError(
                "schedule_in_past",
                "定时发布时间须晚于当前时间",
                "The publication time must be in the future",
                {"publish_at": iso(publish_at), "now": iso(now)},
            )
        self.state = NoticeState.SCHEDULED
        self.publish_at = publish_at
        return [
            make_event(
                "list.scheduled.v1",
                self.id,
                now,
                {"notice_id": self.id, "call_id": self.call_id, "publish_at": iso(publish_at)},
            )
        ]

    def unschedule(self, now: dt.datetime) -> list[Event]:
        if self.state is not NoticeState.SCHEDULED:
            raise _wrong_state("取消定时发布", "cancel the schedule", self.state, [NoticeState.SCHEDULED])
        self.state = NoticeState.CLOSED
        self.publish_at = None
        return [
            make_event("list.unscheduled.v1", self.id, now, {"notice_id": self.id, "call_id": self.call_id})
        ]

    def publish(self, now: dt.datetime) -> list[Event]:
        """Publish now (from closed), or when a scheduled time has come."""
        _require_aware(now, "now")
        allowed = [NoticeState.CLOSED, NoticeState.SCHEDULED]
        if self.state not in allowed:
            raise _wrong_state("发布名单", "publish the list", self.state, allowed)
        if self.state is NoticeState.SCHEDULED and self.publish_at is not None and now < self.publish_at:
            raise Conflict(
                "publication_not_due",
                "尚未到定时发布时间；如需提前发布请先取消或修改定时",
                "The scheduled time has not come; unschedule or reschedule to publish earlier",
                {"publish_at": iso(self.publish_at)},
            )
        self.state = NoticeState.PUBLISHED
        self.published_at = now
        return [
            make_event(
                "list.published.v1",
                self.id,
                now,
                {
                    "notice_id": self.id,
                    "call_id": self.call_id,
                    "call_name": self.call_name,
                    "title": self.final_list_title,
                    "published_at": iso(now),
                    "rehearsal": self.rehearsal,
                    "notice_period": {"opens_at": iso(self.opens_at), "ends_at": iso(self.ends_at)},
                    "scores_published": self.publish_scores,
                    "entries": self.public_entries(),
                },
            )
        ]


def due_for_publication(notices: Iterable[Notice], now: dt.datetime) -> list[Notice]:
    """Scheduled notices whose time has come, earliest first (for a periodic timer)."""
    due = [
        n
        for n in notices
        if n.state is NoticeState.SCHEDULED and n.publish_at is not None and n.publish_at <= now
    ]
    return sorted(due, key=lambda n: n.publish_at or now)
