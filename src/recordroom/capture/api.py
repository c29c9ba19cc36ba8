"""Capture over the JSON API: upload one or many files as batches, and follow a
batch through the pipeline. Thin adapters over capture.intake."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.records.api.common import read_upload
from recordroom.records.models import Facility

from .intake import batch_for, document_counts, receive_file, source_named
from .models import CaptureBatch, SourceKind

router = Router(tags=["capture"])
CAP = {"x-capability": "capture_documents"}


class BatchOut(Schema):
    id: UUID
    filename: str
    source: str
    facility: str | None
    media_type: str
    sha256: str
    size: int
    pages: int
    status: str = Field(
        description="received, processing, indexing, done, duplicate, refused"
    )
    step: str = Field(description="the last pipeline step finished")
    problem: str = Field(description="why it was refused, or what is wrong")
    duplicate_of: UUID | None
    documents: dict[str, int] = Field(description="its documents by status")
    received_at: datetime
    received_by: str
    finished_at: datetime | None


class UploadIn(Schema):
    source: str = Field("API", description="capture source name (made on first use)")
    facility: str = Field("", description="facility code the papers belong to")


def batch_out(batch: CaptureBatch) -> dict[str, Any]:
    return {
        "id": batch.pk, "filename": batch.filename, "source": batch.source.name,
        "facility": batch.facility.code if batch.facility else None,
        "media_type": batch.media_type, "sha256": batch.sha256, "size": batch.size,
        "pages": batch.page_count, "status": batch.status, "step": batch.step,
        "problem": batch.problem, "duplicate_of": batch.duplicate_of_id,
        "documents": document_counts(batch), "received_at": batch.received_at,
        "received_by": batch.received_by, "finished_at": batch.finished_at,
    }  # fmt: skip


def facility_code(code: str) -> Facility | None:
    if not code:
        return None
    facility = Facility.objects.filter(code=code.strip().upper()).first()
    if facility is None:
        raise ValidationFailed(f"unknown facility code {code!r}", field="facility")
    return facility


@router.post("/capture/batches", response={201: list[BatchOut]}, openapi_extra=CAP)
def upload_batches(
    request: HttpRequest, data: Form[UploadIn], files: File[list[UploadedFile]]
) -> tuple[int, list[dict[str, Any]]]:
    """Capture one or many files (PDF, TIFF, PNG, JPEG): each becomes a batch, kept
    byte for byte; a duplicate or a refused file says so in its status and problem."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if not files:
        raise ValidationFailed("send one or more files as 'files'", field="files")
    facility = facility_code(data.facility)
    kind = SourceKind.API
    source = source_named(data.source, kind=kind, facility=facility)
    made = [receive_file(actor=actor, data=read_upload(f), filename=f.name or "",
                         source=source, facility=facility) for f in files]  # fmt: skip
    return 201, [batch_out(b) for b in made]


@router.get("/capture/batches/{batch_id}", response=BatchOut, openapi_extra=CAP)
def read_batch(request: HttpRequest, batch_id: UUID) -> dict[str, Any]:
    """A batch: its status, the step it reached, its problem and documents."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return batch_out(batch_for(user=actor.user, batch_id=batch_id))
