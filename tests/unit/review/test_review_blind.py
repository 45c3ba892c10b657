from review_fixtures import application

from services.review.domain.blind import ORG_PLACEHOLDER, blind_view


def identified():
    app = application(
        project_name="某某公益基金会乡村阅读计划",
        summary="某某公益基金会联合“某某阅读”公众号，发起本项目。联系人王小明，电话13800000000。",
        approval_document_no="豫民函〔2020〕12号",
        platform_accounts=[{"platform": "微信公众号", "account_name": "某某阅读"}],
        unit_name="河南省委网信办",
        unit_opinion="河南省委网信办同意推荐。",
    )
    app["applicant"] = dict(app["applicant"], address="郑州市金水路1号", contact_name="王小明",
                            contact_phone="13800000000")
    app["implementation_results"] = "经豫民函〔2020〕12号批准，在郑州市金水路1号设立服务点。"
    return app


def test_blind_view_removes_identity_fields():
    view = blind_view(identified(), blind=True)
    assert set(view["applicant"]) == {"type", "province"}
    for key in ("unit_code", "unit_name", "unit_opinion", "approval_document_no", "platform_accounts"):
        assert key not in view
    assert view["blind"] is True
    assert view["category"] == "教育发展" and view["image_evidence_ids"] == ["ev-2"]
    assert view["media_reports"][0]["url"] == "https://news.example.cn/a"  # evidence stays checkable


def test_blind_view_replaces_the_organisation_and_other_identifiers_in_text():
    view = blind_view(identified(), blind=True)
    assert view["project_name"] == f"{ORG_PLACEHOLDER}乡村阅读计划"
    assert view["summary"] == "【申报单位】联合“【平台账号】”公众号，发起本项目。联系人【联系人】，电话【已隐去】。"
    assert view["implementation_results"] == "经【批准文号】批准，在【地址】设立服务点。"
    text = repr(view)
    for secret in ("某某公益基金会", "王小明", "13800000000", "豫民函", "金水路", "53100000MJ0000000X", "HA-CAC"):
        assert secret not in text


def test_not_blind_returns_an_independent_full_copy():
    app = identified()
    view = blind_view(app, blind=False)
    assert view == app and view is not app
    view["applicant"]["name"] = "changed"
    assert app["applicant"]["name"] == "某某公益基金会"


def test_blind_view_does_not_mutate_the_input():
    app = identified()
    blind_view(app, blind=True)
    assert app["applicant"]["name"] == "某某公益基金会" and "unit_name" in app
