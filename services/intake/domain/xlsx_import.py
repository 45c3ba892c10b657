"""Bulk entry of recommendation forms through an XLSX workbook.

``build_template`` writes a workbook for one call: a sheet 推荐表 with one row per
application and Chinese headers (required ones end in ``*``), drop-down lists fed from a hidden
sheet 选项 (categories, applicant types, units, 是/否), and a sheet 说明. ``parse_rows`` streams
the rows back (openpyxl read-only mode, constant memory) as forms or lists of issues.
Evidence files are uploaded separately, so the workbook has no evidence columns.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from gongyi.errors import Issue

from .calls import CallDocument
from .form import FIELD_LABELS, ApplicationForm
from .issue_paths import validation_issues
from .rules import REQUIRED_FIELDS, check_draft

DATA_SHEET = "推荐表"
OPTIONS_SHEET = "选项"
HELP_SHEET = "说明"
MEDIA_REPORT_SLOTS = 3
TEMPLATE_ROWS = 5000  # rows that carry drop-down validation
_CALL_ID_CELL = "F2"  # in the options sheet: which call the template was made for
YES, NO = "是", "否"


@dataclass(frozen=True)
class Column:
    header: str  # Chinese header without the required marker
    path: str  # form field path
    kind: str  # text | date | bool | int | category | applicant_type | unit | figures


def _columns() -> list[Column]:
    kinds = {
        "category": "category",
        "applicant.type": "applicant_type",
        "unit_code": "unit",
        "started_on": "date",
        "still_running": "bool",
        "beneficiaries": "int",
        "figures": "figures",
    }
    cols = [Column(zh, path, kinds.get(path, "text")) for path, (zh, _) in FIELD_LABELS.items()]
    for n in range(MEDIA_REPORT_SLOTS):
        base = f"media_reports[{n}]"
        cols += [
            Column(f"媒体报道{n + 1}标题", f"{base}.title", "text"),
            Column(f"媒体报道{n + 1}媒体名称", f"{base}.outlet", "text"),
            Column(f"媒体报道{n + 1}发布日期", f"{base}.published_on", "date"),
            Column(f"媒体报道{n + 1}网址链接", f"{base}.url", "text"),
        ]
    return cols


COLUMNS: tuple[Column, ...] = tuple(_columns())
_BY_HEADER = {c.header: c for c in COLUMNS}
_BY_PATH = {c.path: c for c in COLUMNS}


@dataclass
class RowResult:
    """One data row: ``form`` when it parsed and passed the draft checks, else ``issues``."""

    row: int
    form: ApplicationForm | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.form is not None


def _header(col: Column) -> str:
    return f"{col.header}*" if col.path in REQUIRED_FIELDS else col.header


def build_template(call: CallDocument) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, col in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=i, value=_header(col))
        cell.font = bold
        if col.path in REQUIRED_FIELDS:
            cell.fill = fill
        width = 40 if col.path in ("summary", "implementation_results", "innovation", "figures") else 18
        ws.column_dimensions[get_column_letter(i)].width = width
        if col.kind == "date":
            for r in range(2, 102):  # a hint for the first rows; dates typed as text parse too
                ws.cell(row=r, column=i).number_format = "yyyy-mm-dd"
    ws.freeze_panes = "B2"

    opts = wb.create_sheet(OPTIONS_SHEET)
    lists = {
        "category": ("项目类别", [c.label for c in call.categories]),
        "applicant_type": ("申报主体类型", [t.label for t in call.applicant_types]),
        "unit": ("推荐单位", [u.name for u in call.recommending_units]),
        "bool": ("是否", [YES, NO]),
    }
    for c, (title, values) in enumerate(lists.values(), start=1):
        opts.cell(row=1, column=c, value=title)
        for r, value in enumerate(values, start=2):
            opts.cell(row=r, column=c, value=value)
    opts["F1"] = "征集活动"
    opts[_CALL_ID_CELL] = call.id
    opts.sheet_state = "hidden"

    for c, (kind, (title, values)) in enumerate(lists.items(), start=1):
        letter = get_column_letter(c)
        dv = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="请从列表中选择",
            error=f"请从下拉列表中选择{title}",
        )
        ws.add_data_validation(dv)
        for i, col in enumerate(COLUMNS, start=1):
            if col.kind == kind:
                letter_ = get_column_letter(i)
                dv.add(f"{letter_}2:{letter_}{TEMPLATE_ROWS + 1}")

    help_ws = wb.create_sheet(HELP_SHEET)
    lines = [
        f"{call.title}：推荐表批量填报模板 (bulk entry template, call {call.id})",
        "每行填写一个项目；带 * 的列为必填项。One project per row; columns marked * are required.",
        "、".join(FIELD_LABELS[f][0] for f in call.text_limit.fields)
        + f"合计不超过{call.text_limit.max_chars}字（不计空格和换行）。",
        "日期格式：2022-05-01。是否正在实施：填“是”或“否”。",
        "主要数据：每行一项，格式为“名称：数值”，例如“受益学生：1200人”。",
        "图片、视频和媒体报道截图请在系统中上传，不在本表中填写。",
    ]
    for r, line in enumerate(lines, start=1):
        help_ws.cell(row=r, column=1, value=line).alignment = Alignment(wrap_text=True)
    help_ws.column_dimensions["A"].width = 100

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class _CellError(ValueError):
    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number or code typed into a number cell
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    m = _DATE_TEXT.fullmatch(str(value).strip())
    if not m:
        raise _CellError("日期格式不正确，应为 2022-05-01", "Not a date; write it as 2022-05-01")
    try:
        return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError as exc:
        raise _CellError("日期不存在", "No such date") from exc


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in (YES, "true", "yes", "y", "1"):
        return True
    if text in (NO, "false", "no", "n", "0"):
        return False
    raise _CellError("请填写“是”或“否”", "Write 是 (yes) or 否 (no)")


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise _CellError("请填写整数", "Write a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip().replace(",", "").replace("，", "")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise _CellError("请填写整数", "Write a whole number")


def _figures(value: Any) -> list[dict[str, str | None]]:
    """One figure per line (or ；-separated): ``名称：数值``; a line without a colon has no value."""
    out: list[dict[str, str | None]] = []
    for line in re.split(r"[\n;；]+", str(value)):
        if not line.strip():
            continue
        label, _, number = line.replace("：", ":").partition(":")
        out.append({"label": label.strip() or None, "value": number.strip() or None})
    return out


def _choice(lookup: dict[str, str]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = _text(value).strip()
        # An unknown value is passed on as is; the draft rules name it with its proper code.
        return lookup.get(text, text)

    return convert


def _converters(call: CallDocument) -> dict[str, Callable[[Any], Any]]:
    def lookup(pairs: list[tuple[str, str]]) -> dict[str, str]:
        table = {code: code for code, _ in pairs}
        table.update({label: code for code, label in pairs})
        return table

    return {
        "text": _text,
        "date": _date,
        "bool": _bool,
        "int": _int,
        "figures": _figures,
        "category": _choice(lookup([(c.code, c.label) for c in call.categories])),
        "applicant_type": _choice(lookup([(t.code, t.label) for t in call.applicant_types])),
        "unit": _choice(lookup([(u.code, u.name) for u in call.recommending_units])),
    }


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a form path such as ``applicant.name`` or ``media_reports[1].url``."""
    target: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        if m:
            items = target.setdefault(m[1], [])
            while len(items) <= int(m[2]):
                items.append({})
            target = items[int(m[2])]
        else:
            target = target.setdefault(part, {})
    target[parts[-1]] = value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _at(issue: Issue, row: int) -> Issue:
    col = _BY_PATH.get(issue.path)
    extra: dict[str, Any] = {"row": row}
    if col:
        extra["column"] = col.header
    return replace(issue, details={**issue.details, **extra})


