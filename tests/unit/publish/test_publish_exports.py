import csv
import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from gongyi.errors import UnsupportedMediaType
from services.publish.domain import exports
from services.publish.domain.pdf_support import FONT_PATH


def test_csv_has_bom_chinese_headers_and_rows(open_notice):
    data = exports.to_csv(exports.notice_document(open_notice))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["序号", "项目名称", "申报主体", "项目类别", "所在省份", "推荐单位"]
    assert rows[1][:2] == ["1", "乡村儿童阅读点亮计划1号"]
    assert len(rows) == 31
    assert b"\r\n" in data


def test_csv_neutralises_formulas():
    from services.publish.domain.public_view import PublicEntry

    doc = exports.ListDocument(
        "final_list",
        "t",
        "c",
        "p",
        [
            PublicEntry(
                application_id="x",
                rank=1,
                project_name='=HYPERLINK("http://evil")',
                organisation="@org",
                category="其他",
                province="北京市",
                unit="u",
            )
        ],
        False,
    )
    rows = list(csv.reader(io.StringIO(exports.to_csv(doc).decode("utf-8-sig"))))
    assert rows[1][1].startswith("'=") and rows[1][2] == "'@org"


def test_xlsx_headers_widths_and_values(open_notice):
    data = exports.to_xlsx(exports.final_list_document(open_notice))
    book = load_workbook(io.BytesIO(data))
    sheet = book["入选名单"]
    assert sheet["A1"].value == "2024年网络公益行动优秀网络公益项目征集入选项目名单"
    assert sheet["A3"].value.startswith("公示期：2024年2月8日 10:00 至 2024年2月21日 23:59")
    assert [c.value for c in sheet[5]] == ["序号", "项目名称", "申报主体", "项目类别", "所在省份", "推荐单位"]
    assert sheet["A6"].value == 1 and sheet["B6"].value == "乡村儿童阅读点亮计划1号"
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width
    assert sheet.freeze_panes == "A6"


def test_pdf_embeds_cjk_font_and_text_is_extractable(open_notice):
    data = exports.to_pdf(exports.notice_document(open_notice))
    assert data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "2024年网络公益行动优秀网络公益项目征集拟入选项目公示" in text
    assert "公示期：2024年2月8日 10:00 至 2024年2月21日 23:59" in text
    for name in ("乡村儿童阅读点亮计划1号", "银龄数字课堂2号", "非遗云上传承29号", "爱心助农直播间30号"):
        assert name in text
    assert "互联网+教育发展" in text and "河南省" in text
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descendant = next(iter(fonts.values())).get_object()["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"]  # embedded, not referenced
    assert len(data) < 500_000  # subset, not the whole 4.6 MB font


def test_font_asset_shipped_with_licence():
    assert FONT_PATH.exists() and FONT_PATH.stat().st_size < 10_000_000
    assert (FONT_PATH.parent / "wqy-microhei.COPYRIGHT.txt").exists()
    assert (FONT_PATH.parent / "LICENSE-Apache-2.0.txt").exists()


def test_export_dispatch(open_notice):
    body, media, name = exports.export(open_notice, final=True, fmt="xlsx")
    assert media.startswith("application/vnd.openxmlformats") and name == "n-2024-final-list.xlsx"
    assert body.startswith(b"PK")
    with pytest.raises(UnsupportedMediaType) as err:
        exports.export(open_notice, final=False, fmt="docx")
    assert err.value.code == "unsupported_export_format"
