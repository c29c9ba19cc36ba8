"""The indexing queue over the JSON API: the queue, one captured document, its edits,
assignment and filing; misfile moves and their review; cover sheets; the capture
dashboard. The same services as the pages, so the same checks and audit."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.mpi.services import get_patient
from recordroom.records.models import DocumentType, Encounter
from recordroom.records.services import get_document

from . import coversheet, dashboard, moves, queue
from .models import CaptureDocument
from .quality import summary

router = Router(tags=["capture"])
INDEX = {"x-capability": "index_documents"}


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class QueueQuery(Schema):
    source: str = Field("", description="a capture source's name")
    facility: str = Field("", description="a facility code")
    flag: str = Field("", description="unreadable, skewed, low-dpi, or doubtful")
    status: str = Field("queued", description="queued, removed, filed, pending")
    after: UUID | None = Field(None, description="the last id of the previous page")
    limit: int = Field(50, ge=1, le=200)


def _doc_out(capdoc: CaptureDocument, *, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(capdoc.pk),
        "batch": str(capdoc.batch_id),
        "filename": capdoc.batch.filename,
        "source": capdoc.batch.source.name,
        "received_at": capdoc.batch.received_at,
        "status": capdoc.status,
        "pages": capdoc.pages,
        "patient": str(capdoc.patient_id) if capdoc.patient_id else None,
        "patient_confidence": capdoc.patient_confidence,
        "encounter": str(capdoc.encounter_id) if capdoc.encounter_id else None,
        "type": capdoc.doc_type.code if capdoc.doc_type else None,
        "type_confidence": capdoc.type_confidence,
        "service_date": capdoc.service_date,
        "expected_pages": capdoc.expected_pages,
        "flags": capdoc.flags,
        "queue_reasons": capdoc.queue_reasons,
        "filed_document": str(capdoc.filed_id) if capdoc.filed_id else None,
    }
    if full:
        out["values"] = capdoc.values
        out["evidence"] = capdoc.evidence
        out["checks"] = summary(capdoc, queue.batch_pages(capdoc))
    return out


@router.get("/capture/queue", openapi_extra=INDEX)
def queue_list(request: HttpRequest, q: Query[QueueQuery]) -> dict[str, Any]:
    """Captured documents waiting for an indexer, oldest first (keyset: pass `next`
    as `after`)."""
    page = queue.list_queue(actor=_actor(request), source=q.source, facility=q.facility,
                            flag=q.flag, status=q.status, after=q.after, limit=q.limit)  # fmt: skip
    return {"items": [_doc_out(d) for d in page.items],
            "next": str(page.next) if page.next else None}  # fmt: skip


def _capdoc(request: HttpRequest, capdoc_id: UUID) -> CaptureDocument:
    return queue.get_capture_document(user=_actor(request).user, capdoc_id=capdoc_id)


@router.get("/capture/documents/{capdoc_id}", openapi_extra=INDEX)
def document_detail(request: HttpRequest, capdoc_id: UUID) -> dict[str, Any]:
    """One captured document: pages, values read with their boxes, the proposal with
    its evidence, and the checks filing will ask to confirm."""
    capdoc = _capdoc(request, capdoc_id)
    queue.record_view(actor=_actor(request), capdoc=capdoc, part="document (api)")
    return _doc_out(capdoc, full=True)


class EditIn(Schema):
    op: str = Field(description="split, merge, reorder, rotate, move, remove, restore")
    position: int | None = Field(None, description="a page position, from 1")
    turns: int = Field(1, description="quarter turns clockwise (rotate)")
    by: int = Field(1, description="positions later (move; negative: earlier)")
    order: list[int] | None = Field(None, description="reorder: current positions")
    other: UUID | None = Field(None, description="merge: the document to append")


@router.post("/capture/documents/{capdoc_id}/edits", openapi_extra=INDEX)
def edit(request: HttpRequest, capdoc_id: UUID, data: EditIn) -> dict[str, Any]:
    """One edit; answers with the document(s) it leaves."""
    actor, capdoc = _actor(request), _capdoc(request, capdoc_id)
    pos = data.position or 0
    made: list[CaptureDocument] = []
    if data.op == "split":
        made = [queue.split_document(actor=actor, capdoc=capdoc, at=pos)]
    elif data.op == "merge":
        if data.other is None:
            raise ValidationFailed("merge needs the other document's id", field="other")
        queue.merge_documents(actor=actor, first=capdoc,
                              second=_capdoc(request, data.other))  # fmt: skip
    elif data.op == "reorder":
        queue.reorder_pages(actor=actor, capdoc=capdoc, order=data.order or [])
    elif data.op == "rotate":
        queue.rotate_page(actor=actor, capdoc=capdoc, position=pos, turns=data.turns)
    elif data.op == "move":
        queue.move_page(actor=actor, capdoc=capdoc, position=pos, by=data.by)
    elif data.op == "remove":
        made = [queue.remove_page(actor=actor, capdoc=capdoc, position=pos)]
    elif data.op == "restore":
        capdoc = queue.restore(actor=actor, removed=capdoc)
    else:
        raise ValidationFailed(f"unknown edit {data.op[:40]!r}", field="op")
    rows = [capdoc, *made]
    fresh = CaptureDocument.objects.select_related("batch__source", "doc_type")
    return {"documents": [_doc_out(d) for d in fresh.filter(pk__in=[r.pk for r in rows])
                          .order_by("created_at", "id")]}  # fmt: skip


class AssignIn(Schema):
    patient: UUID | None = None
    encounter: UUID | None = None
    type: str | None = Field(None, description="a document type code")
    service_date: date | None = None


@router.post("/capture/documents/{capdoc_id}/assignment", openapi_extra=INDEX)
def assign(request: HttpRequest, capdoc_id: UUID, data: AssignIn) -> dict[str, Any]:
    """Set the patient (the indexer's choice confirms it), visit, type, date; only
    the fields sent change."""
    actor, capdoc = _actor(request), _capdoc(request, capdoc_id)
    sent = data.model_fields_set
    changes: dict[str, Any] = {}
    if "patient" in sent:
        changes["patient"] = (get_patient(user=actor.user, patient_id=data.patient)
                              if data.patient else None)  # fmt: skip
    if "encounter" in sent:
        changes["encounter"] = (Encounter.objects.filter(pk=data.encounter).first()
                                if data.encounter else None)  # fmt: skip
        if data.encounter and changes["encounter"] is None:
            raise NotFound(f"no visit with id '{data.encounter}'")
    if "type" in sent:
        changes["doc_type"] = None
        if data.type:
            changes["doc_type"] = DocumentType.objects.filter(code=data.type).first()
            if changes["doc_type"] is None:
                raise ValidationFailed(f"no document type {data.type!r}", field="type")
    if "service_date" in sent:
        changes["service_date"] = data.service_date
    row = queue.assign(actor=actor, capdoc=capdoc, **changes)
    return _doc_out(
        CaptureDocument.objects.select_related("batch__source").get(pk=row.pk)
    )


class FileIn(Schema):
    confirm_patient: bool = False
    confirm_quality: bool = False


@router.post("/capture/documents/{capdoc_id}/filing", openapi_extra=INDEX)
def file(request: HttpRequest, capdoc_id: UUID, data: FileIn) -> dict[str, Any]:
    """File it as it stands; a doubtful patient or flagged pages answer 422 naming
    what to confirm."""
    doc = queue.file(actor=_actor(request), capdoc=_capdoc(request, capdoc_id),
                     confirm_patient=data.confirm_patient,
                     confirm_quality=data.confirm_quality)  # fmt: skip
    return {"document": str(doc.pk), "patient": str(doc.patient_id),
            "type": doc.doc_type.code}  # fmt: skip


class MoveIn(Schema):
    to_patient: UUID
    to_encounter: UUID | None = None
    reason: str = Field(max_length=500)


@router.post("/documents/{document_id}/move",
             openapi_extra={"x-capability": "move_documents"})  # fmt: skip
def move(request: HttpRequest, document_id: UUID, data: MoveIn) -> dict[str, Any]:
    """Move a misfiled document to the right patient (with the reason); the move
    waits for privacy review."""
    actor = _actor(request)
    doc = get_document(user=actor.user, document_id=document_id)
    target = get_patient(user=actor.user, patient_id=data.to_patient)
    visit = None
    if data.to_encounter:
        visit = Encounter.objects.filter(pk=data.to_encounter).first()
        if visit is None:
            raise NotFound(f"no visit with id '{data.to_encounter}'")
    row = moves.move_document(actor=actor, document=doc, to_patient=target,
                              reason=data.reason, to_encounter=visit)  # fmt: skip
    return {"move": str(row.pk), "document": str(doc.pk),
            "from_patient": str(row.from_patient_id), "to_patient": str(target.pk)}  # fmt: skip


REVIEW = {"x-capability": "review_misfiles"}


def _move_out(m: Any) -> dict[str, Any]:
    return {
        "id": str(m.pk), "document": str(m.document_id),
        "type": m.document.doc_type.code, "from_patient": str(m.from_patient_id),
        "to_patient": str(m.to_patient_id), "reason": m.reason,
        "moved_by": m.moved_by, "moved_at": m.moved_at,
        "reviewed_by": m.privacy_reviewed_by or None,
        "reviewed_at": m.privacy_reviewed_at, "note": m.privacy_note,
        "viewers": [{"username": v.username, "role": v.role, "action": v.action,
                     "at": v.at, "channel": v.channel}
                    for v in moves.prior_viewers(m)],
    }  # fmt: skip


@router.get("/capture/misfiles", openapi_extra=REVIEW)
def misfiles(request: HttpRequest, reviewed: bool = False) -> list[dict[str, Any]]:
    """Misfile moves waiting for privacy review (or reviewed), with who opened each
    document while it was in the wrong chart."""
    rows = moves.misfile_reviews(actor=_actor(request), pending=not reviewed)[:200]
    return [_move_out(m) for m in rows]


class ReviewIn(Schema):
    note: str = Field(max_length=500)


@router.post("/capture/misfiles/{move_id}/review", openapi_extra=REVIEW)
def review(request: HttpRequest, move_id: UUID, data: ReviewIn) -> dict[str, Any]:
    actor = _actor(request)
    row = moves.review_move(actor=actor, move=moves.get_move(actor=actor, move_id=move_id),
                            note=data.note)  # fmt: skip
    return _move_out(row)


class CoverQuery(Schema):
    encounter: UUID | None = None
    type: str = Field("", description="a document type code")
    pages: int | None = Field(
        None, ge=1, le=10_000, description="pages after the cover"
    )


@router.get("/patients/{patient_id}/cover-sheet",
            openapi_extra={"x-capability": "print_cover_sheets"})  # fmt: skip
def cover_sheet(request: HttpRequest, patient_id: UUID,
                q: Query[CoverQuery]) -> HttpResponse:  # fmt: skip
    """The patient's cover sheet as PDF (QR code: patient, visit, type, pages)."""
    actor = _actor(request)
    patient = get_patient(user=actor.user, patient_id=patient_id)
    visit = None
    if q.encounter:
        visit = Encounter.objects.filter(pk=q.encounter, patient=patient).first()
        if visit is None:
            raise ValidationFailed(
                "that visit is not this patient's", field="encounter"
            )
    kind = None
    if q.type:
        kind = DocumentType.objects.filter(code=q.type, active=True).first()
        if kind is None:
            raise ValidationFailed(f"no document type {q.type!r}", field="type")
    data = coversheet.cover_sheet_pdf(actor=actor, patient=patient, encounter=visit,
                                      doc_type=kind, pages=q.pages)  # fmt: skip
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="cover-sheet.pdf"'
    return response


@router.get("/capture/dashboard",
            openapi_extra={"x-capability": "supervise_capture"})  # fmt: skip
def dashboard_figures(request: HttpRequest, start: datetime | None = None,
                      end: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """Throughput for [start, end) (default: the last 7 days); durations in seconds."""
    end = end or timezone.now()
    start = start or end - timedelta(days=7)
    board = dashboard.capture_dashboard(actor=_actor(request), start=start, end=end)

    def secs(value: timedelta | None) -> float | None:
        return value.total_seconds() if value is not None else None

    return {
        "start": board.start, "end": board.end,
        "received_batches": board.received_batches,
        "received_pages": board.received_pages,
        "auto_filed": board.auto_filed, "auto_filed_pages": board.auto_filed_pages,
        "indexed": board.indexed, "indexed_pages": board.indexed_pages,
        "waiting": board.waiting, "waiting_pages": board.waiting_pages,
        "oldest_waiting_seconds": secs(board.oldest_waiting),
        "latency_median_seconds": secs(board.latency_median),
        "latency_p90_seconds": secs(board.latency_p90),
        "sources": [vars(r) for r in board.sources],
        "indexers": [{"name": r.name, "documents": r.indexed, "pages": r.indexed_pages}
                     for r in board.indexers],
    }  # fmt: skip
