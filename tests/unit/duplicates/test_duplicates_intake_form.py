"""The adapter from intake's forwarded form and media's evidence facts to the detector's inputs,
and the posting documents and counting of the candidate index."""

from __future__ import annotations

from services.review.domain.duplicates import compute_signals
from services.review.domain.duplicates.index import FIELD_BOOST, MIN_SCORE, rank_candidates
from services.review.domain.duplicates.intake_form import application_source, evidence_ids, evidence_items
from services.review.handlers.duplicates import suspicion_id_for
from services.review.storage.duplicates.index import posting_document
from services.review.storage.duplicates.tables import key_kind, posting_key

FORWARDED = {
    "application_id": "app-1",
    "call_id": "2024-national",
    "unit_code": "cac-henan",
    "project_name": "“互联网+助学”乡村课堂项目",
    "applicant_name": "河南省某某教育基金会",
    "form": {
        "applicant": {"name": "河南省某某教育基金会", "credit_code": "53410000ma40abcd1x"},
        "summary": "为乡村学校提供直播课堂。",
        "implementation_results": "覆盖320所学校。",
        "innovation": "双师模式。",
        "image_evidence_ids": ["e1", "e2"],
        "video_evidence_ids": ["e3"],
        "media_reports": [{"url": "https://www.people.com.cn/a.html?utm_source=x", "screenshot_evidence_id": "e4"},
                          {"url": None, "screenshot_evidence_id": "e2"}],
    },
}


def test_source_reads_the_form_fields_the_detector_needs():
    src = application_source(FORWARDED)
    assert src["id"] == "app-1" and src["call_id"] == "2024-national" and src["unit_code"] == "cac-henan"
    assert src["credit_code"] == "53410000ma40abcd1x" and src["org_name"] == "河南省某某教育基金会"
    # every narrative part counts, in reading order
    assert src["narrative"] == "为乡村学校提供直播课堂。\n覆盖320所学校。\n双师模式。"
    assert src["links"] == ["https://www.people.com.cn/a.html?utm_source=x"]


def test_evidence_ids_are_collected_once_each():
    assert evidence_ids(FORWARDED["form"]) == ["e1", "e2", "e3", "e4"]


def test_documents_do_not_count_as_project_evidence():
    """A body's registration certificate is the same file for all its projects."""
    src = application_source(FORWARDED)
    items = evidence_items(src, [
        {"kind": "image", "sha256": "a" * 64, "phash": "0f0f0f0f0f0f0f0f", "normalised_link": None},
        {"kind": "document", "sha256": "b" * 64, "phash": None, "normalised_link": None},
        {"kind": "media_report", "sha256": None, "phash": None, "normalised_link": "people.com.cn/a.html"},
    ])
    signals = compute_signals(src, items)
    assert signals.sha256s == ["a" * 64]
    assert signals.phashes == ["0f0f0f0f0f0f0f0f"]
    # the form's url and media's normalised link are one link
    assert signals.links == ["people.com.cn/a.html"]
    assert signals.credit_code == "53410000MA40ABCD1X"


def test_posting_documents_are_keyed_by_kind_and_value():
    assert posting_key("credit_code", "X") == "credit_code|X"
    long_link = "example.org/" + "a" * 300
    key = posting_key("link", long_link)
    # too long for an _id: hashed, still one key per value, and still of its kind
    assert len(key.encode()) <= 200 and key == posting_key("link", long_link) != posting_key("link", long_link + "b")
    assert key_kind(key) == "link"
    assert posting_document("name|助学", ["b", "a"]) == {"_id": "name|助学", "kind": "name", "n": 2, "ids": ["a", "b"]}
    # a stop key keeps its count, not its ids
    crowd = posting_document("org|某某", [f"p{i}" for i in range(51)], max_df=50)
    assert crowd["n"] == 51 and crowd["ids"] == []


def test_rank_candidates_sums_boosts_per_shared_key():
    postings = [
        ("text_band", 2, ["a", "b"]), ("text_band", 2, ["a", "c"]), ("text_band", 1, ["a"]),  # a: 3 bands
        ("credit_code", 2, ["b", "self"]),  # b: 1 band + code = 4
        ("name", 1, ["c"]),  # c: 1 band + name = 3
        ("org", 60, []),  # a stop key: skipped
        ("sha256", 1, ["self"]),
    ]
    assert FIELD_BOOST["credit_code"] == 3 and FIELD_BOOST["name"] == 2 and MIN_SCORE == 3
    assert rank_candidates(postings, "self") == ["b", "a", "c"]  # best first, ties by id
    assert rank_candidates(postings, "self", limit=2) == ["b", "a"]
    assert rank_candidates(postings, "self", min_score=4) == ["b"]
    # a posting longer than max_df is skipped even if it lists its ids
    assert rank_candidates([("sha256", 3, ["x", "y", "z"])], None, max_df=2) == []
    assert rank_candidates([("sha256", 3, ["x", "y", "z"])], "x") == ["y", "z"]


def test_a_pair_has_one_suspicion_id_whichever_side_found_it():
    assert suspicion_id_for("a", "b") == suspicion_id_for("b", "a") != suspicion_id_for("a", "c")
