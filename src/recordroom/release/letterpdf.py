"""Laying out a letter to a requester as a PDF (reportlab platypus): letterhead,
date, address block, subject line, then headings, paragraphs, bullet lists and
tables, with the request number and page on every page's foot."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import registerFontFamily
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

from recordroom.kernel.clock import long_date
from recordroom.kernel.text import without_rule_ids

from .pdfs import font_name

# Names in any Latin, Greek or Cyrillic script (Nguyễn, Łucja, Żaneta): DejaVu Sans
# where the system has it, embedded; Helvetica (Latin-1 only) otherwise.
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


@dataclass
class LetterDoc:
    """What a letter says; `blocks` in order: ("p", text), ("h", heading),
    ("list", [items]), ("table", [header, *rows]), ("small", text)."""

    organization: str
    reference: str
    to: Sequence[str]
    subject: str
    title: str
    on: date
    blocks: list[tuple[str, object]] = field(default_factory=list)
    signature: Sequence[str] = ()

    def p(self, text: str) -> LetterDoc:
        self.blocks.append(("p", text))
        return self

    def h(self, text: str) -> LetterDoc:
        self.blocks.append(("h", text))
        return self

    def bullets(self, items: Sequence[str]) -> LetterDoc:
        self.blocks.append(("list", list(items)))
        return self

    def table(self, rows: Sequence[Sequence[str]]) -> LetterDoc:
        self.blocks.append(("table", [list(r) for r in rows]))
        return self

    def small(self, text: str) -> LetterDoc:
        self.blocks.append(("small", text))
        return self


def _para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    # Every word of a letter passes here: no internal rule ID reaches a requester.
    return Paragraph(escape(without_rule_ids(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list[str]]) -> Table:
    cells = [[_para(c, SMALL) for c in row] for row in rows]
    widths = {2: [2.0 * inch, 4.5 * inch], 3: [1.7 * inch, 3.8 * inch, 1.0 * inch]}
    table = Table(
        cells, colWidths=widths.get(len(rows[0])), repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))  # fmt: skip
    return table


def _seq(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def render(doc: LetterDoc) -> bytes:
    """The letter as PDF bytes."""
    story: list[Flowable] = [
        _para(doc.organization, ORG),
        _para("Health Information Management - Release of Information", SMALL),
        Spacer(1, 14),
        _para(long_date(doc.on)),
        Spacer(1, 6),
        *[_para(line) for line in doc.to if line.strip()],
        Spacer(1, 8),
        _para(
            f"Re: {doc.subject}",
            ParagraphStyle("re", parent=BODY, fontName=BOLD),
        ),  # fmt: skip
        _para(doc.title, TITLE),
    ]
    for kind, value in doc.blocks:
        if kind == "p":
            story.append(_para(str(value)))
        elif kind == "small":
            story.append(_para(str(value), SMALL))
        elif kind == "h":
            story.append(_para(str(value), HEAD))
        elif kind == "list":
            items = [ListItem(_para(str(v)), leftIndent=12) for v in _seq(value)]
            story.append(ListFlowable(items, bulletType="bullet", start="-"))
        elif kind == "table" and value:
            story.append(_table([list(map(str, r)) for r in _seq(value)]))
            story.append(Spacer(1, 8))
    story += [Spacer(1, 14), *[_para(line) for line in doc.signature]]
    buf = io.BytesIO()

    def foot(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 8)
        canvas.drawString(inch, 0.5 * inch, doc.reference)
        canvas.drawRightString(letter[0] - inch, 0.5 * inch, f"Page {template.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(buf, pagesize=letter, title=doc.title, author=doc.organization,
                            leftMargin=inch, rightMargin=inch, topMargin=0.8 * inch,
                            bottomMargin=0.9 * inch, invariant=1)  # fmt: skip
    pdf.build(story, onFirstPage=foot, onLaterPages=foot)
    return buf.getvalue()
