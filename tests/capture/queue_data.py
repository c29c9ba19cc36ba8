"""Captured batches for the queue's tests, made directly (the pipeline is another
helper's): a real multi-page PDF in the blob store, its pages and documents cut from
it, with the values and proposal a reader would have left."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

from django.utils import timezone
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from recordroom.capture.models import (
    BatchStatus,
    CaptureBatch,
    CaptureDocument,
    CaptureDocumentStatus,
    CapturePage,
    CaptureSource,
)
from recordroom.kernel.blobs import default_store

DPI = 200
WIDTH, HEIGHT = int(8.5 * DPI), 11 * DPI


def batch_pdf(texts: list[str]) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for text in texts:
        pdf.setFont("Helvetica", 14)
        for i, line in enumerate(text.split("\n")):
            pdf.drawString(72, 720 - 20 * i, line)
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def source(name: str = "Scanner 1", facility=None) -> CaptureSource:
    return CaptureSource.objects.get_or_create(
        name=name, defaults={"kind": "scanner", "facility": facility}
    )[0]


def batch(texts: list[str], *, src: CaptureSource, facility=None, flags=None,
          dpi: int = DPI, received_ago: timedelta = timedelta(hours=2)) -> CaptureBatch:  # fmt: skip
    data = batch_pdf(texts)
    stored = default_store().put(data)
    b = CaptureBatch.objects.create(
        source=src, facility=facility, filename="scan-0001.pdf",
        media_type="application/pdf", sha256=stored.sha256, size=len(data),
        page_count=len(texts), status=BatchStatus.INDEXING,
        received_at=timezone.now() - received_ago, received_by="scanner",
        step="decide",
    )  # fmt: skip
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    for n, text in enumerate(texts, 1):
        CapturePage.objects.create(
            batch=b, number=n, width=WIDTH * dpi // DPI, height=HEIGHT * dpi // DPI,
            dpi=dpi, text=text, flags=(flags or {}).get(n, []),
        )  # fmt: skip
    return b


def document(b: CaptureBatch, pages: list[int], *, patient=None, confidence=0.0,
             doc_type=None, type_confidence=0.0, expected_pages=None, values=None,
             reasons=("patient confidence below the auto-file threshold",),
             encounter=None) -> CaptureDocument:  # fmt: skip
    return CaptureDocument.objects.create(
        batch=b, pages=[{"page": n, "rotate": 0} for n in pages],
        status=CaptureDocumentStatus.QUEUED, patient=patient,
        patient_confidence=confidence, doc_type=doc_type,
        type_confidence=type_confidence, expected_pages=expected_pages,
        values=values or [], queue_reasons=list(reasons), encounter=encounter,
        evidence={"patient": ["MRN on page 1"]} if patient else {},
    )  # fmt: skip


def mrn_value(page: int, mrn: str) -> dict:
    """An MRN read on line 2 of a page, where batch_pdf writes it (drawn at 700 pt
    from the bottom: 92 pt from the top, 256 px at 200 dpi)."""
    return {"kind": "mrn", "text": mrn, "normalised": mrn, "page": page,
            "bbox": [195, 222, 470, 262], "confidence": 0.97, "source": "text"}  # fmt: skip
