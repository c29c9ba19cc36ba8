"""The pages in front of a packet's documents after the cover letter (letters.py):
the 42 CFR Part 2 redisclosure notice (R-P2-5) and the index."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from .legal import PART2_NOTICE  # R-P2-5, the short form (42 CFR 2.32(a)(1))
from .pdfs import font_name

PAGE_W, PAGE_H = letter
INDEX_ROWS = 34  # index rows per page


@dataclass(frozen=True)
class IndexRow:
    number: int
    title: str
    service_date: str
    pages: int
    first: int  # packet pages
    last: int
    note: str = ""


def _canvas(buf: io.BytesIO, title: str) -> canvas.Canvas:
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setTitle(title)
    return c


def _wrapped(c: canvas.Canvas, x: float, y: float, text: str, *, size: float = 10,
             width: float = PAGE_W - 144, leading: float = 13) -> float:  # fmt: skip
    """Draw `text` word-wrapped from (x, y) down; returns the next line's y."""
    font = font_name()
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            trial = f"{line} {word}" if line else word
            if line and c.stringWidth(trial, font, size) > width:
                c.setFont(font, size)
                c.drawString(x, y, line)
                y -= leading
                line = word
            else:
                line = trial
        c.setFont(font, size)
        c.drawString(x, y, line)
        y -= leading
    return y


def notice_pdf(scope_lines: Sequence[str]) -> bytes:
    """The Part 2 notice page (R-P2-5): the prohibition on redisclosure and a clear
    explanation of the scope of the consent (or of the order) it was released under."""
    buf = io.BytesIO()
    c = _canvas(buf, "42 CFR Part 2 notice")
    c.setFont(font_name(bold=True), 14)
    c.drawString(72, 700, "Notice to the recipient: 42 CFR Part 2")
    c.setFont(font_name(bold=True), 12)
    c.drawString(72, 670, PART2_NOTICE)
    y = _wrapped(c, 72, 640,
                 "Some records in this packet are substance use disorder records "
                 "protected by federal confidentiality rules (42 CFR Part 2). They may "
                 "not be used or disclosed further except as the consent or order "
                 "below allows, and never to bring criminal charges against or "
                 "investigate the patient without a court order under 42 CFR 2.65.")  # fmt: skip
    y = _wrapped(c, 72, y - 12, "Scope of the consent (42 CFR 2.32(a)(2)):", size=11)
    for line in scope_lines:
        y = _wrapped(c, 84, y, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def index_pages(rows: int) -> int:
    return max(1, math.ceil(rows / INDEX_ROWS))


def index_pdf(rows: Sequence[IndexRow], *, number: str, patient: str) -> bytes:
    """The index of the included documents with their page ranges in the packet."""
    buf = io.BytesIO()
    c = _canvas(buf, f"Index {number}")
    font, bold = font_name(), font_name(bold=True)
    cols = (72, 92, 322, 390, 426, 486)
    for p in range(index_pages(len(rows))):
        c.setFont(bold, 13)
        c.drawString(72, 730, f"Index of released documents - {number}")
        c.setFont(font, 9)
        c.drawString(72, 716, f"Patient: {patient}    Page {p + 1} of "
                              f"{index_pages(len(rows))} of the index")  # fmt: skip
        c.setFont(bold, 8.5)
        for x, head in zip(cols, ("#", "Document", "Service date", "Pages",
                                  "In packet", "Note"), strict=True):  # fmt: skip
            c.drawString(x, 694, head)
        c.line(72, 690, PAGE_W - 54, 690)
        y = 676.0
        for row in rows[p * INDEX_ROWS : (p + 1) * INDEX_ROWS]:
            c.setFont(font, 8.5)
            title = row.title if len(row.title) <= 44 else row.title[:43] + "…"
            cells = (str(row.number), title, row.service_date, str(row.pages),
                     f"{row.first}-{row.last}", row.note[:24])  # fmt: skip
            for x, cell in zip(cols, cells, strict=True):
                c.drawString(x, y, cell)
            y -= 17
        c.showPage()
    c.save()
    return buf.getvalue()
