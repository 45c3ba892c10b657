import datetime as dt

import pytest
from publish_support import SH, at, make_entries, objection_input, sequential_codes

from gongyi.errors import Conflict, DomainError, InvalidInput, NotFound
from services.publish.domain.notice import (
    Notice,
    NoticeState,
    due_for_publication,
    key_date_moment,
)

END = dt.datetime(2024, 2, 21, 23, 59, 59, tzinfo=SH)


def test_open_sets_period_in_working_days_and_emits_event(notice):
    events = notice.open(at(2024, 2, 8, 10))
    assert notice.state is NoticeState.OPEN
    assert notice.opens_at == at(2024, 2, 8, 10)
    assert notice.ends_at == END
    assert [e["type"] for e in events] == ["notice.opened.v1"]
    data = events[0]["data"]
    assert data["ends_at"] == "2024-02-21T23:59:59+08:00"
    assert data["working_days"] == 5
    assert len(data["entries"]) == 30
    assert events[0]["source"] == "gongyi/publish" and events[0]["subject"] == "n-2024"


def test_open_twice_is_refused(open_notice):
    with pytest.raises(Conflict) as err:
        open_notice.open(at(2024, 2, 9))
    assert err.value.code == "invalid_notice_state"


def test_draft_refuses_duplicates_and_empty():
    with pytest.raises(InvalidInput) as err:
        Notice.draft("n", "c", "call", [], [])
    assert err.value.issues[0].code == "selection_empty"
    entries = make_entries(2)
    with pytest.raises(InvalidInput) as err:
        Notice.draft("n", "c", "call", entries + [entries[0]])
    assert {i.code for i in err.value.issues} >= {"duplicate_entries"}


def test_objection_only_while_open(notice):
    with pytest.raises(Conflict) as err:
        notice.file_objection("a1", objection_input(), at(2024, 2, 8, 9))
    assert err.value.code == "notice_not_open"
    notice.open(at(2024, 2, 8, 10))
    with pytest.raises(Conflict) as err:
        notice.file_objection("a1", objection_input(), at(2024, 2, 22, 0, 0, 0))
    assert err.value.code == "notice_period_ended"
    # The last second of the period still counts.
    objection, events = notice.file_objection("a1", objection_input(), END)
    assert events[0]["type"] == "objection.filed.v1"
    assert objection.application_id == "a1"


def test_objection_against_project_not_on_notice_is_refused(open_notice):
    with pytest.raises(NotFound) as err:
        open_notice.file_objection("r31", objection_input(), at(2024, 2, 9))
    assert err.value.code == "project_not_on_notice"


def test_close_refused_before_period_end_and_with_unresolved_objections(open_notice):
    objection, _ = open_notice.file_objection("a3", objection_input(), at(2024, 2, 9))
    with pytest.raises(Conflict) as err:
        open_notice.close(at(2024, 2, 21, 12))
    assert err.value.code == "notice_period_not_over"
    with pytest.raises(Conflict) as err:
        open_notice.close(at(2024, 2, 22, 9))
    assert err.value.code == "unresolved_objections"
    assert err.value.details["objection_ids"] == [objection.id]
    assert "未处理" in err.value.message_zh
    open_notice.resolve_objection(
        objection.id,
        upheld=False,
        note_zh="经核实，项目启动时间符合要求",
        resolved_by="staff-1",
        now=at(2024, 2, 22),
    )
    events = open_notice.close(at(2024, 2, 22, 11))
    assert open_notice.state is NoticeState.CLOSED
    assert events[0]["type"] == "notice.closed.v1"
    assert events[0]["data"]["objections"] == {"total": 1, "upheld": 0, "rejected": 1}
    assert len(events[0]["data"]["final_application_ids"]) == 30


def test_upheld_objection_removes_project_and_brings_next_reserve(open_notice):
    objection, _ = open_notice.file_objection("a3", objection_input(), at(2024, 2, 9))
    events = open_notice.resolve_objection(
        objection.id,
        upheld=True,
        note_zh="经核实项目启动时间不符合条件",
        resolved_by="staff-1",
        now=at(2024, 2, 19),
    )
    data = events[0]["data"]
    assert events[0]["type"] == "objection.resolved.v1"
    assert data["outcome"] == "upheld"
    assert data["replacement"]["removed_application_id"] == "a3"
    assert data["replacement"]["replacement_application_id"] == "r31"
    assert data["replacement_after_period_end"] is False
    assert "a3" not in open_notice.listed_ids and "r31" in open_notice.listed_ids
    final = open_notice.final_list()
    assert [e.rank for e in final] == list(range(1, 31))
    assert final[-1].application_id == "r31" and final[-1].review_rank == 31
    assert final[2].application_id == "a4" and final[2].review_rank == 4
    # The replacement is on the notice now, so it can be objected to.
    objection2, _ = open_notice.file_objection(
        "r31", objection_input(contact="x@example.org"), at(2024, 2, 20)
    )
    open_notice.resolve_objection(
        objection2.id, upheld=True, note_zh="属实", resolved_by="s", now=at(2024, 2, 20)
    )
    assert "r32" in open_notice.listed_ids


def test_upheld_with_no_reserve_left_records_reason(open_notice):
    ids = []
    for app in ("a1", "a2", "a3"):
        o, _ = open_notice.file_objection(app, objection_input(), at(2024, 2, 9))
        ids.append(o.id)
    for oid in ids:
        open_notice.resolve_objection(oid, upheld=True, note_zh="属实", resolved_by="s", now=at(2024, 2, 19))
    last = open_notice.replacements[-1]
    assert last.replacement_application_id is None
    assert last.reason_zh == "候补项目已用尽，不再递补"
    assert len(open_notice.listed_ids) == 29


