"""Lab and radiology results in a release: the reports a request asks for (its
dates, visits and document types, as for documents), each through the basis's gate
like a document, and their pages in the packet (each report with its values)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from recordroom.kernel import clock
from recordroom.records.models import (
    IMAGING_SECTIONS,
    ResultObservation,
    ResultReport,
    ResultStatus,
)
from recordroom.records.results import current_observations, visible_results

from . import authorizations
from .models import ReleaseRequest
from .pdfs import font_name

PATHOLOGY = frozenset({"SP", "CP", "CG"})
# A request's document types (LOINC, records.doctypes) that ask for results too.
RESULT_TYPES: dict[str, Q] = {
    "11502-2": ~Q(category__in=IMAGING_SECTIONS | PATHOLOGY),  # laboratory report
    "11526-1": Q(category__in=PATHOLOGY),  # pathology report
    "18748-4": Q(category__in=IMAGING_SECTIONS),  # radiology report
}
# Abnormal flags (HL7 table 0078) in the words a reader of a packet understands.
FLAG_WORDS = {
    "L": "Low", "H": "High", "LL": "Critically low", "HH": "Critically high",
    "<": "Below range", ">": "Above range", "A": "Abnormal", "AA": "Critically abnormal",
    "N": "", "POS": "Positive", "NEG": "", "S": "Susceptible", "R": "Resistant",
    "I": "Intermediate",
}  # fmt: skip
TITLE = "Laboratory and radiology results"


@dataclass(frozen=True)
class ResultOut:
    """A report going out: its current values and the labels its gate read."""

    report: ResultReport
    values: list[ResultObservation]
    labels: list[str]


def results_asked_for(req: ReleaseRequest, user: Any) -> QuerySet[ResultReport]:
    """The reports the request asks for, as scope.asked_for reads documents: the
    patient's at the request's facility in the user's scope, effective in the date
    range, among the visits asked for, of the types asked for (a laboratory,
    pathology or radiology report type); every one for the entire record. Reports
    entered in error or cancelled are not part of the record released."""
    qs = visible_results(user).filter(patient=req.patient, facility=req.facility)
    qs = qs.exclude(status__in=(ResultStatus.ENTERED_IN_ERROR, ResultStatus.CANCELLED))
    if req.entire_record:
        return qs
    if req.date_from:
        qs = qs.filter(
            effective_at__gte=clock.start_of_day(req.date_from, req.facility)
        )
    if req.date_to:
        end = clock.start_of_day(clock.add_days(req.date_to, 1), req.facility)
        qs = qs.filter(effective_at__lt=end)
    encounter_ids = list(req.encounters.values_list("pk", flat=True))
    if encounter_ids:
        qs = qs.filter(encounter_id__in=encounter_ids)
    if req.document_types:
        wanted = [RESULT_TYPES[t] for t in req.document_types if t in RESULT_TYPES]
        if not wanted:
            return qs.none()
        either = wanted[0]
        for q in wanted[1:]:
            either |= q
        qs = qs.filter(either)
    return qs


@dataclass(frozen=True)
class ResultLeft:
    """A report the basis's gate keeps out: the rule and the reason it gave."""

    report: ResultReport
    labels: list[str]
    rule: str
    reason: str


def select_results(
    req: ReleaseRequest, user: Any
) -> tuple[list[ResultOut], list[ResultLeft]]:
    """The reports that go out (oldest first) and those the basis's gate leaves
    out (a label the basis does not cover), with the rule and reason."""
    reports = list(
        results_asked_for(req, user)
        .select_related("encounter", "performer")
        .order_by("effective_at", "pk")
    )
    values = current_observations(reports)
    gate = authorizations.gate_for(req)
    out: list[ResultOut] = []
    left: list[ResultLeft] = []
    for r in reports:
        labels = set(r.sensitivity or [])
        if r.encounter is not None:
            labels |= set(r.encounter.sensitivity or [])
        passed = gate(sorted(labels))
        if passed.include:
            out.append(ResultOut(r, values[r.pk], sorted(labels)))
        else:
            left.append(ResultLeft(r, sorted(labels), passed.rule, passed.reason))
    return out, left


