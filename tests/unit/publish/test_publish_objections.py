import pytest
from publish_support import at, objection_input

from gongyi.errors import Conflict, InvalidInput, TooManyRequests
from services.publish.domain.objections import (
    MIN_REASON_CHARS,
    RateLimiter,
    contact_kind,
    normalise_contact,
    parse_objection,
)
from services.publish.domain.tracking_codes import (
    ALPHABET,
    format_tracking_code,
    is_valid_tracking_code,
    new_tracking_code,
    normalise_tracking_code,
)

GOOD = {
    "name": "王五",
    "contact": "+86 139-0000-1111",
    "relation": "受助对象家属",
    "reason": "项目方宣传的受益人数与实际严重不符，我所在村并未开展任何活动。",
    "evidence_ids": ["e1"],
}


def test_parse_valid_payload():
    data = parse_objection(GOOD)
    assert data.name == "王五" and data.evidence_ids == ["e1"]


def test_parse_collects_every_issue():
    with pytest.raises(InvalidInput) as err:
        parse_objection({**GOOD, "contact": "not a contact", "reason": "太短", "name": ""})
    codes = {i.code for i in err.value.issues}
    assert codes == {"contact_invalid", "reason_too_short", "name_length"}
    short = next(i for i in err.value.issues if i.code == "reason_too_short")
    assert short.path == "reason" and short.details["min"] == MIN_REASON_CHARS
    assert short.message_zh and short.message_en


def test_parse_refuses_missing_and_unknown_fields():
    with pytest.raises(InvalidInput) as err:
        parse_objection({"name": "x", "contact": "a@b.cn", "relation": "r", "extra": 1})
    paths = {i.path for i in err.value.issues}
    assert {"reason", "extra"} <= paths


@pytest.mark.parametrize(
    "raw,key,kind",
    [
        ("+86 139-0000-1111", "13900001111", "mobile"),
        ("8613900001111", "13900001111", "mobile"),
        ("１３９００００１１１１", "13900001111", "mobile"),  # full-width digits
        ("0371-65905052", "037165905052", "landline"),
        (" WXBSPC@163.COM ", "wxbspc@163.com", "email"),
        ("12345", "12345", None),
    ],
)
def test_contact_normalisation(raw, key, kind):
    assert normalise_contact(raw) == key
    assert contact_kind(raw) == kind


def test_duplicates_from_same_person_about_same_project_merge(open_notice):
    first, e1 = open_notice.file_objection("a1", objection_input(contact="139 0000 1111"), at(2024, 2, 9))
    second_reason = "补充：该项目的线下活动照片系从其他机构网站转载，并非本项目实施。"
    again, e2 = open_notice.file_objection(
        "a1",
        objection_input(reason=second_reason, contact="+86-13900001111", evidence_ids=["ev-2"]),
        at(2024, 2, 10),
    )
    assert again is first
    assert len(open_notice.objections) == 1
    assert [r.text for r in first.reasons][1] == second_reason
    assert second_reason in first.reason_text
    assert first.evidence_ids == ["ev-1", "ev-2"]
    assert e1[0]["data"]["merged"] is False and e2[0]["data"]["merged"] is True
    assert e2[0]["data"]["reason_count"] == 2
    # Same words again do not duplicate the reason.
    open_notice.file_objection("a1", objection_input(reason=second_reason), at(2024, 2, 11))
    assert len(first.reasons) == 2


def test_same_person_other_project_or_other_person_is_separate(open_notice):
    a, _ = open_notice.file_objection("a1", objection_input(), at(2024, 2, 9))
    b, _ = open_notice.file_objection("a2", objection_input(), at(2024, 2, 9))
    c, _ = open_notice.file_objection("a1", objection_input(contact="someone@example.org"), at(2024, 2, 9))
    assert len({a.id, b.id, c.id}) == 3
    assert len({a.tracking_code, b.tracking_code, c.tracking_code}) == 3


def test_rejected_objection_with_new_reason_reopens(open_notice):
    o, _ = open_notice.file_objection("a1", objection_input(), at(2024, 2, 9))
    open_notice.resolve_objection(o.id, upheld=False, note_zh="不属实", resolved_by="s", now=at(2024, 2, 10))
    open_notice.file_objection(
        "a1", objection_input(reason="新的事实：" + "项目账目未公开，" * 3), at(2024, 2, 11)
    )
    assert not o.resolved and o.history[0]["status"] == "rejected"
    assert open_notice.unresolved_objections() == [o]


def test_upheld_objection_cannot_be_merged_into():
    from services.publish.domain.objections import Objection

    o = Objection.create("o1", "n", "a1", objection_input(), at(2024, 2, 9))
    o.resolve(True, "属实", "s", at(2024, 2, 9))
    with pytest.raises(Conflict) as err:
        o.merge(objection_input(), at(2024, 2, 10))
    assert err.value.code == "objection_already_upheld"


def test_status_for_objector_hides_identity():
    from services.publish.domain.objections import Objection

    o = Objection.create("o1", "n", "a1", objection_input(), at(2024, 2, 9))
    view = o.status_for_objector()
    assert view["status"] == "filed" and view["tracking_code"] == o.tracking_code
    assert "李异议" not in repr(view) and "13900001111" not in repr(view)


def test_tracking_codes():
    codes = {new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:200]:
        assert len(code) == 10 and set(code) <= set(ALPHABET)
        assert not set(code) & set("ILOU")
        assert is_valid_tracking_code(code)
    assert normalise_tracking_code("abcde-fghjo") == "ABCDEFGHJ0"
    assert normalise_tracking_code("1ilo") == "1110"
    assert format_tracking_code("ABCDEFGHJK") == "ABCDE-FGHJK"
    assert not is_valid_tracking_code("ABCDEFGHJU")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_token_bucket_with_injected_clock():
    clock = FakeClock()
    limiter = RateLimiter(capacity=3, per_seconds=60, clock=clock)
    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("5.6.7.8")  # other keys are independent
    with pytest.raises(TooManyRequests) as err:
        limiter.check("1.2.3.4")
    assert err.value.code == "rate_limited" and err.value.status == 429
    assert err.value.details["retry_after"] == 20
    clock.now += 19
    assert not limiter.allow("1.2.3.4")
    clock.now += 1
    assert limiter.allow("1.2.3.4")
    clock.now += 3600
    assert [limiter.allow("1.2.3.4") for _ in range(4)] == [True, True, True, False]


def test_rate_limiter_bounded_memory():
    clock = FakeClock()
    limiter = RateLimiter(capacity=1, per_seconds=10, clock=clock, max_keys=10)
    for i in range(50):
        limiter.allow(f"k{i}")
    assert len(limiter._buckets) <= 10
