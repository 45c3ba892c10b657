"""Atom feed (RFC 4287) of published lists and typical cases, built with ElementTree.

Entry ids are tag URIs (RFC 4151) that never change when the site moves, e.g.
``tag:gongyi.example.org,2024-03-05:list/n-2024``; ``updated`` is RFC 3339 with an offset.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

from .notice import Notice, NoticeState
from .reports import TypicalCase

ATOM_NS = "http://www.w3.org/2005/Atom"


def tag_uri(authority: str, date: dt.date, specific: str) -> str:
    return f"tag:{authority},{date.isoformat()}:{specific}"


def rfc3339(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("feed timestamps must carry a timezone")
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    link: str
    updated: dt.datetime
    summary: str = ""
    published: dt.datetime | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)


def list_entry(notice: Notice, *, base_url: str, authority: str) -> FeedEntry:
    if notice.state is not NoticeState.PUBLISHED or notice.published_at is None:
        raise ValueError("only a published list goes into the feed")
    names = "、".join(e.project_name for e in notice.final_list()[:5])
    count = len(notice.listed_ids)
    return FeedEntry(
        id=tag_uri(authority, notice.published_at.date(), f"list/{notice.id}"),
        title=notice.final_list_title,
        link=f"{base_url.rstrip('/')}/lists/{notice.id}/",
        updated=notice.published_at,
        published=notice.published_at,
        summary=f"共 {count} 个项目入选，包括{names}等。",
        categories=("入选名单",),
    )


def case_entry(case: TypicalCase, *, base_url: str, authority: str) -> FeedEntry:
    summary = case.summary if len(case.summary) <= 200 else case.summary[:200] + "…"
    return FeedEntry(
        id=tag_uri(authority, case.published_at.date(), f"case/{case.id}"),
        title=case.title,
        link=f"{base_url.rstrip('/')}/cases/{case.id}.html",
        updated=case.published_at,
        published=case.published_at,
        summary=summary,
        categories=("典型案例", case.project_name),
    )


def atom_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    site_url: str,
    entries: Sequence[FeedEntry],
    updated: dt.datetime,
    author: str = "网络公益项目征集工作组",
) -> bytes:
    """Newest entries first. ``updated`` is used when there are no entries (Atom requires one)."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
        node = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
        if text is not None:
            node.text = text
        return node

    ordered = sorted(entries, key=lambda x: x.updated, reverse=True)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "zh-CN"})
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", rfc3339(max([updated, *(x.updated for x in ordered)])))
    sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=site_url, type="text/html")
    sub(sub(feed, "author"), "name", author)
    for item in ordered:
        node = sub(feed, "entry")
        sub(node, "id", item.id)
        sub(node, "title", item.title)
        sub(node, "updated", rfc3339(item.updated))
        if item.published is not None:
            sub(node, "published", rfc3339(item.published))
        sub(node, "link", rel="alternate", href=item.link, type="text/html")
        for term in item.categories:
            sub(node, "category", term=term)
        if item.summary:
            sub(node, "summary", item.summary, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
