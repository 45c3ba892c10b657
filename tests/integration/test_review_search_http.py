"""Staff search over HTTP with Chinese queries: filters, facets, highlighting, cursor pages, more-like-this,
CSV/XLSX export and personal data. Runs against osmem-server, and ALSO against a real Elasticsearch
when GONGYI_TEST_ELASTICSEARCH_URL is set (the same tests, as a contract run)."""

from __future__ import annotations

import csv
import io
import os
import uuid

import openpyxl
import pytest
from platform_support import Client, running_services, tokens, wait_until
from test_review_calls import form, forward, new_call, pii_staff_token

REAL_ES = os.environ.get("GONGYI_TEST_ELASTICSEARCH_URL")
BACKENDS = ["osmem"] + (["elasticsearch"] if REAL_ES else [])


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, settings):
    s = settings
    if request.param == "elasticsearch":
        s = settings.with_overrides(search_url=REAL_ES, search_index_prefix=f"c{uuid.uuid4().hex[:8]}")
    with running_services(s, "intake", "review") as urls:
        call_id = new_call(s, urls)
        ids = forward(s, urls, call_id, [
            form("乡村留守儿童网络课堂", summary="通过直播课堂为乡村留守儿童提供优质教育资源。"),
            form("乡村儿童在线阅读课堂", summary="为乡村儿童提供在线阅读课堂和图书资源。", started_on="2019-05-01"),
            form("应急救援志愿者平台", category="emergency_rescue", unit="cac-shanghai",
                 applicant={"province": "上海市"}, summary="组织网络志愿者参与自然灾害应急救援。"),
        ])
        staff = Client(urls["review"], tokens(s)["staff"])

        def indexed() -> bool:
            # 503 until the service's sync loop has created the index (it may still be starting)
            r = staff.get("/api/review/search", params={"call_id": call_id})
            return r.status_code == 200 and r.json()["total"] == 3

        wait_until(indexed, timeout=30, message="the projects in the index")
        yield {"urls": urls, "call": call_id, "ids": ids, "staff": staff, "settings": s}


def _search(w, **params):
    r = w["staff"].get("/api/review/search", params={"call_id": w["call"], **params})
    assert r.status_code == 200, r.text
    return r.json()


def test_chinese_query_highlight_and_facets(world):
    w = world
    res = _search(w, q="留守儿童")
    assert res["items"][0]["application_id"] == w["ids"][0]
    assert "<em>" in "".join(res["items"][0]["highlight"].get("project_name", []))
    res = _search(w, q="应急救援")
    assert [i["application_id"] for i in res["items"]] == [w["ids"][2]]
    facets = {f["value"]: f["count"] for f in _search(w)["facets"]["category"]}
    assert facets == {"education": 2, "emergency_rescue": 1}
    assert {f["value"]: f["count"] for f in _search(w)["facets"]["province"]} == {"北京市": 2, "上海市": 1}


def test_filters_and_cursor_pages(world):
    w = world
    assert [i["application_id"] for i in _search(w, province="上海市")["items"]] == [w["ids"][2]]
    assert {i["application_id"] for i in _search(w, category="education", unit_code="cac-beijing")["items"]} == set(
        w["ids"][:2])
    assert [i["application_id"] for i in _search(w, start_year_to=2020)["items"]] == [w["ids"][1]]
    assert _search(w, q="在线阅读", category="emergency_rescue")["total"] == 0
    assert [i["application_id"] for i in _search(w, q="在线阅读")["items"]][:1] == [w["ids"][1]]
    seen, cursor = [], None
    for _ in range(4):
        page = _search(w, size=1, sort="time", **({"cursor": cursor} if cursor else {}))
        seen += [i["application_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(w["ids"]) and len(seen) == 3
    bad = w["staff"].get("/api/review/search", params={"cursor": "%%%"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor"


def test_similar_projects(world):
    w = world
    r = w["staff"].get(f"/api/review/projects/{w['ids'][0]}/similar", params={"call_id": w["call"]})
    assert r.status_code == 200, r.text
    items = [i["application_id"] for i in r.json()["items"]]
    assert w["ids"][0] not in items and items[0] == w["ids"][1]
    assert w["staff"].get("/api/review/projects/nope/similar").status_code == 404


def test_export_csv_xlsx_and_personal_data(world):
    w = world
    r = w["staff"].get("/api/review/search/export", params={"call_id": w["call"], "format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["application_id", "call_id", "status", "project_name"] and len(rows) == 4
    assert "13800138000" not in r.text and "contact_mobile" not in rows[0]
    # asking for contacts without the right to see them changes nothing
    r = w["staff"].get("/api/review/search/export", params={"call_id": w["call"], "include_contacts": "true"})
    assert "13800138000" not in r.content.decode("utf-8-sig")
    pii = Client(w["urls"]["review"], pii_staff_token(w["settings"]))
    r = pii.get("/api/review/search/export", params={"call_id": w["call"], "format": "xlsx", "q": "留守儿童",
                                                     "include_contacts": "true"})
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    assert values[0][-1] == "contact_email" and values[1][0] == w["ids"][0] and "13800138000" in values[1]
    # project detail: contact only for staff allowed to see personal data
    plain = w["staff"].get(f"/api/review/projects/{w['ids'][0]}").json()
    assert "contact" not in plain["form"] and plain["contact_visible"] is False
    full = pii.get(f"/api/review/projects/{w['ids'][0]}").json()
    assert full["form"]["contact"]["mobile"] == "13800138000"
    log = w["staff"].get("/api/review/audit", params={"action": "personal_data.view"}).json()["items"][0]
    assert log["actor"] == "staff-pii" and log["entity_id"] == w["ids"][0]


def test_long_texts_are_searched_and_highlighted_but_not_returned(world):
    w = world
    # the words are only in implementation_results, which every sample form shares
    res = _search(w, q="累计授课")
    assert res["total"] == 3
    for item in res["items"]:
        assert "<em>" in "".join(item["highlight"].get("implementation_results", []))
        assert not {"implementation_results", "innovation", "evidence_captions"} & set(item)
        assert item["summary"] and item["project_name"] and item["status"] == "forwarded"
    # without query text there is nothing to highlight
    assert all(i["highlight"] == {} for i in _search(w)["items"])


def test_facets_come_with_the_first_page_only(world):
    w = world
    first = _search(w, size=1, sort="time")
    assert {f["value"]: f["count"] for f in first["facets"]["category"]} == {"education": 2, "emergency_rescue": 1}
    second = _search(w, size=1, sort="time", cursor=first["next_cursor"])
    assert second["facets"] == {} and second["total"] == 3
    assert second["items"][0]["application_id"] != first["items"][0]["application_id"]
