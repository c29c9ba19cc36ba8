"""The file step: a document decided to file itself is filed (source "scan", auto);
the others go to the indexing queue with the reason."""

from __future__ import annotations

from recordroom.capture.intake import receive_file, source_named
from recordroom.capture.models import CaptureDocument
from recordroom.capture.steps.decide import AUTO, QUEUE, file_documents
from recordroom.capture.steps.normalise import normalise
from recordroom.kernel.actor import Actor
from recordroom.records.models import DocumentType

from .. import scans

PIPELINE = Actor(channel="worker", name="capture-pipeline")


def _batch(actor, source, *pages):
    batch = receive_file(actor=actor, data=scans.text_pdf(*pages), filename="b.pdf",
                         source=source)  # fmt: skip
    normalise(batch)
    return batch


def _doc(batch, pages, *, decision, patient=None, doc_type=None):
    return CaptureDocument.objects.create(
        batch=batch, pages=[{"page": n, "rotate": 0} for n in pages], patient=patient,
        doc_type=doc_type, evidence={"decision": decision},
    )  # fmt: skip


def test_a_document_decided_auto_is_filed_and_the_others_are_queued(
    actor, source, patient
):
    batch = _batch(actor, source, scans.LINES, ("second",), ("third",))
    summary = DocumentType.objects.get(code="18842-5")
    auto = _doc(batch, [1, 2], decision=AUTO, patient=patient, doc_type=summary)
    doubtful = _doc(batch, [3], decision=QUEUE, patient=patient, doc_type=summary)
    nobody = _doc(batch, [3], decision=AUTO)
    result = file_documents(batch, actor=PIPELINE)
    assert (result.filed, result.queued) == (1, 2)
    auto.refresh_from_db()
    assert (
        auto.status == "filed"
        and auto.auto_filed
        and auto.decided_by == "capture-pipeline"
    )
    assert auto.filed.patient == patient and auto.filed.source == "scan"
    assert auto.filed.facility == source.facility
    doubtful.refresh_from_db()
    nobody.refresh_from_db()
    assert doubtful.status == "queued" and doubtful.filed is None
    assert nobody.status == "queued"
    assert nobody.queue_reasons == ["no patient or type to file it to"]


def test_a_document_that_cannot_be_filed_is_queued_with_the_reason(actor, patient, db):
    nowhere = source_named("No facility", kind="import")
    batch = _batch(actor, nowhere, scans.LINES)
    doc = _doc(batch, [1], decision=AUTO, patient=patient,
               doc_type=DocumentType.objects.get(code="18842-5"))  # fmt: skip
    assert file_documents(batch, actor=PIPELINE).queued == 1
    doc.refresh_from_db()
    assert doc.status == "queued"
    assert doc.queue_reasons == [
        "could not file: choose the visit or the facility this document belongs to"
    ]