# --- the pages ------------------------------------------------------------------------

_W, _H = letter
_LEFT, _TOP, _BOTTOM = 54.0, _H - 60, 60.0
# (x, heading, width) of the value table's columns
_COLUMNS = ((0, "Test", 175), (180, "Value", 80), (265, "Units", 60),
            (330, "Reference range", 85), (420, "Flag", 0))  # fmt: skip


class _Pages:
    """A canvas that starts a new page when a line would run past the bottom."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=letter, invariant=1)
        self.c.setTitle(TITLE)
        self.y = _TOP

    def line(self, text: str, *, size: float = 9, bold: bool = False,
             x: float = 0, width: float = 0, advance: bool = True) -> None:  # fmt: skip
        """Draw `text` at column `x`, cut to `width` (default: to the margin)."""
        if self.y < _BOTTOM:
            self.c.showPage()
            self.y = _TOP
        width = width or _W - 2 * _LEFT - x
        self.c.setFont(font_name(bold), size)
        self.c.drawString(_LEFT + x, self.y, _fit(self.c, text, size, bold, width))
        if advance:
            self.y -= size + 4

    def gap(self, points: float = 8) -> None:
        self.y -= points

    def done(self) -> bytes:
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def _fit(c: canvas.Canvas, text: str, size: float, bold: bool, width: float) -> str:
    font = font_name(bold)
    while text and c.stringWidth(text, font, size) > width:
        text = text[:-2] + "…"
    return text


def _when(value: Any, facility: Any) -> str:
    if value is None:
        return "(date not known)"
    return clock.short_datetime(value, facility)


def _flag(o: ResultObservation) -> str:
    words = [FLAG_WORDS.get(f, f) for f in o.abnormal_flags or []]
    return ", ".join(w for w in words if w)


def results_pdf(results: Sequence[ResultOut], facility: Any) -> bytes:
    """The results pages: each report's test, dates, status and order number, a
    table of its values (units, reference range, abnormal flag in words), its
    impression and notes."""
    pages = _Pages()
    pages.line(TITLE, size=14, bold=True)
    pages.gap()
    for out in results:
        r = out.report
        pages.line(r.display or r.text or r.code, size=11, bold=True)
        who = r.performer and str(r.performer) or r.performer_name
        when = [
            r.get_category_display(),
            f"collected {_when(r.effective_at, facility)}",
            f"reported {_when(r.issued_at, facility)}" if r.issued_at else "",
        ]
        facts = [f"status: {r.get_status_display().lower()}",
                 f"order {r.filler_number}" if r.filler_number else "",
                 f"performed by {who}" if who else ""]  # fmt: skip
        pages.line(" · ".join(f for f in when if f))
        pages.line(" · ".join(f for f in facts if f))
        if out.values:
            for x, head, width in _COLUMNS:
                pages.line(head, bold=True, x=x, width=width, advance=not width)
            for o in out.values:
                _value_row(pages, o)
        labs = dict.fromkeys(o.performer_name for o in out.values if o.performer_name)
        if labs:
            pages.line(f"Performed at: {'; '.join(labs)}")
        if r.conclusion:
            for text in r.conclusion.splitlines():
                pages.line(f"Impression: {text}" if text else "")
        for text in r.notes.splitlines():
            pages.line(f"Note: {text}")
        pages.gap(12)
    return pages.done()


def _value_row(pages: _Pages, o: ResultObservation) -> None:
    lines = o.value_display().splitlines() or [""]
    cells = (o.display or o.code, lines[0], o.units, o.reference_range, _flag(o))
    bold = o.abnormal
    for (x, _, width), text in zip(_COLUMNS, cells, strict=True):
        pages.line(text, x=x, width=width, bold=bold and x > 0, advance=not width)
    for more in lines[1:]:  # a text result of several lines
        pages.line(more, x=_COLUMNS[1][0])
    if o.notes:
        pages.line(f"Note: {o.notes}", x=_COLUMNS[1][0])
