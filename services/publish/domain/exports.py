"""The notice and the final list as CSV, XLSX and PDF.

Every export is built from the public projection only, so it is safe to hand to anyone.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gongyi.errors import UnsupportedMediaType

from .notice import Notice
from .pdf_support import new_pdf, pdf_bytes
from .public_view import PublicEntry, public_list


@dataclass(frozen=True)
class ListDocument:
    """What any rendering of a list needs; built by :func:`notice_document` / :func:`final_list_document`."""

    kind: str  # "notice" or "final_list"
    title: str
    call_name: str
    period_text: str
    entries: Sequence[PublicEntry]
    show_scores: bool
    rehearsal: bool = False


def _fmt(moment: dt.datetime | None, tz: str) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def period_text(notice: Notice) -> str:
    """E.g. ``公示期：2024年2月8日 10:00 至 2024年2月21日 23:59（5个工作日）``."""
    if notice.opens_at is None:
        return "公示期：尚未开始"
    return (
        f"公示期：{_fmt(notice.opens_at, notice.tz)} 至 {_fmt(notice.ends_at, notice.tz)}"
        + (f"（演练，{notice.period_minutes:g}分钟）" if notice.period_minutes is not None
           else f"（{notice.working_days}个工作日）")
    )


def notice_document(notice: Notice) -> ListDocument:
    return ListDocument(
        kind="notice",
        title=notice.title,
        call_name=notice.call_name,
        period_text=period_text(notice),
        entries=public_list(notice.final_list(), publish_scores=notice.publish_scores),
        show_scores=notice.publish_scores,
        rehearsal=notice.rehearsal,
    )


def final_list_document(notice: Notice) -> ListDocument:
    return ListDocument(
        kind="final_list",
        title=notice.final_list_title,
        call_name=notice.call_name,
        period_text=period_text(notice),
        entries=public_list(notice.final_list(), publish_scores=notice.publish_scores),
        show_scores=notice.publish_scores,
        rehearsal=notice.rehearsal,
    )


def headers(doc: ListDocument) -> list[str]:
    cols = ["序号", "项目名称", "申报主体", "项目类别", "所在省份", "推荐单位"]
    return cols + ["得分"] if doc.show_scores else cols


def rows(doc: ListDocument) -> list[list[str]]:
    out = []
    for e in doc.entries:
        row = [str(e.rank), e.project_name, e.organisation, e.category, e.province, e.unit]
        if doc.show_scores:
            row.append("" if e.score is None else f"{e.score:.2f}")
        out.append(row)
    return out


def _csv_safe(value: str) -> str:
    # Excel runs cells starting with these as formulas (CSV injection); a leading quote stops it.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(doc: ListDocument) -> bytes:
    """UTF-8 with BOM and CRLF, which Excel on Chinese Windows opens without mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if doc.rehearsal:  # a rehearsal's file must not pass for a real list once it leaves the platform
        writer.writerow([doc.title])
    writer.writerow(headers(doc))
    for row in rows(doc):
        writer.writerow([_csv_safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_xlsx(doc: ListDocument) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "公示名单" if doc.kind == "notice" else "入选名单"
    head = headers(doc)
    sheet.append([doc.title])
    sheet.append([doc.call_name])
    sheet.append([doc.period_text])
    sheet.append([])
    sheet.append(head)
    last_col = get_column_letter(len(head))
    for r in (1, 2, 3):
        sheet.merge_cells(f"A{r}:{last_col}{r}")
    sheet["A1"].font = Font(size=14, bold=True)
    header_row = 5
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for row in rows(doc):
        values: list[object] = list(row)
        values[0] = int(row[0])
        if doc.show_scores and row[-1]:
            values[-1] = float(row[-1])
        sheet.append(values)
    for idx, title in enumerate(head, start=1):
        column = [title] + [r[idx - 1] for r in rows(doc)]
        width = max(_display_width(v) for v in column) + 2
        sheet.column_dimensions[get_column_letter(idx)].width = min(max(width, 6), 60)
    for row in sheet.iter_rows(min_row=header_row + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = f"A{header_row + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(doc: ListDocument) -> bytes:
    """Title, call name, notice period and a ranked table; the CJK font is embedded."""
    pdf = new_pdf(doc.title, landscape=True, footer_text=doc.call_name)
    pdf.set_font(size=18)
    pdf.multi_cell(0, 10, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=11)
    pdf.multi_cell(0, 7, doc.call_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 7, doc.period_text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(size=9.5)
    head = headers(doc)
    widths = (12, 80, 62, 36, 24, 48, 18)[: len(head)] if doc.show_scores else (12, 86, 68, 38, 24, 52)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        headings_style=FontFace(emphasis="", fill_color=(221, 235, 247)),
        line_height=6,
    ) as table:
        header = table.row()
        for title in head:
            header.cell(title)
        for row in rows(doc):
            line = table.row()
            for value in row:
                line.cell(value)
    return pdf_bytes(pdf)


def export(notice: Notice, *, final: bool, fmt: str) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) for ``fmt`` in csv/xlsx/pdf."""
    doc = final_list_document(notice) if final else notice_document(notice)
    name = f"{notice.id}-{'final-list' if final else 'notice'}.{fmt}"
    if fmt == "csv":
        return to_csv(doc), "text/csv; charset=utf-8", name
    if fmt == "xlsx":
        return to_xlsx(doc), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name
    if fmt == "pdf":
        return to_pdf(doc), "application/pdf", name
    raise UnsupportedMediaType(
        "unsupported_export_format",
        "不支持的导出格式（可选 csv、xlsx、pdf）",
        "Unsupported export format (csv, xlsx or pdf)",
        {"format": fmt},
    )
