"""The accounting of disclosures as a PDF letter (R-AOD-4 entry content).

Ten thousand entries must render in well under a second, so the table rows are
written as PDF text operators straight into the page stream (reportlab's text
objects and string-width code are pure Python per character here); reportlab
still owns the document, fonts, headings and compression.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from recordroom.kernel.clock import long_date
from recordroom.kernel.pdftext import PDF_ESCAPES, FastCanvas, no_ascii85
from recordroom.kernel.text import without_rule_ids

from .accounting import AccountingEntry

PAGE_W, PAGE_H = landscape(letter)
MARGIN = 36.0
SIZE, LEADING = 8.0, 9.6
# (heading, x, width) of the four columns, R-AOD-4 (i)-(iv)
COLUMNS = (
    ("Date", MARGIN, 78.0),
    ("Recipient and address", MARGIN + 78, 186.0),
    ("What was disclosed", MARGIN + 264, 236.0),
    ("Purpose and legal basis", MARGIN + 500, 220.0),
)
BOTTOM = 46.0


@dataclass(frozen=True)
class AccountingLetter:
    """What the letter says besides its entries."""

    patient_name: str
    birth_date: date | None
    period_start: date
    period_end: date
    produced_on: date
    facility: str
    summarised: bool
    part2_note: bool


INTRO = (
    "This is the accounting of disclosures of your health information that you "
    "asked for (45 CFR 164.528). It lists disclosures made in the period above, "
    "other than those the rule leaves out: for your treatment, payment for your "
    "care and our health care operations; to you or at your direction; under your "
    "written authorization; for the facility directory or to people involved in "
    "your care; for national security or intelligence; to correctional "
    "institutions or law enforcement having custody of you; as part of a limited "
    "data set; and incidental disclosures."
)
PART2 = (
    "Disclosures of substance use disorder treatment records made with your "
    "consent are listed for the three years before your request (42 CFR 2.25)."
)
SUMMARY = (
    "Repeated disclosures to one recipient for one purpose are listed once, with "
    "their number and the date of the last (45 CFR 164.528(b)(3))."
)


_WIDTHS = pdfmetrics.getFont("Helvetica").widths  # WinAnsi code -> 1/1000 em


@lru_cache(maxsize=100_000)
def _pdf_string(text: str) -> str:
    """`text` as a PDF literal string in the font's WinAnsi encoding."""
    raw = text.encode("cp1252", "replace")
    return "(" + raw.decode("latin-1").translate(PDF_ESCAPES) + ")"


@lru_cache(maxsize=100_000)
def _width(word: str) -> float:
    raw = word.encode("cp1252", "replace")
    return sum(map(_WIDTHS.__getitem__, raw)) * SIZE / 1000


@lru_cache(maxsize=50_000)
def wrap(text: str, width: float) -> tuple[str, ...]:
    """Greedy word wrap to `width` points; a word longer than a line is cut."""
    lines: list[str] = []
    space = _width(" ")
    for para in text.splitlines() or [""]:
        line: list[str] = []
        used = 0.0
        for word in para.split():
            w = _width(word)
            while w > width:  # an unbroken string wider than the column
                cut = max(1, int(len(word) * width / w))
                if line:
                    lines.append(" ".join(line))
                    line, used = [], 0.0
                lines.append(word[:cut])
                word = word[cut:]
                w = _width(word)
            if line and used + space + w > width:
                lines.append(" ".join(line))
                line, used = [word], w
            else:
                used = used + space + w if line else w
                line.append(word)
        lines.append(" ".join(line))
    return tuple(lines)


def _cells(e: AccountingEntry) -> tuple[str, str, str, str]:
    when = long_date(e.disclosed_on)
    if e.count > 1:
        when += f"\n{e.count} disclosures, the last on {long_date(e.last_on)}"
    recipient = e.recipient_name + (
        f"\n{e.recipient_address}" if e.recipient_address else "\n(address not known)"
    )
    what = e.description
    if e.part2:
        what += "\n42 CFR Part 2 (substance use disorder) records"
    if e.corrected:
        what += "\n(this entry corrects an earlier one)"
    return when, recipient, what, without_rule_ids(f"{e.purpose}\n{e.basis}")


