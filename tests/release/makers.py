"""Makers for the packet tests: real multi-page documents whose every page's lines
are known (so a test can find them, or not, in the packet with pypdf), and complete
authorizations."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from recordroom.records import services as records
from recordroom.records.models import DocumentType
from recordroom.release import authorizations
from tests.factories import SYSTEM, facility_today


def pdf_pages(pages: list[list[str]]) -> bytes:
    """A letter-size PDF, one list of lines per page (first line at y=720, 14 pt apart)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for lines in pages:
        c.setFont("Helvetica", 11)
        for n, line in enumerate(lines):
            c.drawString(72, 720 - 14 * n, line)
        c.showPage()
    c.save()
    return buf.getvalue()


def file_doc(*, patient, facility, pages=None, code="18842-5", days_ago=10,
             sensitivity=None, encounter=None, title="", data=None,
             filename="note.pdf", media_type=""):  # fmt: skip
    pages = pages or [[f"{title or code} page 1"]]
    return records.file_document(
        actor=SYSTEM, patient=patient, doc_type=DocumentType.objects.get(code=code),
        data=data if data is not None else pdf_pages(pages), filename=filename,
        media_type=media_type, facility=facility, encounter=encounter,
        service_start=datetime.now(UTC) - timedelta(days=days_ago),
        sensitivity=sensitivity, title=title,
    )  # fmt: skip


def page_texts(pdf: bytes) -> list[str]:
    """The extracted text of every page, in order."""
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


def authorization(actor, patient, req, kind="hipaa", **over):
    """A complete, valid form of `kind` for the request (every element present)."""
    fields = dict(
        recipient="Counsel & Co LLP", purpose="at the request of the individual",
        description="all records 2026", signed_on=facility_today(), signed_by="José Núñez",
        expires_on=facility_today() + timedelta(days=90),
    )  # fmt: skip
    fields.update(over)
    return authorizations.record_authorization(
        actor=actor, patient=patient, request=req, kind=kind,
        elements={e.code: True for e in authorizations.checklist(kind)}, **fields,
    )  # fmt: skip
