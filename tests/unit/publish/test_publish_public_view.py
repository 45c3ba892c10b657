import re

import pytest
from publish_support import (
    APPLICANT_EMAIL,
    APPLICANT_MOBILE,
    INDIVIDUAL_ID,
    PRIVATE_EVIDENCE_URL,
    make_entries,
)

from services.publish.domain.public_view import (
    PUBLIC_FIELDS,
    REDACTED,
    PiiLeak,
    assert_no_pii,
    public_entry,
    public_list_dicts,
    redact_text,
)


def test_whitelist_fields_only():
    assert set(PUBLIC_FIELDS) == {
        "application_id",
        "rank",
        "project_name",
        "organisation",
        "category",
        "province",
        "unit",
        "score",
        "summary",
        "evidence",
    }


def test_public_entry_drops_private_evidence_and_unsafe_links_and_redacts_summary():
    entry = make_entries(1)[0]
    view = public_entry(entry)
    assert [e.url for e in view.evidence] == ["https://www.people.com.cn/report/1"]
    assert APPLICANT_MOBILE not in view.summary and APPLICANT_EMAIL not in view.summary
    assert INDIVIDUAL_ID not in view.summary
    assert view.summary.count(REDACTED) == 3 and "服务留守儿童" in view.summary
    assert view.score is None
    assert public_entry(entry, publish_scores=True).score == 94.5


@pytest.mark.parametrize(
    "text",
    [
        "电话 0371-65905052",
        "电话0371—65905052",
        "手机 +86 138-1234-5678",
        "手机138 1234 5678",
        "邮箱 wxbspc@163.com",
        "证件 41010519900101123X",
    ],
)
def test_redact_text_patterns(text):
    out = redact_text(text)
    assert REDACTED in out
    assert not re.search(r"\d{4}", re.sub(r"[\s\-—+]", "", out)) and "@" not in out


def test_redact_keeps_ordinary_numbers():
    assert redact_text("惠及 12000 名儿童，2023年启动") == "惠及 12000 名儿童，2023年启动"


def test_public_list_dicts_sorted_and_json_ready():
    entries = list(reversed(make_entries(3)))
    dicts = public_list_dicts(entries)
    assert [d["rank"] for d in dicts] == [1, 2, 3]
    assert "score" not in dicts[0]
    assert_no_pii(dicts, [APPLICANT_MOBILE, APPLICANT_EMAIL, PRIVATE_EVIDENCE_URL, INDIVIDUAL_ID])


def test_assert_no_pii_catches_leaks_in_any_form():
    with pytest.raises(PiiLeak):
        assert_no_pii({"x": "call 13812345678"}, [APPLICANT_MOBILE])
    with pytest.raises(PiiLeak):
        assert_no_pii("call 138-1234-5678", [APPLICANT_MOBILE])  # spaced or hyphenated still counts
    with pytest.raises(PiiLeak):
        assert_no_pii("ZhangSan@Example.com".encode("utf-8-sig"), [APPLICANT_EMAIL])
    assert_no_pii("nothing here", [APPLICANT_MOBILE, APPLICANT_EMAIL])
