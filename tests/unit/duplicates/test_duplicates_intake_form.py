"""The adapter from intake's forwarded form and media's evidence facts to the detector's inputs,
and the engine query it sends."""

from __future__ import annotations

from services.review.domain.duplicates import compute_signals
from services.review.domain.duplicates.index import FIELD_BOOST, MIN_SCORE
from services.review.domain.duplicates.intake_form import application_source, evidence_ids, evidence_items
from services.review.duplicates_handlers import suspicion_id_for
from services.review.storage.duplicates_index import candidate_query

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


def test_candidate_query_is_one_boosted_term_per_key():
    q = candidate_query({"credit_code": ["X"], "text_band": ["1:ab", "0:cd", "1:ab"], "link": []}, "app-1")
    should = q["query"]["bool"]["should"]
    boost = FIELD_BOOST["credit_code"]
    assert {"constant_score": {"filter": {"term": {"keys": "credit_code|X"}}, "boost": boost}} in should
    assert len([c for c in should if c["constant_score"]["filter"]["term"]["keys"].startswith("text_band|")]) == 2
    assert q["query"]["bool"]["must_not"] == [{"ids": {"values": ["app-1"]}}]
    assert q["min_score"] == MIN_SCORE and q["source"] is False


def test_a_pair_has_one_suspicion_id_whichever_side_found_it():
    assert suspicion_id_for("a", "b") == suspicion_id_for("b", "a") != suspicion_id_for("a", "c")