def test_upheld_without_replacement_needs_reason(open_notice):
    o, _ = open_notice.file_objection("a1", objection_input(), at(2024, 2, 9))
    with pytest.raises(InvalidInput) as err:
        open_notice.resolve_objection(
            o.id, upheld=True, note_zh="属实", resolved_by="s", now=at(2024, 2, 9), replace=False
        )
    assert err.value.issues[0].code == "no_replacement_reason_required"
    assert not o.resolved  # refused before anything changed
    events = open_notice.resolve_objection(
        o.id,
        upheld=True,
        note_zh="属实",
        resolved_by="s",
        now=at(2024, 2, 9),
        replace=False,
        no_replacement_reason_zh="工作小组决定本次不递补",
    )
    assert events[0]["data"]["replacement"]["replacement_application_id"] is None
    assert events[0]["data"]["replacement"]["reason_zh"] == "工作小组决定本次不递补"


def test_second_upheld_objection_on_same_project_does_not_remove_twice(open_notice):
    o1, _ = open_notice.file_objection("a5", objection_input(), at(2024, 2, 9))
    o2, _ = open_notice.file_objection("a5", objection_input(contact="other@example.org"), at(2024, 2, 9))
    assert o1.id != o2.id
    open_notice.resolve_objection(o1.id, upheld=True, note_zh="属实", resolved_by="s", now=at(2024, 2, 19))
    events = open_notice.resolve_objection(
        o2.id, upheld=True, note_zh="同上", resolved_by="s", now=at(2024, 2, 19)
    )
    assert events[0]["data"]["project_already_removed"] is True
    assert open_notice.listed_ids.count("r31") == 1 and "r32" not in open_notice.listed_ids


def test_resolving_twice_is_refused(open_notice):
    o, _ = open_notice.file_objection("a1", objection_input(), at(2024, 2, 9))
    open_notice.resolve_objection(o.id, upheld=False, note_zh="不属实", resolved_by="s", now=at(2024, 2, 9))
    with pytest.raises(Conflict) as err:
        open_notice.resolve_objection(o.id, upheld=True, note_zh="x", resolved_by="s", now=at(2024, 2, 9))
    assert err.value.code == "objection_already_resolved"


def _closed(open_notice: Notice) -> Notice:
    open_notice.close(at(2024, 2, 22, 9))
    return open_notice


def test_publish_now_carries_full_public_list(open_notice):
    notice = _closed(open_notice)
    events = notice.publish(at(2024, 2, 23, 9))
    assert notice.state is NoticeState.PUBLISHED
    event = events[0]
    assert event["type"] == "list.published.v1"
    entries = event["data"]["entries"]
    assert len(entries) == 30
    assert entries[0]["project_name"] == "乡村儿童阅读点亮计划1号"
    assert set(entries[0]) == {
        "application_id",
        "rank",
        "project_name",
        "organisation",
        "category",
        "province",
        "unit",
        "summary",
        "evidence",
    }  # no score: this call does not publish scores
    with pytest.raises(Conflict):
        notice.publish(at(2024, 2, 24))


def test_scores_published_when_call_says_so():
    n = Notice.draft("n", "c", "call", make_entries(3), publish_scores=True)
    n.open(at(2024, 2, 8))
    n.close(at(2024, 2, 22))
    entries = n.publish(at(2024, 2, 23))[0]["data"]["entries"]
    assert entries[0]["score"] == 94.5


def test_schedule_at_key_date_and_due_for_publication(open_notice):
    notice = _closed(open_notice)
    when = key_date_moment(2024, "03-05")  # 学雷锋日 09:00
    assert when == dt.datetime(2024, 3, 5, 9, 0, tzinfo=SH)
    with pytest.raises(DomainError) as err:
        notice.schedule(at(2024, 2, 1), now=at(2024, 2, 22, 10))
    assert err.value.code == "schedule_in_past"
    events = notice.schedule(when, now=at(2024, 2, 22, 10))
    assert events[0]["type"] == "list.scheduled.v1"
    assert events[0]["data"]["publish_at"] == "2024-03-05T09:00:00+08:00"
    other = Notice.draft("n2", "c", "call", make_entries(1))
    assert due_for_publication([notice, other], at(2024, 3, 5, 8, 59)) == []
    with pytest.raises(Conflict) as err:
        notice.publish(at(2024, 3, 5, 8, 59))
    assert err.value.code == "publication_not_due"
    assert due_for_publication([notice, other], at(2024, 3, 5, 9, 0)) == [notice]
    published = notice.publish(at(2024, 3, 5, 9, 0, 5))
    assert published[0]["type"] == "list.published.v1"
    assert due_for_publication([notice], at(2024, 3, 6)) == []


def test_unschedule_returns_to_closed(open_notice):
    notice = _closed(open_notice)
    notice.schedule(at(2024, 3, 5), now=at(2024, 2, 22, 10))
    notice.unschedule(at(2024, 2, 23))
    assert notice.state is NoticeState.CLOSED and notice.publish_at is None
    assert notice.publish(at(2024, 2, 23))[0]["type"] == "list.published.v1"


def test_events_never_carry_objector_identity(open_notice):
    o, filed = open_notice.file_objection(
        "a1", objection_input(), at(2024, 2, 9), code_factory=sequential_codes()
    )
    resolved = open_notice.resolve_objection(
        o.id, upheld=True, note_zh="属实", resolved_by="s", now=at(2024, 2, 9)
    )
    text = repr(filed + resolved)
    assert "李异议" not in text and "13900001111" not in text
    assert o.tracking_code == "CODE000000" and "CODE000000" in text
