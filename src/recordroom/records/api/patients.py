"""Patients over the JSON API: search (with account numbers), registration, the
chart's pages of encounters, documents and results, and filing an uploaded document.

Thin adapters: parse, call one service, render. Reads of PHI are audited here
(patient.search with its query, chart.open); writes are audited by the services.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from recordroom.kernel import actions
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.api import (
    RegistrationIn,
    RegistrationOut,
    SearchOut,
    facility_for,
    open_chart,
    open_patient,
)
from recordroom.mpi.linkage import registration
from recordroom.mpi.linkage.realtime import visible_candidates
from recordroom.mpi.search import MAX_RESULTS, PatientQuery

from .. import services
from ..access import require_chart
from ..chart import (
    MAX_PAGE,
    document_page,
    document_with_version,
    encounter_page,
    find_patient_page,
    record_search,
    result_page,
)
from ..models import Document, DocumentType, Encounter, Provider
from .common import actor_of, claimed_media_type, read_upload, service_start
from .schemas import (
    DocumentDetail,
    DocumentPage,
    DocumentUpload,
    EncounterPage,
    ResultPage,
)

router = Router(tags=["records"])


@router.get(
    "/patients", response=SearchOut, openapi_extra={"x-capability": "search_patients"}
)
def search_patients(
    request: HttpRequest,
    name: str = Query(
        "", description="Partial name: 'garcia, maria', 'maria garcia', 'garc'"
    ),
    birth_date: date | None = None,
    identifier: str = Query("", description="MRN, enterprise id or member id"),
    account: str = Query("", description="Encounter account (visit) number"),
    ssn: str = Query("", description="All nine digits or the last four"),
    limit: int = Query(25, ge=1, le=MAX_RESULTS),
    offset: int = Query(0, ge=0, description="Patients to skip (the next page)"),
    tolerant: bool = Query(
        True,
        description="After exact matches, also surnames that sound alike, "
        "nicknames, day and month swapped, MRNs with or without leading zeros",
    ),
) -> dict[str, Any]:
    """Find patients in your facilities, exact matches first, then tolerant ones
    with why each matched; the search and its result count are audited."""
    actor = actor_of(request)
    query = PatientQuery(
        name=name, birth_date=birth_date, identifier=identifier, ssn=ssn, limit=limit,
        offset=offset, tolerant=tolerant,
    )  # fmt: skip
    page = find_patient_page(user=actor.user, query=query, account=account)
    record_search(actor=actor, query=query, account=account, hits=page.hits)
    return {"items": page.hits, "count": len(page.hits), "total": page.total,
            "offset": page.offset, "more": page.more}  # fmt: skip


@router.post(
    "/patients",
    response={200: RegistrationOut, 201: RegistrationOut},
    openapi_extra={"x-capability": "edit_demographics"},
)
def register_patient(
    request: HttpRequest, data: RegistrationIn
) -> Status[dict[str, Any]]:
    """Register a patient, searching before creating: an MRN names its facility by
    code (one of yours). By the facility's thresholds the registration is linked to
    an existing record (200, its new identifiers added there), created with the pair
    sent to the duplicate worklist (201, outcome review), or created (201)."""
    actor = actor_of(request)
    done = registration.register(
        actor=actor, data=data.to_registration(), source="api",
        create_anyway=data.create_anyway, link_to=data.link_to, reason=data.reason,
    )  # fmt: skip
    shown = visible_candidates(actor.user, done.candidates)
    body = {"id": done.patient.pk, "outcome": done.outcome,
            "decision": done.decision.pk, "probability": done.decision.probability,
            "candidates": shown, "mrn_assigned": done.assigned_mrn}  # fmt: skip
    return Status(200 if done.outcome == "linked" else 201, body)


@router.get(
    "/patients/{patient_id}/encounters", response=EncounterPage,
    openapi_extra={"x-capability": "view_chart"},
)  # fmt: skip
def list_encounters(
    request: HttpRequest, patient_id: UUID, after: UUID | None = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:  # fmt: skip
    """The patient's encounters at your facilities, newest admission first; visits
    whose sensitivity labels you may not read are left out."""
    actor = actor_of(request)
    patient = open_chart(actor, patient_id, part="encounters",
                         check=lambda p: require_chart(actor.user, p).audit())  # fmt: skip
    page = encounter_page(user=actor.user, patient=patient, after=after, limit=limit,
                          hide_restricted=True)  # fmt: skip
    return {"items": page.items, "next": page.next}


@router.get(
    "/patients/{patient_id}/documents", response=DocumentPage,
    openapi_extra={"x-capability": "view_chart"},
)  # fmt: skip
def list_documents(
    request: HttpRequest, patient_id: UUID, after: UUID | None = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:  # fmt: skip
    """The patient's documents at your facilities, newest service date first;
    documents whose sensitivity labels you may not read are left out."""
    actor = actor_of(request)
    patient = open_chart(actor, patient_id, part="documents",
                         check=lambda p: require_chart(actor.user, p).audit())  # fmt: skip
    page = document_page(user=actor.user, patient=patient, after=after, limit=limit,
                         hide_restricted=True)  # fmt: skip
    return {"items": page.items, "next": page.next}


@router.get(
    "/patients/{patient_id}/results", response=ResultPage,
    openapi_extra={"x-capability": "view_chart"},
)  # fmt: skip
def list_results(
    request: HttpRequest, patient_id: UUID, after: UUID | None = None,
    limit: int = Query(50, ge=1, le=MAX_PAGE),
) -> dict[str, Any]:  # fmt: skip
    """The patient's lab and radiology results at your facilities, newest first,
    each with the values of its current version; results whose sensitivity labels
    you may not read are left out."""
    actor = actor_of(request)
    patient = open_chart(actor, patient_id, part="results",
                         check=lambda p: require_chart(actor.user, p).audit())  # fmt: skip
    page = result_page(user=actor.user, patient=patient, after=after, limit=limit,
                       hide_restricted=True)  # fmt: skip
    return {"items": page.items, "next": page.next}


@router.post(
    "/patients/{patient_id}/documents", response={201: DocumentDetail},
    openapi_extra={"x-capability": "add_document"},
)  # fmt: skip
def upload_document(
    request: HttpRequest,
    patient_id: UUID,
    data: Form[DocumentUpload],
    file: File[UploadedFile],
) -> Document:
    """File an uploaded document (PDF, PNG, JPEG, TIFF or UTF-8 text) in the chart."""
    actor = actor_of(request)
    patient = open_patient(actor, patient_id, action=actions.DOCUMENT_CREATE.name)
    doc_type = DocumentType.objects.filter(code=data.type, active=True).first()
    if doc_type is None:
        raise ValidationFailed(
            f"unknown document type code {data.type!r}", field="type"
        )
    encounter = None
    if data.encounter:
        encounter = (
            Encounter.objects.select_related("facility")
            .filter(pk=data.encounter, patient=patient)
            .first()
        )
        if encounter is None:
            raise ValidationFailed(
                f"this patient has no encounter {data.encounter}", field="encounter"
            )
    code = data.facility or (encounter.facility.code if encounter else "")
    if not code:
        raise ValidationFailed(
            "say which facility the document belongs to (facility=CODE) or give its "
            "encounter",
            field="facility",
        )
    # file_document does not check the facility's scope itself (yet), so this does.
    facility = facility_for(code, field="facility")
    author = None
    if data.author:
        author = Provider.objects.filter(pk=data.author).first()
        if author is None:
            raise ValidationFailed(f"no provider with id {data.author}", field="author")
    doc = services.file_document(
        actor=actor, patient=patient, doc_type=doc_type, data=read_upload(file),
        filename=data.filename or file.name or "",
        media_type=claimed_media_type(file), facility=facility, encounter=encounter,
        service_start=service_start(data.service_date, facility), author=author,
        status=data.status, source="upload", sensitivity=data.sensitivity,
        title=data.title,
    )  # fmt: skip
    return document_with_version(doc)
