"""The pipeline end to end on real files: a text PDF with a cover sheet, a blank page
and a separator; a scanned page read by Tesseract; a refusal mid-pipeline."""

from __future__ import annotations

from recordroom.audit.models import AuditEvent
from recordroom.capture import cover
from recordroom.capture.intake import receive_file
from recordroom.capture.models import CaptureDocument, CapturePage
from recordroom.capture.pipeline import STEPS, run_batch
from recordroom.kernel.blobs import default_store

from . import scans


def test_a_batch_with_a_cover_sheet_ends_queued_with_the_covers_patient_proposed(
    actor, source, patient
):
    sheet = scans.cover_page(
        cover.Cover(patient_id=patient.pk, doc_type="18842-5", pages=2)
    )
    sep = scans.code128(cover.SEPARATOR)
    data = scans.text_pdf(("COVER SHEET",), scans.LINES, ("Page two of the summary",), None,
                          ("SEPARATOR",), ("Loose note from the unit",),
                          barcodes={0: sheet, 4: sep})  # fmt: skip
    batch = receive_file(
        actor=actor, data=data, filename="scan-0001.pdf", source=source
    )
    assert batch.status == "received" and batch.step == "preflight"
    batch = run_batch(batch.pk)
    assert batch.status == "indexing", batch.problem
    assert [e["step"] for e in batch.log] == [s.name for s in STEPS][1:]
    pages = list(CapturePage.objects.filter(batch=batch).order_by("number"))
    assert [p.blank for p in pages] == [False, False, False, True, False, False]
    assert pages[0].barcodes[0][0] == "qrcode"
    assert cover.decode(pages[0].barcodes[0][1]).patient_id == patient.pk
    assert ["SEPARATOR"] == [w[0] for w in pages[4].words]
    assert pages[1].words[0][:1] == ["DISCHARGE"] and pages[1].dpi == 300
    assert pages[1].words[0][6] == 0 and pages[1].words[2][6] == 1  # line index
    first, second = CaptureDocument.objects.filter(batch=batch).order_by("created_at")
    assert first.pages == [{"page": 2, "rotate": 0}, {"page": 3, "rotate": 0}]
    assert first.expected_pages == 2 and first.cover["patient"] == str(patient.pk)
    assert first.patient_id == patient.pk and first.patient_confidence == 1.0
    assert first.doc_type.code == "18842-5"
    assert first.status == "queued" and first.queue_reasons == [
        "no reader has been configured"
    ]
    assert second.pages == [{"page": 6, "rotate": 0}] and second.patient_id is None
    assert default_store().exists(batch.sha256)
    assert AuditEvent.objects.filter(
        action="capture.process", object_id=str(batch.pk)
    ).exists()
