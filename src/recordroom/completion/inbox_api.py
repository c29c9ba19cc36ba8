"""The provider's inbox over the JSON API: the counts for a landing page, the open
deficiencies by patient, signing one or many (each by the hash of the version the
provider opened, R-RC-1) and filing a missing document. Thin adapters over
completion.inbox; lists audited per patient listed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.records.api.common import claimed_media_type, read_upload

from . import inbox
from .api import DeficiencyOut, _out
from .models import Deficiency

router = Router(tags=["completion"])
PROVIDER = {"x-capability": "sign_document"}


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class CountsOut(Schema):
    total: int
    sections: dict[str, int]


@router.get("/inbox", response=CountsOut, openapi_extra=PROVIDER)
def counts(request: HttpRequest) -> dict[str, Any]:
    """The signed-in provider's open items per inbox section, and their total (the
    landing page's badge)."""
    provider = inbox.require_provider(_actor(request))
    found = inbox.counts(provider=provider)
    return {"total": sum(found.values()), "sections": found}


class InboxItemOut(Schema):
    id: UUID
    kind: str
    description: str
    document_id: UUID | None
    document_type: str
    account_number: str
    facility: str
    assigned_at: datetime
    due_at: datetime | None
    days_since_discharge: int | None
    days_since_assignment: int
    aging_level: int
    overdue: bool
    signable: bool


class PatientOut(Schema):
    patient_id: UUID
    name: str
    mrn: str
    oldest_days: int
    deficiencies: list[InboxItemOut]


@router.get("/inbox/deficiencies", response=list[PatientOut], openapi_extra=PROVIDER)
def by_patient(request: HttpRequest, limit: int = 1000) -> list[dict[str, Any]]:
    """The signed-in provider's open deficiencies by patient, the oldest first."""
    actor = _actor(request)
    rows = inbox.open_rows(provider=inbox.require_provider(actor), limit=limit)
    groups = inbox.by_patient(rows)
    record_many([EventSpec(actor, actions.COMPLETION_VIEW.name, g.patient_id,
                           detail={"inbox": len(g.rows)}) for g in groups])  # fmt: skip
    return [
        {"patient_id": g.patient_id, "name": g.name, "mrn": g.mrn,
         "oldest_days": g.oldest_days,
         "deficiencies": [
             {"id": r.id, "kind": r.kind, "description": r.description,
              "document_id": r.document_id, "document_type": r.document_type or "",
              "account_number": r.account, "facility": r.facility,
              "assigned_at": r.assigned_at, "due_at": r.due_at,
              "days_since_discharge": r.age.days_since_discharge,
              "days_since_assignment": r.age.days_since_assignment,
              "aging_level": r.age.level, "overdue": r.overdue, "signable": r.signable}
             for r in g.rows]}
        for g in groups
    ]  # fmt: skip


class SignIn(Schema):
    sha256: str = Field(description="SHA-256 of the version you opened (its content)")


class SignedOut(Schema):
    deficiency: DeficiencyOut
    signature_id: UUID
    meaning: str
    signed_at: datetime
    sha256: str
    closed: bool


def _fresh(d: Deficiency) -> dict[str, Any]:
    return _out(Deficiency.objects.select_related(
        "encounter", "facility", "provider", "rule").get(pk=d.pk))  # fmt: skip


@router.post("/deficiencies/{deficiency_id}/sign", response=SignedOut,
             openapi_extra=PROVIDER)  # fmt: skip
def sign(request: HttpRequest, deficiency_id: UUID, body: SignIn) -> dict[str, Any]:
    """Sign the deficiency's document: the version you opened, named by its hash; the
    deficiency closes through the analysis."""
    actor = _actor(request)
    d = inbox.own_deficiency(actor=actor, deficiency_id=deficiency_id)
    done = inbox.sign_deficiency(actor=actor, deficiency=d, sha256=body.sha256)
    sig = done.signature
    return {"deficiency": _fresh(done.deficiency), "signature_id": sig.pk,
            "meaning": sig.meaning, "signed_at": sig.signed_at, "sha256": sig.sha256,
            "closed": done.closed}  # fmt: skip


class BatchItemIn(Schema):
    deficiency_id: UUID
    sha256: str


class BatchIn(Schema):
    items: list[BatchItemIn] = Field(max_length=inbox.BATCH_MAX)


class BatchItemOut(Schema):
    deficiency_id: UUID
    ok: bool
    closed: bool
    signature_id: UUID | None
    error: str


class BatchOut(Schema):
    signed: int
    refused: int
    items: list[BatchItemOut]


@router.post("/deficiencies/sign-batch", response=BatchOut, openapi_extra=PROVIDER)
def sign_batch(request: HttpRequest, body: BatchIn) -> dict[str, Any]:
    """Sign many in one pass; each must name the hash of the version you opened, and
    each is signed or refused on its own (the reason is given per item)."""
    done = inbox.sign_batch(actor=_actor(request), items=[
        inbox.BatchItem(i.deficiency_id, i.sha256) for i in body.items])  # fmt: skip
    return {
        "signed": sum(o.ok for o in done), "refused": sum(not o.ok for o in done),
        "items": [{"deficiency_id": o.deficiency_id, "ok": o.ok, "closed": o.closed,
                   "signature_id": o.signature_id, "error": o.error} for o in done],
    }  # fmt: skip


class FileIn(Schema):
    doc_type: str = ""
    service_start: datetime | None = None
    title: str = Field("", max_length=200)
    filename: str = ""


class FiledOut(Schema):
    document_id: UUID
    deficiency: DeficiencyOut
    closed: bool


@router.post("/deficiencies/{deficiency_id}/document", response={201: FiledOut},
             openapi_extra={"x-capability": "add_document"})  # fmt: skip
def file_document(
    request: HttpRequest,
    deficiency_id: UUID,
    data: Form[FileIn],
    file: File[UploadedFile],
) -> Status:
    """File the missing document into the visit's chart, authored by you."""
    actor = _actor(request)
    d = inbox.own_deficiency(actor=actor, deficiency_id=deficiency_id)
    doc, d = inbox.file_missing_document(
        actor=actor, deficiency=d, data=read_upload(file),
        filename=data.filename or file.name or "", media_type=claimed_media_type(file),
        doc_type_code=data.doc_type, service_start=data.service_start, title=data.title,
    )  # fmt: skip
    return Status(201, {"document_id": doc.pk, "deficiency": _fresh(d),
                        "closed": d.status == "closed"})  # fmt: skip
