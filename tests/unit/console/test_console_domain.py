"""The console's rules without a server: passwords, sessions, the sign-in limit, the material
count, and which events need whom."""

from __future__ import annotations

import datetime as dt

import pytest

from gongyi.errors import DomainError
from services.console.domain import accounts as acc
from services.console.domain import notifications as notes
from services.console.domain import sessions as sess
from services.console.domain.material import count_chars, count_material
from services.intake.domain.text_count import count_chars as intake_count_chars

T0 = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def test_passwords_are_argon2id_hashes_that_verify_only_the_right_password():
    stored = acc.hash_password("correct-horse-battery")
    assert stored.startswith("$argon2id$") and "correct-horse" not in stored
    assert acc.verify_password(stored, "correct-horse-battery")
    assert not acc.verify_password(stored, "correct-horse-batterz")
    assert not acc.verify_password(None, "anything")  # unknown account: same answer
    assert not acc.verify_password("not-a-hash", "x")


@pytest.mark.parametrize("password", ["short", "1234567890123", ""])
def test_weak_passwords_are_refused(password):
    with pytest.raises(DomainError) as err:
        acc.check_new_password(password)
    assert err.value.code == "weak_password" and err.value.status == 422


def test_the_repeated_password_must_match():
    with pytest.raises(DomainError) as err:
        acc.check_new_password("long-enough-pass", "long-enough-past")
    assert err.value.code == "passwords_differ"


def test_emails_are_normalised_and_checked():
    assert acc.normalise_email("  Zhang.San@Example.ORG ") == "zhang.san@example.org"
    with pytest.raises(DomainError):
        acc.normalise_email("not-an-address")


def test_tokens_carry_the_accounts_scope_like_the_api_tokens():
    unit = acc.Account("a1", "u@x.org", "unit", "北京", "active", unit_code="cac-beijing")
    expert = acc.Account("a2", "e@x.org", "expert", "王", "active", expert_id="e1")
    applicant = acc.Account("a3", "a@x.org", "applicant", "张", "active", org_code="53110000500000007T")
    assert unit.token_claims()["unit"] == "cac-beijing" and "expert" not in unit.token_claims()
    assert expert.token_claims()["expert"] == "e1"
    assert applicant.token_claims()["org"] == "53110000500000007T"


def test_each_role_enters_only_its_own_area():
    assert acc.may_enter("staff", "staff") and not acc.may_enter("applicant", "staff")
    assert not acc.may_enter("unit", "expert") and not acc.may_enter("expert", "unit")


def test_invitations_need_the_scope_of_their_role():
    with pytest.raises(DomainError) as err:
        acc.check_invitation("unit", None, None)
    assert err.value.code == "unit_required"
    with pytest.raises(DomainError) as err:
        acc.check_invitation("expert", None, None)
    assert err.value.code == "expert_required"
    with pytest.raises(DomainError):
        acc.check_invitation("applicant", None, None)  # applicants register themselves
    acc.check_invitation("staff", None, None)


def test_a_session_ends_when_idle_or_too_old():
    times = sess.SessionTimes(created_at=T0, last_seen_at=T0)
    assert not sess.session_expired(times, T0 + dt.timedelta(minutes=29), idle_s=1800, absolute_s=43200)
    assert sess.session_expired(times, T0 + dt.timedelta(minutes=31), idle_s=1800, absolute_s=43200)
    busy = sess.SessionTimes(created_at=T0, last_seen_at=T0 + dt.timedelta(hours=12, minutes=1))
    assert sess.session_expired(busy, T0 + dt.timedelta(hours=12, minutes=2), idle_s=1800, absolute_s=43200)


def test_only_digests_of_secrets_are_kept_and_tokens_compare_in_constant_time():
    secret = sess.new_secret()
    assert len(secret) >= 40 and sess.digest(secret) != secret and len(sess.digest(secret)) == 64
    assert sess.same_token("abc", "abc") and not sess.same_token("abc", "abd")
    assert not sess.same_token("", "") and not sess.same_token(None, "x")


def test_the_sign_in_limit_counts_failures_inside_the_window_only():
    assert sess.parse_rate("5/300") == (5, 300)
    recent = [T0 - dt.timedelta(seconds=s) for s in (10, 20, 30, 40)]
    assert not sess.too_many_attempts(recent, T0, 5, 300)
    assert sess.too_many_attempts([*recent, T0 - dt.timedelta(seconds=50)], T0, 5, 300)
    old = [T0 - dt.timedelta(seconds=400)] * 10
    assert not sess.too_many_attempts(old, T0, 5, 300)


@pytest.mark.parametrize("text", ["双师课堂 模式\n可复制推广。", "ABC１２３，。\u3000\t", "零宽\u200b空格\ufeff",
                                  "é（NFD e\u0301）", ""])
def test_the_material_count_is_intakes_count(text):
    assert count_chars(text) == intake_count_chars(text)


