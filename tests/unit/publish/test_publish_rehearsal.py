"""Rehearsals (演练): a compressed notice period, and every output marked."""

from __future__ import annotations

import datetime as dt

import pytest
from publish_support import CALL_NAME, at, make_entries

from gongyi.errors import Conflict, DomainError
from services.publish.domain.exports import export, final_list_document, period_text
from services.publish.domain.feeds import list_entry
from services.publish.domain.notice import REHEARSAL_MARK, Notice
from services.publish.storage.documents import notice_from_doc, notice_to_doc


def _rehearsal() -> Notice:
    return Notice.draft("n-r", "call-r", CALL_NAME, make_entries(3), make_entries(1, start_rank=4, prefix="r"),
                        rehearsal=True)


def test_a_rehearsal_notice_runs_for_minutes_and_can_then_close():
    notice = _rehearsal()
    opened = at(2024, 2, 8, 10)
    [event] = notice.open(opened, 5, minutes=2)
    assert notice.ends_at == opened + dt.timedelta(minutes=2)
    assert event["data"]["rehearsal"] is True
    with pytest.raises(Conflict):
        notice.close(opened + dt.timedelta(minutes=1))
    [closed] = notice.close(opened + dt.timedelta(minutes=2, seconds=1))
    assert closed["data"]["rehearsal"] is True
    [published] = notice.publish(opened + dt.timedelta(minutes=3))
    assert published["data"]["rehearsal"] is True and published["data"]["title"].startswith(REHEARSAL_MARK)


def test_minutes_are_refused_outside_a_rehearsal():
    real = Notice.draft("n-1", "call-1", CALL_NAME, make_entries(3))
    with pytest.raises(DomainError) as err:
        real.open(at(2024, 2, 8, 10), 5, minutes=2)
    assert err.value.code == "notice_minutes_outside_rehearsal"
    assert real.ends_at is None


def test_every_output_of_a_rehearsal_is_marked():
    notice = _rehearsal()
    notice.open(at(2024, 2, 8, 10), 5, minutes=2)
    assert notice.title.startswith(REHEARSAL_MARK)
    assert "演练" in period_text(notice) and "2分钟" in period_text(notice)
    notice.close(at(2024, 2, 8, 10, 3))
    notice.publish(at(2024, 2, 8, 10, 4))
    assert final_list_document(notice).title.startswith(REHEARSAL_MARK)
    assert list_entry(notice, base_url="https://x.example", authority="x.example").title.startswith(REHEARSAL_MARK)
    for fmt in ("csv", "xlsx", "pdf"):
        body, _, _ = export(notice, final=True, fmt=fmt)
        assert body
    csv_text = export(notice, final=True, fmt="csv")[0].decode("utf-8-sig")
    assert "演练" in csv_text
    # the flag survives storage
    again = notice_from_doc(notice_to_doc(notice))
    assert again.rehearsal and again.period_minutes == 2


def test_a_real_notice_is_not_marked():
    real = Notice.draft("n-1", "call-1", CALL_NAME, make_entries(3))
    assert REHEARSAL_MARK not in real.title and not real.rehearsal
