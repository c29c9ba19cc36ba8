"""The indexing queue's services on real rows: a real PDF in the blob store, split,
merge, reorder, rotate, remove and restore pages, sections, assign and file with the
quality checks, the facility scope, every step audited."""

from __future__ import annotations

import io
from datetime import date

import pikepdf
import pytest

from recordroom.audit.models import AuditEvent
from recordroom.capture import queue
from recordroom.capture.models import (
    BatchStatus,
    CaptureDocument,
    CaptureDocumentStatus,
)
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.records.models import DocumentType
from tests import factories

from .queue_data import batch, document, mrn_value, source

pytestmark = pytest.mark.django_db


@pytest.fixture
def discharge(db):
    return DocumentType.objects.get(code="18842-5")


@pytest.fixture
def indexer(him):
    return factories.actor(him)


@pytest.fixture
def scanned(facility):
    return batch([f"Page {n}\nMRN N100001" for n in range(1, 7)],
                 src=source(facility=facility), facility=facility)  # fmt: skip


def _pages(doc):
    return [p["page"] for p in CaptureDocument.objects.get(pk=doc.pk).pages]


def test_the_queue_lists_oldest_first_pages_by_keyset_and_filters(
    indexer, scanned, facility, other_facility
):
    docs = [document(scanned, [n]) for n in range(1, 6)]
    far = batch(["South page"], src=source("Fax south", other_facility),
                facility=other_facility)  # fmt: skip
    document(far, [1])  # another facility's: not this indexer's
    docs[2].flags = ["low-dpi"]
    docs[2].save()
    first = queue.list_queue(actor=indexer, limit=2)
    assert [d.pk for d in first.items] == [docs[0].pk, docs[1].pk]
    second = queue.list_queue(actor=indexer, limit=2, after=first.next)
    assert [d.pk for d in second.items] == [docs[2].pk, docs[3].pk]
    last = queue.list_queue(actor=indexer, limit=2, after=second.next)
    assert [d.pk for d in last.items] == [docs[4].pk] and last.next is None
    flagged = queue.list_queue(actor=indexer, flag="low-dpi")
    assert [d.pk for d in flagged.items] == [docs[2].pk]
    assert queue.list_queue(actor=indexer, source="Fax south").items == []
    assert len(queue.list_queue(actor=indexer, facility="NORTH").items) == 5
    event = AuditEvent.objects.filter(action="capture.view").last()
    assert event.detail == (
        '{"documents":5,"facility":"NORTH","list":"indexing queue","status":"queued"}'
    )


def test_split_merge_reorder_rotate_remove_and_restore(indexer, scanned):
    doc = document(scanned, [1, 2, 3, 4, 5, 6],
                   values=[mrn_value(1, "N100001"), mrn_value(5, "N100002")])  # fmt: skip
    tail = queue.split_document(actor=indexer, capdoc=doc, at=5)
    assert _pages(doc) == [1, 2, 3, 4] and _pages(tail) == [5, 6]
    assert [v["page"] for v in tail.values] == [5]
    assert tail.patient_id is None and tail.status == CaptureDocumentStatus.QUEUED
    queue.reorder_pages(actor=indexer, capdoc=doc, order=[2, 1, 3, 4])
    assert _pages(doc) == [2, 1, 3, 4]
    queue.rotate_page(actor=indexer, capdoc=doc, position=2, turns=1)
    queue.rotate_page(actor=indexer, capdoc=doc, position=2, turns=-2)
    row = CaptureDocument.objects.get(pk=doc.pk)
    assert row.pages[1] == {"page": 1, "rotate": 270}
    removed = queue.remove_page(actor=indexer, capdoc=doc, position=3)
    assert _pages(doc) == [2, 1, 4]
    assert removed.status == CaptureDocumentStatus.REMOVED and _pages(removed) == [3]
    back = queue.restore(actor=indexer, removed=removed)
    assert back.pk == doc.pk and _pages(doc) == [2, 1, 3, 4]
    assert not CaptureDocument.objects.filter(pk=removed.pk).exists()
    merged = queue.merge_documents(actor=indexer, first=doc, second=tail)
    assert _pages(merged) == [2, 1, 3, 4, 5, 6]
    assert not CaptureDocument.objects.filter(pk=tail.pk).exists()
    ops = list(AuditEvent.objects.filter(action="capture.edit").order_by("id")
               .values_list("detail", flat=True))  # fmt: skip
    assert [op.split('"op":"')[1].split('"')[0] for op in ops] == [
        "split", "reorder", "rotate", "rotate", "remove", "restore", "merge"]  # fmt: skip


