"""Public HTML pages: the notice, the final list, one page per selected project, typical cases.

Jinja2 templates (``templates/``, autoescaped through gongyi.http.templates) over the public
projection; links are http(s) or site-relative only. Nothing here builds HTML from strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from gongyi.http.templates import make_environment
from services.publish.domain.exports import ListDocument, final_list_document, notice_document
from services.publish.domain.notice import Notice
from services.publish.domain.public_view import PublicEntry, is_public_url, public_entry

EVIDENCE_LABELS = {
    "image": "图片",
    "video": "视频",
    "media_report": "媒体报道",
    "link": "链接",
    "document": "文档",
}

ProjectUrl = Callable[[PublicEntry], str]
_templates = make_environment(Path(__file__).resolve().parent / "templates")


def default_project_url(entry: PublicEntry) -> str:
    return f"projects/{entry.application_id}.html"


def _safe_href(url: str) -> bool:
    """Site-relative or http(s) links only."""
    return bool(url) and urlsplit(url.strip()).scheme in ("", "http", "https")


def _table(doc: ListDocument, project_url: ProjectUrl | None) -> dict:
    head = ["序号", "项目名称", "申报主体", "项目类别", "所在省份", "推荐单位"] + (["得分"] if doc.show_scores else [])
    rows = [{
        "rank": e.rank, "name": e.project_name, "href": project_url(e) if project_url else None,
        "cells": [e.organisation, e.category, e.province, e.unit],
        "score": ("" if e.score is None else f"{e.score:.2f}") if doc.show_scores else None,
    } for e in doc.entries]
    return {"head": head, "rows": rows}


def render_notice_page(notice: Notice, *, objection_url: str = "objections/new") -> str:
    doc = notice_document(notice)
    return _templates.get_template("notice.html").render(doc=doc, table=_table(doc, None), objection_url=objection_url)


def render_final_list_page(notice: Notice, *, project_url: ProjectUrl | None = default_project_url) -> str:
    doc = final_list_document(notice)
    published = ""
    if notice.published_at is not None:
        local = notice.published_at.astimezone(ZoneInfo(notice.tz))
        published = f"{local.year}年{local.month}月{local.day}日"
    return _templates.get_template("final_list.html").render(doc=doc, table=_table(doc, project_url),
                                                              published=published)


def render_project_page(
    entry: PublicEntry,
    *,
    call_name: str,
    cases: Sequence[tuple[str, str]] = (),
    list_url: str = "../index.html",
) -> str:
    """One selected project; ``cases`` are (title, url) of its published typical cases."""
    rows = [("申报主体", entry.organisation), ("项目类别", entry.category), ("所在省份", entry.province),
            ("推荐单位", entry.unit), ("序号", str(entry.rank))]
    if entry.score is not None:
        rows.append(("得分", f"{entry.score:.2f}"))
    evidence = [(EVIDENCE_LABELS.get(ev.kind, "链接"), ev.title, ev.url) for ev in entry.evidence
                if is_public_url(ev.url)]
    return _templates.get_template("project.html").render(
        entry=entry, call_name=call_name, rows=rows, evidence=evidence, list_url=list_url,
        cases=[(title, url) for title, url in cases if _safe_href(url)])


def render_project_pages(notice: Notice) -> dict[str, str]:
    """application_id -> page, for every project on the final list."""
    return {
        entry.application_id: render_project_page(
            public_entry(entry, publish_scores=notice.publish_scores), call_name=notice.call_name
        )
        for entry in notice.final_list()
    }


def render_case_page(title: str, project_name: str, summary: str, published_at: dt.datetime) -> str:
    paragraphs = [p for p in summary.split("\n") if p.strip()]
    return _templates.get_template("case.html").render(title=title, project_name=project_name,
                                                        published=published_at.date().isoformat(),
                                                        paragraphs=paragraphs)
