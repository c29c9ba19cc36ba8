"""The one letter layout (reportlab platypus) every app's letters use: letterhead
with the department, date, address block, subject line, then headings, paragraphs,
quotes, bullet lists and tables, with the reference and page on every page's foot.
Every word passes `without_rule_ids`: nothing internal reaches a reader outside."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from .clock import long_date
from .text import without_rule_ids

_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


@cache
def font_name(bold: bool = False) -> str:
    """A font for names in any Latin, Greek or Cyrillic script (Nguyễn, Łucja): DejaVu
    Sans when the system has it (embedded, subset), else Helvetica (Latin-1 only)."""
    for path in _FONT_FILES:
        bold_path = path.replace("Sans.ttf", "Sans-Bold.ttf").replace("Regular", "Bold")
        chosen = bold_path if bold else path
        if Path(chosen).exists():
            name = "RRSansBold" if bold else "RRSans"
            pdfmetrics.registerFont(TTFont(name, chosen))
            return name
    return "Helvetica-Bold" if bold else "Helvetica"


REGULAR, BOLD = font_name(), font_name(bold=True)
if REGULAR != "Helvetica":
    registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                       boldItalic=BOLD)  # fmt: skip
_STYLES = getSampleStyleSheet()
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontName=REGULAR,
                      fontSize=10.5, leading=14, spaceAfter=6)  # fmt: skip
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8.5, leading=11)
HEAD = ParagraphStyle("head", parent=_STYLES["Heading3"], fontName=BOLD, fontSize=12,
                      spaceBefore=8, spaceAfter=4)  # fmt: skip
TITLE = ParagraphStyle("title", parent=_STYLES["Heading2"], fontName=BOLD, fontSize=14,
                       spaceAfter=8)  # fmt: skip
ORG = ParagraphStyle("org", parent=BODY, fontName=BOLD, fontSize=13,
                     spaceAfter=0)  # fmt: skip
QUOTE = ParagraphStyle("quote", parent=BODY, leftIndent=18)
RE = ParagraphStyle("re", parent=BODY, fontName=BOLD)


@dataclass
class LetterDoc:
    """What a letter says; `blocks` in order: ("p", text), ("h", heading),
    ("q", quoted text), ("list", [items]), ("table", [header, *rows]),
    ("small", text)."""

    organization: str
    reference: str
    to: Sequence[str]
    subject: str
    title: str
    on: date | None
    department: str = "Health Information Management"
    blocks: list[tuple[str, object]] = field(default_factory=list)
    signature: Sequence[str] = ()

    def p(self, text: str) -> LetterDoc:
        self.blocks.append(("p", text))
        return self

    def h(self, text: str) -> LetterDoc:
        self.blocks.append(("h", text))
        return self

    def quote(self, text: str) -> LetterDoc:
        self.blocks.append(("q", text))
        return self

    def bullets(self, items: Sequence[str]) -> LetterDoc:
        self.blocks.append(("list", list(items)))
        return self

    def table(
        self, rows: Sequence[Sequence[str]], widths: Sequence[float] = ()
    ) -> LetterDoc:
        """A table, its first row the header; `widths` in inches (default: two and
        three columns as the house sets them, more shared equally)."""
        body = [list(r) for r in rows]
        self.blocks.append(("table", {"rows": body, "widths": list(widths)}
                            if widths else body))  # fmt: skip
        return self

    def small(self, text: str) -> LetterDoc:
        self.blocks.append(("small", text))
        return self


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    # Every word of a letter passes here: no internal rule ID reaches a reader.
    return Paragraph(escape(without_rule_ids(text)).replace("\n", "<br/>"), style)


_WIDTHS = {2: [2.0 * inch, 4.5 * inch], 3: [1.7 * inch, 3.8 * inch, 1.0 * inch]}


def _table(rows: list[list[str]], inches: Sequence[float] = ()) -> Table:
    cells = [[para(c, SMALL) for c in row] for row in rows]
    n = len(rows[0])
    # a page's text width (6.5 in) shared equally past three columns
    widths = ([w * inch for w in inches] if inches
              else _WIDTHS.get(n) or [6.5 * inch / n] * n)  # fmt: skip
    table = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))  # fmt: skip
    return table


def _seq(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _block(kind: str, value: object) -> list[Flowable]:
    if kind in ("p", "small", "h", "q"):
        style = {"p": BODY, "small": SMALL, "h": HEAD, "q": QUOTE}[kind]
        return [para(str(value), style)]
    if kind == "list":
        items = [ListItem(para(str(v)), leftIndent=12) for v in _seq(value)]
        return [ListFlowable(items, bulletType="bullet", start="-")]
    if kind == "table" and value:
        rows, inches = (value["rows"], value["widths"]) if isinstance(value, dict) \
            else (value, [])  # fmt: skip
        return [_table([list(map(str, r)) for r in _seq(rows)], inches), Spacer(1, 8)]
    return []


def render(doc: LetterDoc) -> bytes:
    """The letter as PDF bytes (invariant: the same letter gives the same bytes)."""
    story: list[Flowable] = [
        para(doc.organization, ORG),
        para(doc.department, SMALL),
        Spacer(1, 14),
    ]
    if doc.on:
        story += [para(long_date(doc.on)), Spacer(1, 6)]
    story += [para(line) for line in doc.to if line.strip()]
    story += [Spacer(1, 8), para(f"Re: {doc.subject}", RE), para(doc.title, TITLE)]
    for kind, value in doc.blocks:
        story += _block(kind, value)
    story += [Spacer(1, 14), *[para(line) for line in doc.signature]]
    buf = io.BytesIO()

    def foot(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.drawString(inch, 0.5 * inch, doc.reference)
        canvas.drawRightString(letter[0] - inch, 0.5 * inch, f"Page {template.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(buf, pagesize=letter, title=doc.title,
                            author=doc.organization, leftMargin=inch, rightMargin=inch,
                            topMargin=0.8 * inch, bottomMargin=0.9 * inch, invariant=1)  # fmt: skip
    pdf.build(story, onFirstPage=foot, onLaterPages=foot)
    return buf.getvalue()