def test_sections_make_one_document_per_section(indexer, scanned):
    document(scanned, [1, 2, 3])
    document(scanned, [4, 5, 6])
    made = queue.split_sections(actor=indexer, batch=scanned, starts=[3, 5])
    assert [[p["page"] for p in d.pages] for d in made] == [[1, 2], [3, 4], [5, 6]]
    assert CaptureDocument.objects.filter(batch=scanned).count() == 3
    with pytest.raises(ValidationFailed, match="not \\[9\\]"):
        queue.split_sections(actor=indexer, batch=scanned, starts=[9])


def test_a_clean_proposal_files_in_one_step_with_its_pages_turned(
    indexer, scanned, patient, discharge
):
    doc = document(scanned, [2, 3], patient=patient, confidence=0.99,
                   doc_type=discharge, type_confidence=0.8)  # fmt: skip
    queue.rotate_page(actor=indexer, capdoc=doc, position=2, turns=1)
    for n in (1, 4, 5, 6):
        document(scanned, [n]) if n != 1 else None
    filed = queue.file(actor=indexer, capdoc=doc)
    assert filed.patient_id == patient.pk and filed.source == "scan"
    row = CaptureDocument.objects.get(pk=doc.pk)
    assert row.status == "filed" and row.filed_id == filed.pk
    assert row.decided_by == "him1" and not row.auto_filed
    data = default_store().get(filed.versions.get().sha256)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 2
        assert int(pdf.pages[1].obj.get("/Rotate", 0)) == 90
    event = AuditEvent.objects.filter(action="capture.file").get()
    assert event.patient_id == str(patient.pk) and '"pages":[2,3]' in event.detail


def test_r_sec_doubtful_patient_and_flagged_pages_need_confirmation(
    indexer, facility, patient, discharge
):
    b = batch(["Cover", "Page one", "Page two"], src=source(facility=facility),
              facility=facility, flags={2: ["skewed"]}, dpi=150)  # fmt: skip
    doc = document(b, [2, 3], patient=patient, confidence=0.71, doc_type=discharge,
                   expected_pages=3)  # fmt: skip
    with pytest.raises(ValidationFailed, match="confidence 0.71") as exc:
        queue.file(actor=indexer, capdoc=doc)
    assert exc.value.field == "confirm_patient"
    with pytest.raises(ValidationFailed) as exc:
        queue.file(actor=indexer, capdoc=doc, confirm_patient=True)
    assert exc.value.field == "confirm_quality"
    assert "the cover sheet says 3 pages; this document has 2" in exc.value.message
    assert "page 1 (page 2 of the batch) is skewed" in exc.value.message
    assert "page 2 (page 3 of the batch) was scanned below 200 dpi" in exc.value.message
    assert not AuditEvent.objects.filter(action="capture.file").exists()
    filed = queue.file(actor=indexer, capdoc=doc, confirm_patient=True,
                       confirm_quality=True)  # fmt: skip
    assert filed.patient_id == patient.pk
    confirm = AuditEvent.objects.filter(action="capture.edit").last()
    assert '"patient_confirmed":true' in confirm.detail
    assert b.__class__.objects.get(pk=b.pk).status == BatchStatus.DONE


def test_assigning_the_patient_is_the_confirmation(indexer, scanned, patient,
                                                   discharge):  # fmt: skip
    doc = document(scanned, [1], doc_type=discharge)
    with pytest.raises(ValidationFailed, match="choose the patient"):
        queue.file(actor=indexer, capdoc=doc)
    queue.assign(actor=indexer, capdoc=doc, patient=patient,
                 service_date=date(2026, 11, 30))  # fmt: skip
    filed = queue.file(actor=indexer, capdoc=doc)
    assert filed.patient_id == patient.pk
    assert filed.service_start.date() == date(2026, 11, 30)


def test_r_sec_1_another_facility_s_paper_is_refused(other_facility, scanned):
    south = factories.user("south1", "him_specialist", facilities=[other_facility])
    doc = document(scanned, [1])
    with pytest.raises(PermissionDenied):
        queue.get_capture_document(user=south, capdoc_id=doc.pk)
    assert queue.list_queue(actor=factories.actor(south)).items == []
    coder = factories.user("coder1", "coder", facilities=[other_facility])
    with pytest.raises(PermissionDenied, match="work the indexing queue"):
        queue.list_queue(actor=factories.actor(coder))
