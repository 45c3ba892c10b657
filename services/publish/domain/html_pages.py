"""Public HTML pages: the notice, the final list, one page per selected project, typical cases.

Plain functions over the public projection; every interpolated value goes through
``html.escape`` (the stdlib, so no template engine dependency) and links are http(s) only.
(The module is not called ``html.py`` so it can never shadow the stdlib module it uses.)
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .exports import ListDocument, final_list_document, notice_document
from .notice import Notice
from .public_view import PublicEntry, is_public_url, public_entry

EVIDENCE_LABELS = {
    "image": "图片",
    "video": "视频",
    "media_report": "媒体报道",
    "link": "链接",
    "document": "文档",
}

ProjectUrl = Callable[[PublicEntry], str]


def default_project_url(entry: PublicEntry) -> str:
    return f"projects/{entry.application_id}.html"


def _safe_href(url: str) -> bool:
    """Site-relative or http(s) links only."""
    return bool(url) and urlsplit(url.strip()).scheme in ("", "http", "https")


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


_STYLE = (
    "body{font-family:'PingFang SC','Microsoft YaHei','Noto Sans SC',sans-serif;max-width:1080px;"
    "margin:2rem auto;padding:0 1rem;line-height:1.6;color:#222}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.4rem .6rem;"
    "text-align:left}th{background:#ddebf7}.meta{color:#555}"
)


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _table(doc: ListDocument, project_url: ProjectUrl | None) -> str:
    head = ["序号", "项目名称", "申报主体", "项目类别", "所在省份", "推荐单位"]
    if doc.show_scores:
        head.append("得分")
    lines = [
        "<table>",
        "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead>",
        "<tbody>",
    ]
    for entry in doc.entries:
        name = e(entry.project_name)
        if project_url is not None:
            name = f'<a href="{e(project_url(entry))}">{name}</a>'
        cells = [
            e(entry.rank),
            name,
            e(entry.organisation),
            e(entry.category),
            e(entry.province),
            e(entry.unit),
        ]
        if doc.show_scores:
            cells.append("" if entry.score is None else e(f"{entry.score:.2f}"))
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def render_notice_page(notice: Notice, *, objection_url: str = "objections/new") -> str:
    doc = notice_document(notice)
    body = (
        f"<h1>{e(doc.title)}</h1>\n"
        f'<p class="meta">{e(doc.call_name)}</p>\n'
        f'<p class="meta">{e(doc.period_text)}</p>\n'
        "<p>经初审筛选、专家评审、终评，现将拟入选项目予以公示。"
        "公示期内，如对公示项目有异议，请通过"
        f'<a href="{e(objection_url)}">异议提交页面</a>'
        "实名提出，写明与项目的关系和具体事实，并附证明材料。"
        "异议人信息严格保密，不对外公开。</p>\n"
        f"{_table(doc, None)}"
    )
    return page(doc.title, body)


def render_final_list_page(notice: Notice, *, project_url: ProjectUrl | None = default_project_url) -> str:
    doc = final_list_document(notice)
    published = ""
    if notice.published_at is not None:
        local = notice.published_at.astimezone(ZoneInfo(notice.tz))
        published = f'<p class="meta">发布时间：{e(f"{local.year}年{local.month}月{local.day}日")}</p>\n'
    body = (
        f"<h1>{e(doc.title)}</h1>\n"
        f'<p class="meta">{e(doc.call_name)}</p>\n'
        f"{published}"
        f"<p>共 {len(doc.entries)} 个项目入选（按序号排列）。</p>\n"
        f"{_table(doc, project_url)}"
    )
    return page(doc.title, body)


def render_project_page(
    entry: PublicEntry,
    *,
    call_name: str,
    cases: Sequence[tuple[str, str]] = (),
    list_url: str = "../index.html",
) -> str:
    """One selected project; ``cases`` are (title, url) of its published typical cases."""
    rows = [
        ("申报主体", entry.organisation),
        ("项目类别", entry.category),
        ("所在省份", entry.province),
        ("推荐单位", entry.unit),
        ("序号", str(entry.rank)),
    ]
    if entry.score is not None:
        rows.append(("得分", f"{entry.score:.2f}"))
    info = "\n".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    evidence = "\n".join(
        f"<li>{e(EVIDENCE_LABELS.get(ev.kind, '链接'))}："
        f'<a href="{e(ev.url)}" rel="noopener noreferrer nofollow">{e(ev.title)}</a></li>'
        for ev in entry.evidence
        if is_public_url(ev.url)
    )
    case_items = "\n".join(
        f'<li><a href="{e(url)}">{e(title)}</a></li>' for title, url in cases if _safe_href(url)
    )
    body = (
        f'<p><a href="{e(list_url)}">返回入选名单</a></p>\n'
        f"<h1>{e(entry.project_name)}</h1>\n"
        f'<p class="meta">{e(call_name)}入选项目</p>\n'
        f"<table>\n{info}\n</table>\n"
        + (f"<h2>项目简介</h2>\n<p>{e(entry.summary)}</p>\n" if entry.summary else "")
        + (f"<h2>佐证材料</h2>\n<ul>\n{evidence}\n</ul>\n" if evidence else "")
        + (f"<h2>典型案例</h2>\n<ul>\n{case_items}\n</ul>\n" if case_items else "")
    )
    return page(entry.project_name, body)


def render_project_pages(notice: Notice) -> dict[str, str]:
    """application_id -> page, for every project on the final list."""
    return {
        entry.application_id: render_project_page(
            public_entry(entry, publish_scores=notice.publish_scores), call_name=notice.call_name
        )
        for entry in notice.final_list()
    }


def render_case_page(title: str, project_name: str, summary: str, published_at: dt.datetime) -> str:
    body = (
        f"<h1>{e(title)}</h1>\n"
        f'<p class="meta">项目：{e(project_name)}　发布于 {e(published_at.date().isoformat())}</p>\n'
        + "".join(f"<p>{e(p)}</p>\n" for p in summary.split("\n") if p.strip())
    )
    return page(title, body)
