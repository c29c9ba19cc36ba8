"""Filing a captured document into a chart: the pages it was cut to, as one PDF, a new
document with source "scan" whose provenance (batch, pages) stays on the capture row."""

from __future__ import annotations

import io
from datetime import date, datetime, time

import pikepdf
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.mpi.models import Patient
from recordroom.records.models import (
    Document,
    DocumentSource,
    DocumentType,
    Encounter,
)
from recordroom.records.services import file_document

from .models import CaptureBatch, CaptureDocument, CaptureDocumentStatus

ROTATIONS = (0, 90, 180, 270)


def batch_pdf(batch: CaptureBatch) -> bytes:
    """The batch as a PDF: its searchable copy once made, else the original PDF."""
    sha = batch.searchable_sha256 or (
        batch.sha256 if batch.media_type == "application/pdf" else ""
    )
    if not sha:
        raise ValidationFailed(
            f"batch {batch.filename} has no readable PDF yet", field="batch"
        )
    return default_store().get(sha)


def cut_pages(source_pdf: bytes, pages: list[dict[str, int]]) -> bytes:
    """A new PDF of `pages` ([{"page": n, "rotate": deg}], 1-based) in that order."""
    if not pages:
        raise ValidationFailed("a document needs at least one page", field="pages")
    with pikepdf.open(io.BytesIO(source_pdf)) as src, pikepdf.new() as out:
        count = len(src.pages)
        for item in pages:
            number, turn = int(item["page"]), int(item.get("rotate", 0))
            if not 1 <= number <= count:
                raise ValidationFailed(
                    f"page {number} is not in the batch (it has {count})",
                    field="pages",
                )
            if turn % 360 not in ROTATIONS:
                raise ValidationFailed(
                    f"pages turn by quarter turns, not {turn} degrees", field="pages"
                )
            out.pages.append(src.pages[number - 1])
            if turn % 360:
                out.pages[-1].rotate(turn % 360, relative=True)
        buf = io.BytesIO()
        out.save(buf)
    return buf.getvalue()


def file_capture_document(
    *,
    actor: Actor,
    capdoc: CaptureDocument,
    patient: Patient,
    doc_type: DocumentType,
    encounter: Encounter | None = None,
    service_date: date | None = None,
    auto: bool = False,
) -> Document:
    """File `capdoc` into `patient`'s chart. An indexer's choice or the pipeline's
    automatic decision (`auto`) both come here; the capture row keeps what was chosen
    and links the document, in the same transaction as the document itself."""
    with transaction.atomic():
        capdoc = CaptureDocument.objects.select_for_update().get(pk=capdoc.pk)
        if capdoc.status == CaptureDocumentStatus.FILED:
            raise Conflict("this document has already been filed")
        if capdoc.status == CaptureDocumentStatus.REMOVED:
            raise Conflict("this document was removed from the batch; restore it first")
        batch = capdoc.batch
        data = cut_pages(batch_pdf(batch), list(capdoc.pages))
        facility = (
            encounter.facility if encounter is not None else batch.facility
        ) or batch.source.facility
        if facility is None:
            raise ValidationFailed(
                "choose the visit or the facility this document belongs to",
                field="facility",
            )
        when = (
            timezone.make_aware(datetime.combine(service_date, time(12)))
            if service_date
            else None
        )
        doc = file_document(
            actor=actor,
            patient=patient,
            doc_type=doc_type,
            data=data,
            filename=f"{batch.filename.rsplit('.', 1)[0]}-{str(capdoc.pk)[-8:]}.pdf",
            media_type="application/pdf",
            facility=facility,
            encounter=encounter,
            service_start=when,
            source=DocumentSource.SCAN,
        )
        capdoc.patient = patient
        capdoc.encounter = encounter
        capdoc.doc_type = doc_type
        capdoc.service_date = service_date
        capdoc.status = CaptureDocumentStatus.FILED
        capdoc.auto_filed = auto
        capdoc.filed = doc
        capdoc.decided_by = actor.username
        capdoc.decided_at = timezone.now()
        capdoc.save()
        record(
            actor=actor,
            action=actions.CAPTURE_FILE.name,
            patient=patient,
            obj=doc,
            detail={
                "batch": str(batch.pk),
                "capture_document": str(capdoc.pk),
                "pages": [int(p["page"]) for p in capdoc.pages],
                "auto": auto,
                "type": doc_type.code,
                "encounter": str(encounter.pk) if encounter else None,
            },
        )
        if not auto:
            # an indexer's filing may correct the type proposed: enough corrections
            # and the worker retrains the type model (tasks.retrain_if_corrected)
            from .tasks import retrain_if_corrected

            transaction.on_commit(retrain_if_corrected)
    return doc
