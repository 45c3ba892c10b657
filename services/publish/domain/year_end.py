"""Year-end summary (年度总结) of a call: counts, screening pass rates, score distribution,
the selected list; rendered to XLSX and to a PDF with bar charts drawn with fpdf2 primitives.

Inputs are plain data so review and intake can hand over whatever they store:
- ``applications``: mappings with ``application_id``, ``category``, ``province``, ``unit``,
  ``applicant_type`` and the application's intake ``state`` (``withdrawn_by``, ``as_duplicate``
  for withdrawals); one review or a selection knows without intake's events was ``forwarded``;
- ``screening``: ``{application_id: passed}`` or mappings with ``application_id``, ``passed``;
- ``scores``: ``{application_id: score}`` or mappings with ``application_id``, ``score``;
- ``selected``: ``SelectionEntry`` objects or mappings of the snapshot fields.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .pdf_support import new_pdf, pdf_bytes
from .public_view import public_list_dicts
from .selection import SelectionEntry

UNKNOWN = "未填写"
DIMENSIONS = {
    "by_category": ("category", "项目类别"),
    "by_province": ("province", "所在省份"),
    "by_unit": ("unit", "推荐单位"),
    "by_applicant_type": ("applicant_type", "申报主体类型"),
}


# Intake's lifecycle states: each application is counted in exactly one, its latest.
STATES: dict[str, tuple[str, str]] = {
    "draft": ("草稿（未提交）", "created, never submitted to its recommending unit"),
    "submitted": ("已提交，待推荐单位审核", "submitted, waiting for its recommending unit"),
    "returned": ("退回修改中", "returned to the applicant for revision, not resubmitted yet"),
    "rejected": ("推荐单位未通过", "rejected by its recommending unit"),
    "endorsed": ("推荐单位已同意，待统一申报", "endorsed by its unit, not yet forwarded in a batch"),
    "forwarded": ("已统一申报（进入评审）", "forwarded by its unit in a batch: the projects review works on"),
    "withdrawn": ("已撤回", "withdrawn by its applicant, or by staff (duplicates included)"),
}
# What every count of the summary means (shown with it, so a reader need not guess).
DEFINITIONS: dict[str, tuple[str, str]] = {
    "applications": ("申报项目：创建的全部申报，含草稿、退回、未通过与撤回（含重复申报撤回）",
                     "every application created, in any state (drafts, rejected and withdrawn included)"),
    "forwarded": ("统一申报：推荐单位已统一申报、仍在评审中的项目", "forwarded by a unit and not withdrawn since"),
    "withdrawn": ("已撤回：申报主体或工作人员撤回的申报", "withdrawn by the applicant or by staff"),
    "withdrawn_duplicates": ("重复申报撤回：因与其他申报属同一项目而被撤回", "withdrawn as a duplicate of another"),
    "screened": ("参加初审：已作出初审决定的项目", "projects with an initial-screening decision"),
    "passed_screening": ("通过初审", "passed the initial screening"),
    "screened_out": ("初审未通过", "did not pass the initial screening"),
    "scored": ("完成评分：至少有一份专家评分的项目", "projects with at least one submitted expert review"),
    "selected": ("入选：最新公布的最终名单中的项目", "projects on the latest published final list"),
}


def _as_map(data: Mapping[str, Any] | Sequence[Mapping[str, Any]], value_key: str) -> dict[str, Any]:
    if isinstance(data, Mapping):
        return {str(k): v for k, v in data.items()}
    return {str(item["application_id"]): item[value_key] for item in data}


def _state(app: Mapping[str, Any]) -> str:
    # review and the selections only ever see forwarded applications
    state = str(app.get("state") or "forwarded")
    return state if state in STATES else "forwarded"


def _rate(passed: int, screened: int) -> float | None:
    return round(passed / screened, 4) if screened else None


def _histogram(values: Sequence[float], width: float, top: float) -> list[dict[str, Any]]:
    count = int(round(top / width))
    buckets = [0] * count
    for v in values:
        # Clamp into the edge buckets; the top bucket includes its upper bound (a perfect 100).
        idx = min(max(int(v // width), 0), count - 1)
        buckets[idx] += 1
    return [
        {"from": round(i * width, 4), "to": round((i + 1) * width, 4), "count": n}
        for i, n in enumerate(buckets)
    ]


def year_end_summary(
    applications: Sequence[Mapping[str, Any]],
    screening: Mapping[str, bool] | Sequence[Mapping[str, Any]],
    scores: Mapping[str, float] | Sequence[Mapping[str, Any]],
    selected: Sequence[SelectionEntry | Mapping[str, Any]],
    *,
    bucket_width: float = 10.0,
    max_score: float = 100.0,
    publish_scores: bool = False,
) -> dict[str, Any]:
    passed_map = {k: bool(v) for k, v in _as_map(screening, "passed").items()}
    score_map = {k: float(v) for k, v in _as_map(scores, "score").items() if v is not None}
    entries = [s if isinstance(s, SelectionEntry) else SelectionEntry.from_mapping(s) for s in selected]
    selected_ids = {e.application_id for e in entries}

    def breakdown(field: str) -> list[dict[str, Any]]:
        rows: dict[str, Counter[str]] = {}
        for app in applications:
            key = str(app.get(field) or UNKNOWN)
            aid = str(app["application_id"])
            c = rows.setdefault(key, Counter())
            c["applications"] += 1
            c[_state(app)] += 1
            if aid in passed_map:
                c["screened"] += 1
                c["passed"] += passed_map[aid]
            c["selected"] += aid in selected_ids
        out = [
            {
                "key": key,
                "applications": c["applications"],
                "forwarded": c["forwarded"],
                "withdrawn": c["withdrawn"],
                "screened": c["screened"],
                "passed": c["passed"],
                "pass_rate": _rate(c["passed"], c["screened"]),
                "selected": c["selected"],
            }
            for key, c in rows.items()
        ]
        return sorted(out, key=lambda r: (-r["applications"], r["key"]))

    values = sorted(score_map.values())
    screened = len(passed_map)
    passed = sum(passed_map.values())
    states = Counter(_state(app) for app in applications)
    withdrawn = [app for app in applications if _state(app) == "withdrawn"]
    duplicates = sum(bool(app.get("as_duplicate")) for app in withdrawn)
    summary: dict[str, Any] = {
        "totals": {
            "applications": len(applications),
            "forwarded": states["forwarded"],
            "withdrawn": len(withdrawn),
            "withdrawn_duplicates": duplicates,
            "screened": screened,
            "passed_screening": passed,
            "screened_out": screened - passed,
            "scored": len(values),
            "selected": len(entries),
        },
        # one row per state, zeros included, in lifecycle order: the rows add up to "applications"
        "by_state": [
            {"state": state, "label": label, "count": states[state]} for state, (label, _en) in STATES.items()
        ],
        "withdrawn": {
            "total": len(withdrawn),
            "by_applicant": sum(app.get("withdrawn_by") == "applicant" for app in withdrawn),
            "by_staff": sum(app.get("withdrawn_by") == "staff" and not app.get("as_duplicate") for app in withdrawn),
            "duplicates": duplicates,
        },
        "definitions": {
            **{key: {"zh": zh, "en": en} for key, (zh, en) in DEFINITIONS.items()},
            **{f"state.{key}": {"zh": zh, "en": en} for key, (zh, en) in STATES.items()},
        },
        "screening": {"pass_rate": _rate(passed, screened)},
        "scores": {
            "count": len(values),
            "min": values[0] if values else None,
            "max": values[-1] if values else None,
            "mean": round(statistics.fmean(values), 2) if values else None,
            "median": round(statistics.median(values), 2) if values else None,
            "buckets": _histogram(values, bucket_width, max_score),
        },
        "selected": public_list_dicts(entries, publish_scores=publish_scores),
    }
    for name, (field, _label) in DIMENSIONS.items():
        summary[name] = breakdown(field)
    return summary


# --- XLSX ---------------------------------------------------------------------------------


def _sheet(book: Workbook, title: str, head: list[str], rows: list[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for idx, name in enumerate(head, start=1):
        longest = max([len(str(name)) * 2] + [len(str(r[idx - 1])) * 2 for r in rows] or [8])
        sheet.column_dimensions[get_column_letter(idx)].width = min(max(longest + 2, 8), 60)
    sheet.freeze_panes = "A2"


def year_end_xlsx(summary: Mapping[str, Any], title: str) -> bytes:
    book = Workbook()
    overview = book.active
    overview.title = "概览"
    overview.append([title])
    overview["A1"].font = Font(size=14, bold=True)
    totals = summary["totals"]
    labels = {
        "applications": "申报项目数",
        "screened": "参加初审数",
        "passed_screening": "通过初审数",
        "scored": "完成评分数",
        "selected": "入选项目数",
    }
    for key, label in labels.items():
        overview.append([label, totals[key]])
    rate = summary["screening"]["pass_rate"]
    overview.append(["初审通过率", "—" if rate is None else f"{rate:.1%}"])
    overview.append([])
    overview.append(["按申报状态", "项目数"])
    for row in summary["by_state"]:
        overview.append([row["label"], row["count"]])
    for key, label in (("screened_out", "初审未通过数"), ("withdrawn_duplicates", "重复申报撤回数")):
        overview.append([label, totals[key]])
    overview.append([])
    overview.append(["口径说明"])
    for key in DEFINITIONS:
        overview.append([summary["definitions"][key]["zh"]])
    overview.column_dimensions["A"].width = 20
    overview.column_dimensions["B"].width = 14
    for name, (_field, label) in DIMENSIONS.items():
        _sheet(
            book,
            f"按{label}",
            [label, "申报数", "统一申报", "已撤回", "参加初审", "通过初审", "通过率", "入选数"],
            [
                [
                    r["key"],
                    r["applications"],
                    r["forwarded"],
                    r["withdrawn"],
                    r["screened"],
                    r["passed"],
                    "—" if r["pass_rate"] is None else f"{r['pass_rate']:.1%}",
                    r["selected"],
                ]
                for r in summary[name]
            ],
        )
    _sheet(
        book,
        "评分分布",
        ["分数段", "项目数"],
        [[f"{b['from']:g}–{b['to']:g}", b["count"]] for b in summary["scores"]["buckets"]],
    )
    _sheet(
        book,
        "入选名单",
        ["序号", "项目名称", "申报主体", "项目类别", "所在省份", "推荐单位"],
        [
            [e["rank"], e["project_name"], e["organisation"], e["category"], e["province"], e["unit"]]
            for e in summary["selected"]
        ],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- PDF ----------------------------------------------------------------------------------


def _bar_chart(
    pdf: Any, title: str, items: list[tuple[str, int]], *, width: float = 170, bar_h: float = 6
) -> None:
    """Horizontal bars: label | bar | value. Drawn with rect() so no plotting library is needed."""
    pdf.set_font(size=12)
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=9)
    top = max((v for _, v in items), default=0) or 1
    label_w, value_w = 48, 14
    bar_max = width - label_w - value_w
    for label, value in items:
        if pdf.get_y() + bar_h + 2 > pdf.h - 18:
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(label_w, bar_h, label[:14], align="R")
        pdf.set_fill_color(68, 114, 196)
        length = bar_max * value / top
        if length > 0:
            pdf.rect(x + label_w + 2, y + 1, length, bar_h - 2, style="F")
        pdf.set_xy(x + label_w + 4 + length, y)
        pdf.cell(value_w, bar_h, str(value))
        pdf.set_xy(x, y + bar_h + 1)
    pdf.ln(4)


def year_end_pdf(summary: Mapping[str, Any], title: str) -> bytes:
    pdf = new_pdf(title, footer_text=title)
    pdf.set_font(size=18)
    pdf.multi_cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=11)
    t = summary["totals"]
    rate = summary["screening"]["pass_rate"]
    rate_text = "—" if rate is None else f"{rate:.1%}"
    states = "、".join(f"{r['label']} {r['count']} 个" for r in summary["by_state"] if r["count"])
    pdf.multi_cell(
        0,
        7,
        f"申报项目 {t['applications']} 个（{states or '无'}；其中重复申报撤回 {t['withdrawn_duplicates']} 个），"
        f"参加初审 {t['screened']} 个，通过初审 {t['passed_screening']} 个（通过率 {rate_text}），"
        f"初审未通过 {t['screened_out']} 个，完成评分 {t['scored']} 个，入选 {t['selected']} 个。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(size=8)
    for key in DEFINITIONS:
        pdf.multi_cell(0, 5, f"· {summary['definitions'][key]['zh']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(size=11)
    pdf.ln(3)
    _bar_chart(pdf, "各申报状态项目数", [(r["label"], r["count"]) for r in summary["by_state"]])
    _bar_chart(pdf, "各类别申报数", [(r["key"], r["applications"]) for r in summary["by_category"]])
    _bar_chart(pdf, "各类别入选数", [(r["key"], r["selected"]) for r in summary["by_category"]])
    _bar_chart(
        pdf,
        "评分分布（项目数）",
        [(f"{b['from']:g}–{b['to']:g} 分", b["count"]) for b in summary["scores"]["buckets"]],
    )
    _bar_chart(
        pdf, "各省份申报数（前 15）", [(r["key"], r["applications"]) for r in summary["by_province"][:15]]
    )
    if summary["selected"]:
        pdf.add_page()
        pdf.set_font(size=12)
        pdf.cell(0, 9, "入选项目名单", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(size=9)
        with pdf.table(
            col_widths=(10, 60, 50, 34, 20),
            headings_style=FontFace(emphasis="", fill_color=(221, 235, 247)),
            line_height=5.5,
        ) as table:
            head = table.row()
            for h in ("序号", "项目名称", "申报主体", "项目类别", "所在省份"):
                head.cell(h)
            for e in summary["selected"]:
                row = table.row()
                for v in (str(e["rank"]), e["project_name"], e["organisation"], e["category"], e["province"]):
                    row.cell(v)
    return pdf_bytes(pdf)
