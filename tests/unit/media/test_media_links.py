from datetime import date

import pytest

from gongyi.errors import InvalidInput
from services.media.domain.links import MediaReport, normalise_link, parse_media_report
from services.media.domain.refusals import MediaRefused

TABLE = [
    # scheme and host case, default ports, trailing slash
    ("HTTPS://News.Example.COM:443/a/b/", "https://news.example.com/a/b"),
    ("http://example.com:80", "http://example.com"),
    ("http://example.com:8080/x", "http://example.com:8080/x"),
    ("https://example.com/", "https://example.com"),
    # front-end subdomains
    ("https://www.people.com.cn/n1/2023/1201/c1.html", "https://people.com.cn/n1/2023/1201/c1.html"),
    ("https://m.xinhuanet.com/2023-12/01/c_1.htm", "https://xinhuanet.com/2023-12/01/c_1.htm"),
    ("https://wap.example.cn/a", "https://example.cn/a"),
    ("https://3g.163.com/news/a.html", "https://163.com/news/a.html"),
    ("https://mobile.example.org/a", "https://example.org/a"),
    ("https://m.www.example.org/a", "https://example.org/a"),
    ("https://www.com", "https://www.com"),  # never strip down to a bare TLD
    ("https://news.m.example.org/a", "https://news.m.example.org/a"),  # only leading labels
    # tracking parameters, sorted remainder, fragments
    (
        "https://example.com/a?utm_source=wx&id=7&spm=a.b.c&from=timeline&isappinstalled=0",
        "https://example.com/a?id=7",
    ),
    ("https://example.com/a?b=2&a=1&a=0", "https://example.com/a?a=0&a=1&b=2"),
    (
        "https://example.com/a?share_token=x&scene=1&clicktime=1&enterid=2&wfr=spider&sharer_shareid=9&p=1",
        "https://example.com/a?p=1",
    ),
    ("https://example.com/a?UTM_Medium=x&q=%E5%85%AC%E7%9B%8A", "https://example.com/a?q=%E5%85%AC%E7%9B%8A"),
    ("https://example.com/a#comments", "https://example.com/a"),
    ("https://example.com/#/news/123", "https://example.com#/news/123"),  # hash-routed article
    # per-host identity parameters
    (
        "https://mp.weixin.qq.com/s?__biz=MzA&mid=265&idx=1&sn=abc&chksm=zz&scene=21&key=secret&uin=me#rd",
        "https://mp.weixin.qq.com/s?__biz=MzA&idx=1&mid=265&sn=abc",
    ),
    (
        "https://www.toutiao.com/article/7301/?app=news_article&timestamp=1700000000&use_new_style=1",
        "https://toutiao.com/article/7301",
    ),
    (
        "https://www.bilibili.com/video/BV1xx/?p=2&vd_source=abc&share_source=copy_web",
        "https://bilibili.com/video/BV1xx?p=2",
    ),
    # IDNA, percent-encoding, dot segments
    ("https://公益.中国/项目/1", "https://xn--55qw42g.xn--fiqs8s/%E9%A1%B9%E7%9B%AE/1"),
    ("https://example.com/%7euser/./a/../b", "https://example.com/~user/b"),
    ("https://example.com/a%2Fb", "https://example.com/a%2Fb"),
    ("  https://example.com/a  ", "https://example.com/a"),
]


@pytest.mark.parametrize(("raw", "expected"), TABLE)
def test_normalisation_table(raw, expected):
    assert normalise_link(raw) == expected


@pytest.mark.parametrize(("raw", "_expected"), TABLE)
def test_normalisation_is_idempotent(raw, _expected):
    once = normalise_link(raw)
    assert normalise_link(once) == once


def test_shares_of_one_article_become_one_link():
    shares = [
        "https://www.example.com/news/1.html?utm_source=weibo",
        "https://m.example.com/news/1.html?from=singlemessage&isappinstalled=0",
        "https://EXAMPLE.com:443/news/1.html/#top",
    ]
    assert len({normalise_link(s) for s in shares}) == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ftp://example.com/a", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("data:text/html,<script>", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("example.com/a", "scheme"),
        ("https://user:pass@example.com/", "credentials"),
        ("https://127.0.0.1/admin", "private_host"),
        ("http://10.0.0.8/", "private_host"),
        ("http://[::1]/", "private_host"),
        ("http://localhost/", "bad_host"),
        ("http://intranet.local/", "private_host"),
        ("https://exa mple.com/", "whitespace_or_control"),
        ("https://example.com/a\nb", "whitespace_or_control"),
        ("https://example.com:99999/", "unparseable"),
        ("https://-bad-.com/", "bad_host"),
        ("https:///nohost", "missing_host"),
        ("https://example.com/" + "a" * 2100, "length"),
        ("", "length"),
    ],
)
def test_invalid_links_are_refused_with_a_reason(raw, reason):
    with pytest.raises(MediaRefused) as info:
        normalise_link(raw)
    assert info.value.code == "invalid_link"
    assert info.value.details["reason"] == reason
    assert "http/https" in info.value.message_zh


def test_public_ip_hosts_are_kept():
    assert normalise_link("http://8.8.8.8:80/a/") == "http://8.8.8.8/a"


REPORT = {
    "url": "https://www.example.com/news/1.html?utm_source=wx",
    "outlet": " 人民网 ",
    "title": "网络公益项目助力乡村振兴",
    "published_on": "2023-06-01",
    "screenshot_evidence_id": "ev_01HZX3",
}


def test_media_report_valid():
    report = parse_media_report(REPORT, today=date(2024, 2, 1))
    assert report.outlet == "人民网"
    assert report.url == REPORT["url"]  # original kept for display
    assert report.normalised_url == "https://example.com/news/1.html"
    assert report.published_on == date(2023, 6, 1)


def test_media_report_collects_every_issue_bilingually():
    bad = {
        **REPORT,
        "url": "ftp://x.org",
        "title": "",
        "published_on": "2024-03-01",
        "screenshot_evidence_id": "",
    }
    with pytest.raises(InvalidInput) as info:
        parse_media_report(bad, today=date(2024, 2, 1))
    issues = {i.path: i for i in info.value.issues}
    assert set(issues) == {"url", "title", "published_on", "screenshot_evidence_id"}
    assert issues["url"].code == "invalid_link" and issues["url"].details["reason"] == "scheme"
    assert issues["published_on"].code == "invalid_published_on"
    assert "截图" in issues["screenshot_evidence_id"].message_zh
    assert all(i.message_en and i.message_zh for i in info.value.issues)


def test_media_report_requires_the_screenshot_and_forbids_unknown_fields():
    data = {k: v for k, v in REPORT.items() if k != "screenshot_evidence_id"} | {"extra": 1}
    with pytest.raises(InvalidInput) as info:
        parse_media_report(data, today=date(2024, 2, 1))
    codes = {(i.path, i.code) for i in info.value.issues}
    assert codes == {("screenshot_evidence_id", "required"), ("extra", "unknown_field")}


def test_media_report_is_immutable():
    report = MediaReport.model_validate(REPORT, context={"today": date(2024, 2, 1)})
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own ValidationError
        report.title = "changed"
