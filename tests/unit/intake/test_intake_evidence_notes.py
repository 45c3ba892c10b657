"""Media's warnings on evidence, listed with the form paths that cite it."""

from services.intake.domain.evidence_notes import evidence_refs, evidence_warnings

LOW = {"code": "low_resolution", "message_zh": "分辨率过低", "message_en": "Resolution is low",
       "details": {"width": 1024, "height": 576, "min_short_side": 720, "min_long_side": 1280}}
FORM = {
    "image_evidence_ids": ["img-ok", "img-low"],
    "video_evidence_ids": ["vid-low"],
    "media_reports": [{"title": "报道", "screenshot_evidence_id": "img-low"}, {"title": "无截图"}],
}


def test_every_cited_evidence_is_found_with_its_path():
    assert evidence_refs(FORM) == [
        ("image_evidence_ids[0]", "img-ok"), ("image_evidence_ids[1]", "img-low"),
        ("video_evidence_ids[0]", "vid-low"), ("media_reports[0].screenshot_evidence_id", "img-low")]
    assert evidence_refs({}) == []


def test_warnings_are_listed_where_the_evidence_is_cited():
    out = evidence_warnings(FORM, {"img-low": [LOW], "vid-low": [LOW], "img-ok": [], "not-cited": [LOW]})
    assert [(w["evidence_id"], w["path"], w["code"]) for w in out] == [
        ("img-low", "image_evidence_ids[1]", "low_resolution"),
        ("vid-low", "video_evidence_ids[0]", "low_resolution"),
        ("img-low", "media_reports[0].screenshot_evidence_id", "low_resolution"),
    ]
    assert out[0]["message_zh"] == "分辨率过低" and out[0]["details"]["width"] == 1024
    # evidence intake has not heard of yet (its event still on the way) gives no warning, not an error
    assert evidence_warnings(FORM, {}) == []