def _parse_row(row_no: int, values: tuple[Any, ...], index: dict[int, Column], conv: dict) -> RowResult:
    data: dict[str, Any] = {}
    issues: list[Issue] = []
    for pos, col in index.items():
        value = values[pos] if pos < len(values) else None
        if _blank(value):
            continue
        try:
            _put(data, col.path, conv[col.kind](value))
        except _CellError as exc:
            issues.append(
                Issue(
                    "xlsx_cell_invalid",
                    f"第{row_no}行“{col.header}”：{exc.zh}",
                    f"Row {row_no}, column {col.header}: {exc.en}",
                    col.path,
                    {"row": row_no, "column": col.header},
                )
            )
    if "media_reports" in data:
        # Empty slots between filled ones are not reports.
        data["media_reports"] = [r for r in data["media_reports"] if r]
    try:
        form = ApplicationForm.model_validate(data)
    except ValidationError as exc:
        found = validation_issues(exc, "form_field_invalid")
        return RowResult(row_no, None, issues + [_at(i, row_no) for i in found])
    return RowResult(row_no, None if issues else form, issues)


def parse_rows(stream: IO[bytes] | bytes, call: CallDocument) -> Iterator[RowResult]:
    """Yield one result per non-blank data row, in order. Row numbers are Excel's (header is 1).

    A workbook whose header row lacks required columns, or that was made for another call,
    yields a single result for row 1 with the issue.
    """
    if isinstance(stream, bytes | bytearray):
        stream = io.BytesIO(stream)
    wb = load_workbook(stream, read_only=True, data_only=True)
    try:
        if OPTIONS_SHEET in wb.sheetnames:
            made_for = wb[OPTIONS_SHEET][_CALL_ID_CELL].value
            if made_for and made_for != call.id:
                yield RowResult(
                    1,
                    None,
                    [
                        Issue(
                            "xlsx_wrong_call",
                            f"该模板属于征集活动“{made_for}”，不是“{call.id}”",
                            f"This template was made for call {made_for}, not {call.id}",
                            "",
                            {"row": 1, "template_call": made_for},
                        )
                    ],
                )
                return
        ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None) or ()
        index: dict[int, Column] = {}
        for pos, title in enumerate(header):
            col = _BY_HEADER.get(str(title).strip().rstrip("*").strip()) if title is not None else None
            if col:
                index[pos] = col
        present = {c.path for c in index.values()}
        missing = [_BY_PATH[p].header for p in REQUIRED_FIELDS if p in _BY_PATH and p not in present]
        if missing:
            yield RowResult(
                1,
                None,
                [
                    Issue(
                        "xlsx_columns_missing",
                        f"表头缺少必填列：{'、'.join(missing)}",
                        f"The header row lacks required columns: {', '.join(missing)}",
                        "",
                        {"row": 1, "missing": missing},
                    )
                ],
            )
            return
        conv = _converters(call)
        for row_no, values in enumerate(rows, start=2):
            if all(_blank(v) for v in values):
                continue
            result = _parse_row(row_no, values, index, conv)
            if result.form is not None:
                draft_issues = check_draft(result.form, call)
                if draft_issues:
                    result = RowResult(row_no, None, [_at(i, row_no) for i in draft_issues])
            yield result
    finally:
        wb.close()


def template_info(stream: IO[bytes]) -> tuple[str | None, int]:
    """(the call the template was made for or None, the number of data rows the sheet declares).

    The row count comes from the sheet's stored dimension, so it is an upper bound (blank rows
    count); enough for a progress bar. The stream is rewound.
    """
    wb = load_workbook(stream, read_only=True, data_only=True)
    try:
        call_id = wb[OPTIONS_SHEET][_CALL_ID_CELL].value if OPTIONS_SHEET in wb.sheetnames else None
        ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
        rows = max((ws.max_row or 1) - 1, 0)
    finally:
        wb.close()
        stream.seek(0)
    return (str(call_id) if call_id else None), rows
