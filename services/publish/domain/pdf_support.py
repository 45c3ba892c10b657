"""PDF plumbing shared by list exports and reports: an FPDF with an embedded CJK font.

The font is WenQuanYi Micro Hei (Apache-2.0 or GPLv3 with font exception), shipped under
``services/publish/assets/fonts/``. fpdf2 embeds only the glyphs a document uses, so PDFs
stay small while every GB 18030 character a project name might use renders.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FONT_PATH = ASSETS / "fonts" / "wqy-microhei.ttf"
FONT_FAMILY = "wqy"


class _DocPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 8, f"{self.footer_text}  第 {self.page_no()}/{{nb}} 页", align="C")
        self.set_text_color(0, 0, 0)


def new_pdf(title: str, *, landscape: bool = False, footer_text: str = "") -> FPDF:
    pdf = _DocPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
    pdf.footer_text = footer_text
    pdf.add_font(FONT_FAMILY, fname=str(FONT_PATH))
    pdf.set_font(FONT_FAMILY, size=10)
    pdf.set_title(title)
    pdf.set_creator("gongyi publish")
    pdf.set_lang("zh-CN")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def pdf_bytes(pdf: FPDF) -> bytes:
    return bytes(pdf.output())