@lru_cache(maxsize=50_000)
def _cell(text: str, column: int) -> tuple[str, int]:
    """A cell's text operators after its origin, and its number of lines: the
    first line at the origin, each next one LEADING lower (the ' operator)."""
    shown = [_pdf_string(line) for line in wrap(text, COLUMNS[column][2] - 6)]
    return f"{shown[0]} Tj" + "".join(f" {s} '" for s in shown[1:]), len(shown)


_ORIGINS = [f"1 0 0 1 {x + 3:.1f} " for _, x, _ in COLUMNS]


def _row_ops(cells: tuple[str, ...], y: float) -> tuple[str, float]:
    """PDF operators for one row whose top is at `y`, and the row's height."""
    ops = ["BT"]
    tallest = 1
    base = f"{y - SIZE:.1f} Tm "
    for column, text in enumerate(cells):
        shown, lines = _cell(text, column)
        tallest = max(tallest, lines)
        ops.append(_ORIGINS[column] + base + shown)
    height = tallest * LEADING + 5
    ops.append(f"ET {MARGIN} {y - height:.1f} m {PAGE_W - MARGIN} {y - height:.1f} l S")
    return "\n".join(ops), height


class _Pages:
    def __init__(self, c: canvas.Canvas, head: AccountingLetter) -> None:
        self.c, self.head, self.page = c, head, 0

    def start(self) -> float:
        c, h = self.c, self.head
        self.page += 1
        c.setFont("Helvetica-Bold", 13)
        c.drawString(MARGIN, PAGE_H - 44, "Accounting of disclosures")
        c.setFont("Helvetica", 9)
        dob = f", born {long_date(h.birth_date)}" if h.birth_date else ""
        c.drawString(MARGIN, PAGE_H - 60, f"{h.patient_name}{dob}")
        c.drawString(
            MARGIN,
            PAGE_H - 72,
            f"Disclosures from {long_date(h.period_start)} to "
            f"{long_date(h.period_end)}; produced {long_date(h.produced_on)} by "
            f"{h.facility}",
        )
        c.drawRightString(PAGE_W - MARGIN, PAGE_H - 44, f"Page {self.page}")
        y = PAGE_H - 84.0
        if self.page == 1:
            y = self._notes(y)
        c.setFont("Helvetica-Bold", SIZE)
        for heading, x, _ in COLUMNS:
            c.drawString(x + 3, y - SIZE, heading)
        c.setLineWidth(0.4)
        c.line(MARGIN, y - LEADING - 3, PAGE_W - MARGIN, y - LEADING - 3)
        c.setFont("Helvetica", SIZE)  # the rows' font (text state persists)
        return y - LEADING - 3

    def _notes(self, y: float) -> float:
        notes = [INTRO]
        notes += [PART2] if self.head.part2_note else []
        notes += [SUMMARY] if self.head.summarised else []
        t = self.c.beginText(MARGIN, y - SIZE)
        t.setFont("Helvetica", SIZE, LEADING)
        for note in notes:
            for line in wrap(note, PAGE_W - 2 * MARGIN):
                t.textLine(line)
        self.c.drawText(t)
        return float(t.getY()) - 4


def render(head: AccountingLetter, entries: list[AccountingEntry]) -> bytes:
    """The letter as PDF bytes: the notes, then one row per entry, oldest first."""
    buf = io.BytesIO()
    with no_ascii85():
        c = FastCanvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
        c.setTitle("Accounting of disclosures")
        pages = _Pages(c, head)
        y = pages.start()
        for entry in entries:
            ops, height = _row_ops(_cells(entry), y)
            if y - height < BOTTOM:
                c.showPage()
                y = pages.start()
                ops, height = _row_ops(_cells(entry), y)
            c.addLiteral(ops)
            y -= height
        if not entries:
            c.drawString(MARGIN + 3, y - 14, "No disclosures to list for this period.")
            y -= 14
        c.setFont("Helvetica", SIZE)
        c.drawString(
            MARGIN,
            max(y - 16, BOTTOM - 20),
            f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}. "
            "Questions: the Health Information Management department, "
            f"{head.facility}.",
        )
        c.save()
    return buf.getvalue()
