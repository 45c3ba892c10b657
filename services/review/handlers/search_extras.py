"""Staff search extras: project detail, more-like-this, export of a result set (CSV / XLSX)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from gongyi.http.auth import Principal
from services.review.domain.search_query import TEXT_FIELDS, SearchParams, build_query, encode_cursor
from services.review.handlers.common import audit, may_see_personal_data, project_or_404
from services.review.storage.search_index import ProjectIndex
from services.review.storage.unit_of_work import ReviewUnitOfWork

EXPORT_COLUMNS = ("application_id", "call_id", "status", "project_name", "applicant_name", "applicant_type",
                  "category", "province", "unit_code", "start_year", "score", "duplicate_flag", "forwarded_at")
CONTACT_COLUMNS = ("contact_name", "contact_mobile", "contact_email")
EXPORT_LIMIT = 10_000


def project_detail(uow: ReviewUnitOfWork, principal: Principal, app_id: str) -> dict[str, Any]:
    project = project_or_404(uow, app_id)
    form = dict(project["form"] or {})
    pii = may_see_personal_data(principal)
    if pii:
        audit(uow, principal, "personal_data.view", "application", app_id)
        uow.commit()
    else:
        form.pop("contact", None)
    return {"application_id": app_id, "call_id": project["call_id"], "call_version": project["call_version"],
            "status": project["status"], "unit_code": project["unit_code"], "unit_opinion": project["unit_opinion"],
            "forwarded_at": project["forwarded_at"], "form": form, "contact_visible": pii}


def similar(index: ProjectIndex, uow: ReviewUnitOfWork, app_id: str, size: int,
            call_ids: list[str] | None = None) -> dict[str, Any]:
    project_or_404(uow, app_id)
    fields = [f.split("^")[0] for f in TEXT_FIELDS]
    shown = ("application_id", "call_id", "project_name", "applicant_name", "category", "province", "status")
    body = {
        "query": {"bool": {
            "must": [{"more_like_this": {"fields": fields, "like": [{"_index": index.alias, "_id": app_id}],
                                         "min_term_freq": 1, "min_doc_freq": 1, "max_query_terms": 50}}],
            "must_not": [{"ids": {"values": [app_id]}}],
            "filter": [{"terms": {"call_id": call_ids}}] if call_ids else [],
        }},
        "size": size,
        "_source": {"includes": list(shown)},
    }
    raw = index.search(body)
    items = [{**{k: h["_source"].get(k) for k in shown}, "relevance": h.get("_score")}
             for h in raw.get("hits", {}).get("hits", [])]
    return {"application_id": app_id, "items": items}


def _all_hits(index: ProjectIndex, params: SearchParams) -> Iterator[dict[str, Any]]:
    params.size = 500
    params.cursor = None
    seen = 0
    while seen < EXPORT_LIMIT:
        body = build_query(params)
        body.pop("aggs", None)
        body.pop("highlight", None)
        hits = index.search(body).get("hits", {}).get("hits", [])
        for h in hits:
            yield h["_source"]
        seen += len(hits)
        if len(hits) < params.size:
            return
        params.cursor = encode_cursor(hits[-1]["sort"])


def export_rows(index: ProjectIndex, uow: ReviewUnitOfWork, principal: Principal, params: SearchParams,
                include_contacts: bool) -> tuple[list[str], list[list[Any]]]:
    """Rows of the whole result set; contacts only when asked for by staff allowed to see them."""
    contacts = include_contacts and may_see_personal_data(principal)
    header = list(EXPORT_COLUMNS) + (list(CONTACT_COLUMNS) if contacts else [])
    rows = []
    for src in _all_hits(index, params):
        row = [src.get(c) for c in EXPORT_COLUMNS]
        if contacts:
            contact = ((project_or_404(uow, src["application_id"])["form"] or {}).get("contact") or {})
            row += [contact.get("name"), contact.get("mobile"), contact.get("email")]
        rows.append(row)
    audit(uow, principal, "search.export", "search", "projects",
          after={"rows": len(rows), "contacts": contacts})
    uow.commit()
    return header, rows


def to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("projects")
    ws.append(header)
    for row in rows:
        # a leading = + - @ would be read as a formula by a spreadsheet: keep cells as text
        ws.append([("'" + v) if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
