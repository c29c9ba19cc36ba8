"""Letters and the disclosure summary as PDFs (reportlab platypus): letterhead, date,
address, subject, then headings and paragraphs; the request number and page on every
foot. Every word passes `without_rule_ids`: nothing internal reaches a patient.

(The release desk has its own layout in release/letterpdf.py; the two apps are
siblings and may not import each other.)"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from recordroom.kernel.clock import long_date
from recordroom.kernel.text import without_rule_ids

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def _fonts() -> tuple[str, str]:
    """DejaVu Sans (names in any Latin, Greek or Cyrillic script) when present."""
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdfmetrics.registerFont(TTFont("AmdSans", str(regular)))
        pdfmetrics.registerFont(TTFont("AmdSansBold", str(bold)))
        return "AmdSans", "AmdSansBold"
    return "Helvetica", "Helvetica-Bold"


REGULAR, BOLD = _fonts()
_BASE = getSampleStyleSheet()["BodyText"]
BODY = ParagraphStyle("amd-body", parent=_BASE, fontName=REGULAR, fontSize=10.5,
                      leading=14, spaceAfter=6)  # fmt: skip
HEAD = ParagraphStyle("amd-head", parent=BODY, fontName=BOLD, fontSize=12,
                      spaceBefore=8, spaceAfter=4)  # fmt: skip
TITLE = ParagraphStyle("amd-title", parent=BODY, fontName=BOLD, fontSize=14,
                       spaceAfter=8)  # fmt: skip
QUOTE = ParagraphStyle("amd-quote", parent=BODY, leftIndent=18)


@dataclass
class LetterDoc:
    """What a letter says; `blocks` in order: ("p", text), ("h", text), ("q", text)."""

    organization: str
    department: str
    reference: str
    to: Sequence[str]
    subject: str
    title: str
    on: date | None
    blocks: list[tuple[str, str]] = field(default_factory=list)
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


def _para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(without_rule_ids(text)).replace("\n", "<br/>"), style)


def render(doc: LetterDoc) -> bytes:
    styles = {"p": BODY, "h": HEAD, "q": QUOTE}
    story: list[Flowable] = [
        _para(doc.organization, ParagraphStyle("org", parent=BODY, fontName=BOLD)),
        _para(doc.department),
        Spacer(1, 12),
    ]
    if doc.on:
        story += [_para(long_date(doc.on)), Spacer(1, 6)]
    story += [_para(line) for line in doc.to if line.strip()]
    story += [Spacer(1, 8),
              _para(f"Re: {doc.subject}", ParagraphStyle("re", parent=BODY, fontName=BOLD)),
              _para(doc.title, TITLE)]  # fmt: skip
    story += [_para(text, styles[kind]) for kind, text in doc.blocks]
    story += [Spacer(1, 14), *[_para(line) for line in doc.signature]]
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