def test_the_material_is_counted_over_the_calls_fields_only():
    form = {"summary": "一二三", "implementation_results": "四 五", "innovation": "六", "project_name": "不计入"}
    assert count_material(form, ["summary", "implementation_results", "innovation"]) == 6
    assert count_material(form, ["summary"]) == 3


def test_each_step_that_needs_someone_has_its_recipients():
    submitted = notes.messages_for("application.submitted.v1", {
        "application_id": "a1", "unit_code": "cac-beijing", "project_name": "网络课堂", "applicant_name": "基金会"})
    assert {(m.audience.kind, m.audience.key) for m in submitted} == {("owner", "a1"), ("unit", "cac-beijing")}
    returned = notes.messages_for("application.returned.v1", {"application_id": "a1", "reason": "请补充数据来源"})
    assert returned[0].audience == notes.Audience("owner", "a1") and "请补充数据来源" in returned[0].body
    assigned = notes.messages_for("assignment.made.v1", {"application_id": "a1", "expert_id": "e1"})
    assert assigned[0].audience == notes.Audience("expert", "e1")
    selected = notes.messages_for("selection.confirmed.v1", {"call_title": "2024", "entries": [
        {"application_id": "a1"}, {"application_id": "a2"}]})
    assert [m.audience.key for m in selected] == ["a1", "a2"]
    answered = notes.messages_for("objection.resolved.v1", {"application_id": "a1", "outcome": "dismissed",
                                                            "resolution_note_zh": "异议不成立的理由"})
    assert "异议不成立" in answered[0].body
    assert notes.messages_for("call.loaded.v1", {}) == []


def test_refused_mail_waits_longer_each_time_up_to_ten_minutes():
    assert [notes.retry_delay_s(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert notes.retry_delay_s(30) == 600.0


def test_search_highlights_keep_only_the_engines_marks():
    from services.console.entrypoints.web import highlight

    out = str(highlight("乡村<em>留守儿童</em><script>alert(1)</script>"))
    assert out == "乡村<mark>留守儿童</mark>&lt;script&gt;alert(1)&lt;/script&gt;"


def test_a_review_deadline_reminds_the_expert_with_the_count_and_beijing_time():
    data = {"call_id": "c", "expert_id": "exp-1", "due_at": "2025-05-31T10:00:00+00:00", "pending": ["a", "b"],
            "pending_count": 2, "overdue": False}
    [msg] = notes.messages_for("review.due.v1", data)
    assert msg.audience == notes.Audience("expert", "exp-1")
    assert "2 个项目" in msg.subject and "即将截止" in msg.subject
    assert "2025年05月31日 18:00（北京时间）" in msg.body
    [late] = notes.messages_for("review.due.v1", {**data, "overdue": True})
    assert "已过截止时间" in late.subject


def test_a_report_deadline_reminds_the_team_and_its_unit():
    data = {"call_id": "c", "application_id": "app-1", "notice_id": "n", "project_name": "网络课堂",
            "unit_code": "cac-beijing", "due_at": "2025-06-30T15:59:59+00:00", "overdue": False}
    owner, unit = notes.messages_for("report.due.v1", data)
    assert owner.audience == notes.Audience("owner", "app-1") and unit.audience == notes.Audience("unit", "cac-beijing")
    assert "网络课堂" in owner.subject and "2025年06月30日 23:59" in owner.body
    assert owner.link == "/console/applicant/reports" and unit.link == "/console/unit/reports"
    assert len(notes.messages_for("report.due.v1", {**data, "unit_code": None})) == 1


def test_typed_deadlines_are_read_as_beijing_time_and_bad_ones_refused():
    from services.console.domain.deadlines import parse_deadline, parse_deadline_list

    assert parse_deadline("2025-06-30").isoformat() == "2025-06-30T23:59:59+08:00"
    assert parse_deadline("2025-06-30T18:00").isoformat() == "2025-06-30T18:00:00+08:00"
    assert [d.date().isoformat() for d in parse_deadline_list("2025-12-31，2025-06-30, 2025-06-30")] == [
        "2025-06-30", "2025-12-31"]
    with pytest.raises(DomainError) as err:
        parse_deadline_list("2025-06-31")
    assert err.value.code == "invalid_deadline" and err.value.status == 422


def test_an_uploaded_call_document_is_one_yaml_or_json_mapping():
    from services.console.domain.call_upload import MAX_BYTES, parse_call_upload

    assert parse_call_upload(b"id: x\nwindow:\n  opens: 2024-01-29T10:30:00\n") == {
        "id": "x", "window": {"opens": "2024-01-29T10:30:00"}}  # YAML's dates travel as ISO strings
    assert parse_call_upload('{"id": "x", "title": "征集"}'.encode()) == {"id": "x", "title": "征集"}
    for bad in (b"- a\n- list\n", b"key: [unclosed", "\ufeff".encode("utf-16"), b"x" * (MAX_BYTES + 1)):
        with pytest.raises(DomainError) as err:
            parse_call_upload(bad)
        assert err.value.code == "invalid_call_document" and err.value.status == 422
    with pytest.raises(DomainError) as err:
        parse_call_upload(b"  \n")
    assert err.value.code == "missing_field"
