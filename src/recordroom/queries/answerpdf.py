"""The provider's answer as a page of the record (R-QRY-5): the query as it was asked
(patient, visit, date, author, question, indicators with source and date, the
options offered) and the answer, ready to be signed. A PDF (reportlab platypus)."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

_BASE = getSampleStyleSheet()["BodyText"]
BODY = ParagraphStyle("qry-body", parent=_BASE, fontSize=10.5, leading=14,
                      spaceAfter=5)  # fmt: skip
HEAD = ParagraphStyle("qry-head", parent=BODY, fontName="Helvetica-Bold",
                      fontSize=12, spaceBefore=8, spaceAfter=4)  # fmt: skip
TITLE = ParagraphStyle("qry-title", parent=HEAD, fontSize=14, spaceAfter=8)
ITEM = ParagraphStyle("qry-item", parent=BODY, leftIndent=18)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render(query: Any, patient_name: str, mrn: str, answer_line: str) -> bytes:
    """The response page of `query` answered with `answer_line`."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=letter, leftMargin=inch, rightMargin=inch,
                            topMargin=0.8 * inch, bottomMargin=0.8 * inch,
                            title=f"Response to query {query.number}",
                            invariant=1)  # the same answer, the same bytes  # fmt: skip
    enc = query.encounter
    now = timezone.localtime(query.answered_at or timezone.now())
    flow: list[Any] = [
        _p(f"Provider query response \u2014 {query.number}", TITLE),
        _p(f"Patient: {patient_name}    MRN: {mrn or 'none at this facility'}"),
        _p(f"Visit: {enc.account_number or enc.pk} at {query.facility.name}"),
        _p(f"Query sent {timezone.localtime(query.raised_at):%Y-%m-%d %H:%M} by "
           f"{query.raised_by_name or query.raised_by} to {query.provider}"),  # fmt: skip
        _p("Question", HEAD),
        _p(query.question),
        _p("Clinical indicators from the record", HEAD),
    ]
    for ind in query.indicators.all():
        when = timezone.localtime(ind.effective_at)
        value = f"{ind.value} {ind.units}".strip()
        extra = f" (reference {ind.reference_range})" if ind.reference_range else ""
        prior = " [earlier visit]" if ind.prior_encounter else ""
        flow.append(_p(f"\u2022 {ind.label}: {value}{extra} \u2014 {ind.source}, "
                       f"{when:%Y-%m-%d %H:%M}{prior}", ITEM))  # fmt: skip
    if query.options:
        flow += [_p("Options offered", HEAD),
                 *[_p(f"\u2022 {o}", ITEM) for o in query.options]]  # fmt: skip
    flow += [_p("Response", HEAD), _p(answer_line)]
    if query.comment:
        flow.append(_p(query.comment))
    flow += [Spacer(1, 12),
             _p(f"Answered by {query.provider} on {now:%Y-%m-%d %H:%M}; "
                "electronically signed in the record.")]  # fmt: skip
    doc.build(flow)
    return out.getvalue()
