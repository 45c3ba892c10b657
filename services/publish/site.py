"""Where the public site lives: absolute links in pages, feeds and exported evidence lists.

``GONGYI_PUBLIC_BASE_URL`` (default ``https://gongyi.example.org``) is the site's public origin;
evidence links point at media's public evidence address under it. The feed's tag-URI authority is
the host of that URL, so entry ids stay stable while paths change.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote, urlsplit

from gongyi.config import load_settings

API = "/api/publish"


@cache
def base_url() -> str:
    return load_settings().public_base_url.rstrip("/")


def authority() -> str:
    return urlsplit(base_url()).netloc or "gongyi.example.org"


def evidence_url(evidence_id: str) -> str:
    return f"{base_url()}/api/media/evidence/{quote(evidence_id, safe='')}"


def notice_url(notice_id: str) -> str:
    return f"{base_url()}{API}/notices/{quote(notice_id, safe='')}/page.html"


def final_list_url(notice_id: str) -> str:
    return f"{base_url()}{API}/notices/{quote(notice_id, safe='')}/final.html"


def case_url(case_id: str) -> str:
    return f"{base_url()}{API}/cases/{quote(case_id, safe='')}/page.html"
