"""Read, propose, decide, file: each document's values and proposal from the reader
(capture.reading), then filed when the decision says it may file itself, else queued
for an indexer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError
from recordroom.mpi.models import Patient
from recordroom.records.models import DocumentType, Encounter

from .. import reading
from ..filing import file_capture_document
from ..models import CaptureBatch, CaptureDocument, CaptureDocumentStatus
from ..types import Proposal
from .pages import page_read

AUTO = "auto_file"  # evidence["decision"]: the document may file itself
QUEUE = "queue"


@dataclass(frozen=True)
class Proposed:
    documents: int
    auto: int


@dataclass(frozen=True)
class Filed:
    filed: int
    queued: int


def _apply(doc: CaptureDocument, proposal: Proposal) -> None:
    guess = proposal.patient
    doc.patient_id = guess.patient_id
    doc.patient_confidence = guess.confidence
    doc.encounter_id = proposal.encounter_id
    doc.doc_type = (DocumentType.objects.filter(code=proposal.doc_type.code).first()
                    if proposal.doc_type.code else None)  # fmt: skip
    doc.type_confidence = proposal.doc_type.confidence
    doc.service_date = proposal.service_date
    doc.values = [v.as_json() for v in proposal.values]
    # the reader's own record of what it proposed (the type proposed is what
    # retraining compares an indexer's filing with)
    split = (doc.evidence or {}).get("split")
    doc.evidence = reading.evidence_json(proposal)
    if split:
        doc.evidence["split"] = split  # why the document starts where it does


def _from_cover(doc: CaptureDocument) -> None:
    """A Recordroom cover sheet names its patient, visit and type: what it names
    stands when the reader proposed nothing of its own."""
    if not doc.cover:
        return
    if doc.patient_id is None:
        patient = Patient.objects.filter(pk=doc.cover.get("patient")).first()
        if patient is not None:
            doc.patient = patient
            doc.patient_confidence = 1.0
            doc.evidence.setdefault("patient", []).append("cover sheet")
    if doc.encounter_id is None and doc.cover.get("encounter") and doc.patient_id:
        doc.encounter = Encounter.objects.filter(
            pk=doc.cover["encounter"], patient_id=doc.patient_id
        ).first()
    if doc.doc_type_id is None and doc.cover.get("type"):
        doc.doc_type = DocumentType.objects.filter(code=doc.cover["type"]).first()
        if doc.doc_type is not None:
            doc.type_confidence = 1.0
            doc.evidence.setdefault("type", []).append("cover sheet")


def propose_documents(batch: CaptureBatch) -> Proposed:
    """Read and propose each document not proposed yet, and record the decision."""
    facility: Any = batch.facility or batch.source.facility
    rows = {p.number: p for p in batch.pages.all()}
    docs = list(batch.documents.filter(status=CaptureDocumentStatus.PENDING))
    auto = 0
    for doc in docs:
        if doc.evidence.get("decision"):
            auto += doc.evidence["decision"] == AUTO
            continue
        pages = [page_read(rows[int(p["page"])]) for p in doc.pages]
        page_flags = {flag for page in pages for flag in page.flags}
        # the cover sheet that started the document is read with it (its barcode
        # names the patient, visit and type), but is not one of its pages
        sheet = rows.get(int(doc.cover.get("page") or 0))
        values = reading.read_values(([page_read(sheet)] if sheet else []) + pages)
        proposal = reading.propose(values, pages, facility=facility)
        decision = reading.decide(proposal, source=batch.source)
        _apply(doc, proposal)
        _from_cover(doc)
        # the queue filters on the document's flags: its pages' quality flags (the
        # reader's findings are sentences, kept with the queue reasons)
        doc.flags = sorted(set(doc.flags) | page_flags)
        doc.queue_reasons = list(decision.reasons)
        doc.evidence["decision"] = AUTO if decision.auto_file else QUEUE
        auto += decision.auto_file
        doc.save()
    return Proposed(len(docs), auto)


def file_documents(batch: CaptureBatch, *, actor: Actor) -> Filed:
    """File the documents decided to file themselves; queue the others."""
    filed = queued = 0
    for doc in batch.documents.filter(status=CaptureDocumentStatus.PENDING):
        auto = doc.evidence.get("decision") == AUTO
        patient, doc_type = doc.patient, doc.doc_type
        if auto and patient is not None and doc_type is not None:
            try:
                file_capture_document(actor=actor, capdoc=doc, patient=patient,
                                      doc_type=doc_type, encounter=doc.encounter,
                                      service_date=doc.service_date, auto=True)  # fmt: skip
                filed += 1
                continue
            except RecordroomError as exc:
                doc.queue_reasons = [
                    *doc.queue_reasons,
                    f"could not file: {exc.message}",
                ]
        elif auto:
            doc.queue_reasons = [*doc.queue_reasons, "no patient or type to file it to"]
        doc.status = CaptureDocumentStatus.QUEUED
        doc.save(update_fields=["status", "queue_reasons"])
        queued += 1
    return Filed(filed, queued)
