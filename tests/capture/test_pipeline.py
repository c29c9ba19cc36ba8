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


def test_a_document_behind_our_cover_sheet_files_itself_and_a_loose_page_waits(
    actor, source, patient
):
    sheet = scans.cover_page(
        cover.Cover(patient_id=patient.pk, doc_type="18842-5", pages=2)
    )
    sep = scans.code128(cover.SEPARATOR)
    # the page names the cover sheet's patient (a cover on another patient's papers
    # is flagged: the scanned fax below)
    his = ("DISCHARGE SUMMARY", "Patient: NUNEZ, JOSE", "MRN N100001",
           "Date of service 11/30/2026")  # fmt: skip
    data = scans.text_pdf(("COVER SHEET",), his, ("Page two of the summary",), None,
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
    # the cover sheet names patient and type: the document files itself, as scan
    assert first.status == "filed" and first.auto_filed and first.queue_reasons == []
    assert first.filed.patient_id == patient.pk and first.filed.source == "scan"
    assert first.filed.doc_type.code == "18842-5"
    # the loose page after the separator names nobody: it waits for an indexer
    assert second.pages == [{"page": 6, "rotate": 0}] and second.patient_id is None
    assert second.status == "queued" and "no patient found" in second.queue_reasons
    assert default_store().exists(batch.sha256)
    assert AuditEvent.objects.filter(
        action="capture.process", object_id=str(batch.pk)
    ).exists()


def test_a_scanned_fax_with_a_cover_sheet_is_ocred_cut_and_proposed(
    actor, source, patient
):
    sheet = scans.cover_page(cover.Cover(patient_id=patient.pk, pages=1))
    pages = scans.raster(scans.text_pdf(("COVER",), scans.LINES, barcodes={0: sheet}),
                         dpi=200)  # fmt: skip
    data = scans.tiff(pages, dpi=(200, 200))
    batch = receive_file(actor=actor, data=data, filename="fax.tif", source=source)
    batch = run_batch(batch.pk)
    assert batch.status == "indexing", batch.problem
    assert batch.searchable_sha256 and batch.searchable_sha256 != batch.sha256
    assert default_store().get(batch.sha256) == data  # the original, untouched
    normalise = batch.log[0]
    assert normalise["step"] == "normalise" and normalise["result"]["ocr_pages"] == 2
    text_page = CapturePage.objects.get(batch=batch, number=2)
    assert text_page.dpi == 200 and text_page.flags == []
    assert "004512" in [w[0] for w in text_page.words]
    assert "DISCHARGE SUMMARY" in text_page.text
    (doc,) = CaptureDocument.objects.filter(batch=batch)
    assert doc.pages == [{"page": 2, "rotate": 0}] and doc.expected_pages == 1
    assert doc.patient_id == patient.pk and doc.status == "queued" and doc.flags == []
    # the page names DOE, JANE born 1970: not the patient the cover sheet names
    assert doc.queue_reasons == [
        "the pages name someone other than the cover sheet's patient"]  # fmt: skip


def test_a_file_that_fails_in_a_step_is_refused_with_the_step_named_and_kept(
    actor, source
):
    whole = scans.png(scans.raster(scans.text_pdf(scans.LINES), dpi=100)[0], dpi=100)
    cut = whole[: len(whole) // 2]  # a truncated upload: the header reads, the rest not
    batch = receive_file(actor=actor, data=cut, filename="half.png", source=source)
    assert batch.status == "received"
    batch = run_batch(batch.pk)
    assert batch.status == "refused" and batch.step == "preflight"
    assert batch.problem.startswith("'half.png' cannot be read for OCR (OSError:")
    assert default_store().get(batch.sha256) == cut
    event = AuditEvent.objects.get(action="capture.process", object_id=str(batch.pk))
    assert event.outcome == "failure"
    assert run_batch(batch.pk).status == "refused"  # not taken again
