import datetime as dt
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from publish_support import SH, at, make_entries

from services.publish.domain.feeds import ATOM_NS, atom_feed, case_entry, list_entry
from services.publish.domain.notice import Notice
from services.publish.domain.public_view import public_entry
from services.publish.domain.reports import ProgressReport, publish_as_case
from services.publish.domain.selection import SelectionEntry
from services.publish.entrypoints.pages import (
    render_case_page,
    render_final_list_page,
    render_notice_page,
    render_project_page,
    render_project_pages,
)

A = f"{{{ATOM_NS}}}"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.hrefs += [v for k, v in attrs if k == "href"]

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    return c


def _published(entries=None) -> Notice:
    n = Notice.draft("n-2024", "call-2024", "2024年网络公益行动", entries or make_entries(5))
    n.open(at(2024, 2, 8))
    n.close(at(2024, 2, 22))
    n.publish(at(2024, 3, 5, 9))
    return n


def test_notice_page_lists_projects_period_and_objection_link(open_notice):
    html = render_notice_page(open_notice, objection_url="/notices/n-2024/objections")
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    parsed = parse(html)
    text = "".join(parsed.text)
    assert "乡村儿童阅读点亮计划1号" in text and "异议人信息严格保密" in text
    assert "2024年2月21日 23:59" in text
    assert "/notices/n-2024/objections" in parsed.hrefs


def test_final_list_page_links_each_project():
    html = render_final_list_page(_published())
    parsed = parse(html)
    assert "projects/a1.html" in parsed.hrefs and "projects/a5.html" in parsed.hrefs
    assert "发布时间：2024年3月5日" in "".join(parsed.text)


def test_markup_in_data_is_escaped():
    evil = SelectionEntry(
        "x1",
        "<script>alert('x')</script>项目",
        'A&B "协会"',
        "其他",
        "北京市",
        "人民网",
        1,
        summary="<b>粗</b>",
    )
    html = render_final_list_page(_published([evil]))
    assert "<script>" not in html and "&lt;script&gt;" in html and "A&amp;B &#34;协会&#34;" in html
    page = render_project_page(public_entry(evil), call_name="c")
    assert "<b>" not in page and "&lt;b&gt;粗&lt;/b&gt;" in page


def test_project_page_has_public_evidence_links_only():
    pages = render_project_pages(_published())
    assert set(pages) == {"a1", "a2", "a3", "a4", "a5"}
    parsed = parse(pages["a1"])
    assert "https://www.people.com.cn/report/1" in parsed.hrefs
    assert not any(h.startswith("javascript:") for h in parsed.hrefs)
    assert not any("minio.internal" in h for h in parsed.hrefs)
    assert "媒体报道" in "".join(parsed.text)
    page = render_project_page(
        public_entry(make_entries(1)[0]),
        call_name="c",
        cases=[("案例", "/cases/1.html"), ("坏", "javascript:x")],
    )
    assert "/cases/1.html" in parse(page).hrefs and "javascript:x" not in page


def test_case_page_escapes_and_splits_paragraphs():
    page = render_case_page("助农<案例>", "项目", "第一段\n第二段", at(2024, 5, 1))
    assert "助农&lt;案例&gt;" in page and page.count("<p>") == 2 and "2024-05-01" in page


def _case():
    report, _ = ProgressReport.submit(
        "rep-1",
        "a1",
        "typical_case",
        "留守儿童暑期阅读营",
        "正文：暑期阅读营服务 300 名儿童。",
        "u1",
        at(2024, 7, 1),
        selected_ids={"a1"},
    )
    report.accept("staff", at(2024, 7, 2))
    case, _ = publish_as_case(report, "case-1", "乡村儿童阅读点亮计划1号", at(2024, 7, 3, 9))
    return case


def test_atom_feed_is_well_formed_with_ids_and_updated():
    notice = _published()
    entries = [
        list_entry(notice, base_url="https://gongyi.example.org/", authority="gongyi.example.org"),
        case_entry(_case(), base_url="https://gongyi.example.org", authority="gongyi.example.org"),
    ]
    xml = atom_feed(
        feed_id="tag:gongyi.example.org,2024:feed",
        title="网络公益项目发布",
        self_url="https://gongyi.example.org/feed.atom",
        site_url="https://gongyi.example.org/",
        entries=entries,
        updated=at(2024, 1, 1),
    )
    assert xml.startswith(b"<?xml")
    root = ET.fromstring(xml)
    assert root.tag == f"{A}feed"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    assert root.findtext(f"{A}updated") == "2024-07-03T09:00:00+08:00"
    items = root.findall(f"{A}entry")
    assert [i.findtext(f"{A}id") for i in items] == [
        "tag:gongyi.example.org,2024-07-03:case/case-1",
        "tag:gongyi.example.org,2024-03-05:list/n-2024",
    ]
    for item in items:
        assert item.findtext(f"{A}title") and item.find(f"{A}link").get("href").startswith("https://")
        dt.datetime.fromisoformat(item.findtext(f"{A}updated"))
    assert "共 5 个项目入选" in items[1].findtext(f"{A}summary")
    assert items[1].find(f"{A}link").get("href") == "https://gongyi.example.org/lists/n-2024/"


def test_empty_feed_still_valid():
    xml = atom_feed(
        feed_id="urn:x",
        title="t",
        self_url="https://a/f",
        site_url="https://a/",
        entries=[],
        updated=dt.datetime(2024, 1, 1, tzinfo=SH),
    )
    root = ET.fromstring(xml)
    assert root.findtext(f"{A}updated") == "2024-01-01T00:00:00+08:00" and root.find(f"{A}author") is not None
