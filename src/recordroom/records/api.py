"""Patients (search, registration), encounters and documents over the JSON API.

Thin adapters: parse, call one service, render. Reads of PHI are audited here
(patient.search with its query, chart.open); writes are audited by the services;
document content reads are audited by read_content itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field, field_validator

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, TooLarge, ValidationFailed
from recordroom.mpi import services as mpi
from recordroom.mpi.api import Created, PatientIn, SearchOut, facility_for, open_patient
from recordroom.mpi.models import Facility
from recordroom.mpi.search import MAX_RESULTS, PatientQuery

from . import services
from .chart import find_patients
from .models import (
    Document,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    Encounter,
    Provider,
    Signature,
    SignatureMeaning,
)

router = Router(tags=["records"])

# --- schemas ---------------------------------------------------------------------------


class ProviderRef(Schema):
    id: UUID
    name: str
    npi: str

    @staticmethod
    def resolve_name(obj: Provider) -> str:
        return str(obj)


class EncounterOut(Schema):
    id: UUID
    account_number: str
    encounter_class: str
    class_display: str
    status: str
    admit_at: datetime
    discharge_at: datetime | None
    facility: str
    location: str
    discharge_disposition: str
    attending: ProviderRef | None
    sensitivity: list[str]

    @staticmethod
    def resolve_class_display(obj: Encounter) -> str:
        return obj.get_encounter_class_display()

    @staticmethod
    def resolve_facility(obj: Encounter) -> str:
        return obj.facility.code


class EncounterPage(Schema):
    items: list[EncounterOut]
    next: UUID | None


class DocumentTypeOut(Schema):
    system: str
    code: str
    display: str


class DocumentOut(Schema):
    id: UUID
    patient: UUID
    type: DocumentTypeOut
    title: str
    service_start: datetime
    service_end: datetime | None
    status: str
    status_reason: str
    sensitivity: list[str]
    source: str
    encounter: UUID | None
    facility: str
    author: ProviderRef | None
    created_at: datetime
    version: int = Field(description="Number of the current version")
    signed: bool = Field(description="Whether the current version is signed")

    @staticmethod
    def resolve_patient(obj: Document) -> UUID:
        return obj.patient_id  # type: ignore[return-value]

    @staticmethod
    def resolve_type(obj: Document) -> DocumentType:
        return obj.doc_type

    @staticmethod
    def resolve_encounter(obj: Document) -> UUID | None:
        return obj.encounter_id  # type: ignore[return-value]

    @staticmethod
    def resolve_facility(obj: Document) -> str:
        return obj.facility.code

    @staticmethod
    def resolve_version(obj: Document) -> int:
        return obj.current_version or 0  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_signed(obj: Document) -> bool:
        return bool(obj.current_signed)  # type: ignore[attr-defined]


class DocumentPage(Schema):
    items: list[DocumentOut]
    next: UUID | None


class SignatureOut(Schema):
    id: UUID
    version: int
    signer: ProviderRef
    meaning: str
    signed_at: datetime
    sha256: str

    @staticmethod
    def resolve_version(obj: Signature) -> int:
        return obj.version.number


class VersionOut(Schema):
    id: UUID
    number: int
    kind: str
    parent: int | None
    sha256: str
    size: int
    media_type: str
    filename: str
    reason: str
    created_at: datetime
    created_by: str
    signatures: list[SignatureOut]

    @staticmethod
    def resolve_parent(obj: DocumentVersion) -> int | None:
        return obj.parent.number if obj.parent else None

    @staticmethod
    def resolve_signatures(obj: DocumentVersion) -> list[Signature]:
        return list(obj.signatures.all())


class DocumentDetail(DocumentOut):
    versions: list[VersionOut]

    @staticmethod
    def resolve_versions(obj: Document) -> list[DocumentVersion]:
        return list(
            obj.versions.select_related("parent").prefetch_related(
                "signatures__signer", "signatures__version"
            )
        )


class DocumentUpload(Schema):
    type: str = Field(description="Document type code (LOINC or local), e.g. 18842-5")
    facility: str = Field("", description="Facility code; defaults to the encounter's")
    encounter: UUID | None = None
    service_date: date | datetime | None = Field(
        None, description="Date or date-time of service (the facility's zone if none)"
    )
    sensitivity: list[str] = Field([], description="HL7 security labels, e.g. PSY, HIV")
    title: str = Field("", max_length=200)
    status: Literal["preliminary", "final"] = "final"
    author: UUID | None = Field(None, description="Provider id of the author")
    filename: str = Field("", description="Name to keep; defaults to the uploaded name")

    @field_validator("sensitivity", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list):
            return [p.strip() for i in items for p in str(i).split(",") if p.strip()]
        return value


class VersionUpload(Schema):
    kind: Literal["amendment", "addendum", "correction"]
    reason: str = Field(min_length=1, max_length=300)
    filename: str = Field("", description="Name to keep; defaults to the uploaded name")


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: DocumentStatus
    reason: str = Field("", max_length=300)


class SignatureIn(Schema):
    model_config = ConfigDict(extra="forbid")
    meaning: SignatureMeaning = SignatureMeaning.AUTHOR
    version: int | None = Field(
        None, ge=1, description="Version number; default current"
    )


# --- helpers ---------------------------------------------------------------------------


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _with_current_version(docs: QuerySet[Document]) -> QuerySet[Document]:
    """Annotate each document with its current version number and whether it is signed."""
    latest = DocumentVersion.objects.filter(document=OuterRef("pk")).order_by("-number")
    signed = Signature.objects.filter(
        version__document=OuterRef("pk"), version__number=OuterRef("current_version")
    )
    return docs.select_related("doc_type", "author", "facility").annotate(
        current_version=Subquery(latest.values("number")[:1]),
        current_signed=Exists(signed),
    )


def _document(doc: Document) -> Document:
    return _with_current_version(Document.objects.filter(pk=doc.pk)).get()


def _keyset(
    rows: QuerySet[Any], *, field: str, after: UUID | None, limit: int, what: str
) -> tuple[list[Any], UUID | None]:
    """Newest first by `field` (ties by id); `after` is the last id of the page before."""
    if after is not None:
        anchor = rows.filter(pk=after).values_list(field, flat=True).first()
        if anchor is None:
            raise ValidationFailed(
                f"'after' {after} is not one of this patient's {what}; start again "
                "without it",
                field="after",
            )
        rows = rows.filter(
            Q(**{f"{field}__lt": anchor}) | Q(**{field: anchor, "pk__lt": after})
        )
    page = list(rows.order_by(f"-{field}", "-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (page[-1].pk if more and page else None)


def _open_document(actor: Actor, document_id: UUID, *, action: str) -> Document:
    """The document, if in the user's scope; a refusal is audited (mpi.api.open_patient)."""
    try:
        return services.get_document(user=actor.user, document_id=document_id)
    except PermissionDenied as exc:
        record(
            actor=actor, action=action, obj=("records.document", document_id),
            outcome=Outcome.DENIED, detail={"document": str(document_id),
                                            "reason": exc.message},
        )  # fmt: skip
        raise


def _read_upload(file: UploadedFile) -> bytes:
    # Refuse by the declared size before reading, so a huge upload never fills memory.
    if file.size is not None and file.size > settings.MAX_UPLOAD_BYTES:
        raise TooLarge(
            f"file {file.name!r} is {file.size / 1048576:.1f} MB; the limit is "
            f"{settings.MAX_UPLOAD_BYTES // 1048576} MB (RECORDROOM_MAX_UPLOAD_MB)",
            field="file",
        )
    return file.read()


def _label(file: UploadedFile) -> str:
    """The media type the client claimed; a generic one claims nothing."""
    media_type = (file.content_type or "").split(";")[0].strip().lower()
    return "" if media_type in ("", "application/octet-stream") else media_type


def _service_start(
    value: date | datetime | None, facility: Facility
) -> datetime | None:
    if value is None:
        return None
    zone = ZoneInfo(facility.timezone)
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    return value if value.tzinfo else value.replace(tzinfo=zone)


# --- patients --------------------------------------------------------------------------


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
) -> dict[str, Any]:
    """Find patients in your facilities; the search and its result count are audited."""
    actor = _actor(request)
    query = PatientQuery(
        name=name, birth_date=birth_date, identifier=identifier, ssn=ssn, limit=limit
    )
    hits = find_patients(user=actor.user, query=query, account=account)
    wanted = {
        **query.as_audit(),
        **({"account": account.strip()} if account.strip() else {}),
    }
    record(
        actor=actor, action=actions.PATIENT_SEARCH.name,
        detail={"query": wanted, "count": len(hits)},
    )  # fmt: skip
    return {"items": hits, "count": len(hits)}


@router.post(
    "/patients",
    response={201: Created},
    openapi_extra={"x-capability": "edit_demographics"},
)
def register_patient(request: HttpRequest, data: PatientIn) -> dict[str, Any]:
    """Register a patient; an MRN names its facility by code."""
    actor = _actor(request)
    patient = mpi.register_patient(actor=actor, data=data.to_service(user=actor.user))
    return {"id": patient.pk}


@router.get(
    "/patients/{patient_id}/encounters", response=EncounterPage,
    openapi_extra={"x-capability": "view_chart"},
)  # fmt: skip
def list_encounters(
    request: HttpRequest, patient_id: UUID, after: UUID | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:  # fmt: skip
    """The patient's encounters at your facilities, newest admission first."""
    actor = _actor(request)
    detail = {"part": "encounters"}
    patient = open_patient(actor, patient_id, detail=detail)
    rows = Encounter.objects.filter(patient=patient).select_related(
        "facility", "attending"
    )
    scope = actor.user.facility_ids()
    if scope is not None:
        rows = rows.filter(facility_id__in=scope)
    page, nxt = _keyset(
        rows, field="admit_at", after=after, limit=limit, what="encounters"
    )
    record(
        actor=actor, action=actions.CHART_OPEN.name, patient=patient, obj=patient,
        detail=detail,
    )  # fmt: skip
    return {"items": page, "next": nxt}


@router.get(
    "/patients/{patient_id}/documents", response=DocumentPage,
    openapi_extra={"x-capability": "view_chart"},
)  # fmt: skip
def list_documents(
    request: HttpRequest, patient_id: UUID, after: UUID | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> dict[str, Any]:  # fmt: skip
    """The patient's documents at your facilities, newest service date first."""
    actor = _actor(request)
    detail = {"part": "documents"}
    patient = open_patient(actor, patient_id, detail=detail)
    rows = _with_current_version(
        services.visible_documents(actor.user).filter(patient=patient)
    )
    page, nxt = _keyset(rows, field="service_start", after=after, limit=limit,
                        what="documents")  # fmt: skip
    record(
        actor=actor, action=actions.CHART_OPEN.name, patient=patient, obj=patient,
        detail=detail,
    )  # fmt: skip
    return {"items": page, "next": nxt}


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
    actor = _actor(request)
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
    facility = facility_for(code, user=actor.user, field="facility")
    author = None
    if data.author:
        author = Provider.objects.filter(pk=data.author).first()
        if author is None:
            raise ValidationFailed(f"no provider with id {data.author}", field="author")
    doc = services.file_document(
        actor=actor, patient=patient, doc_type=doc_type, data=_read_upload(file),
        filename=data.filename or file.name or "", media_type=_label(file),
        facility=facility, encounter=encounter,
        service_start=_service_start(data.service_date, facility), author=author,
        status=data.status, source="upload", sensitivity=data.sensitivity,
        title=data.title,
    )  # fmt: skip
    return _document(doc)


# --- documents -------------------------------------------------------------------------


@router.get(
    "/documents/{document_id}", response=DocumentDetail,
    openapi_extra={"x-capability": "view_document"},
)  # fmt: skip
def read_document(request: HttpRequest, document_id: UUID) -> Document:
    """A document's metadata, its versions and their signatures (not its content)."""
    actor = _actor(request)
    doc = _open_document(actor, document_id, action=actions.CHART_OPEN.name)
    record(
        actor=actor, action=actions.CHART_OPEN.name, patient=doc.patient_id, obj=doc,
        detail={"document": str(doc.pk)},
    )  # fmt: skip
    return _document(doc)


@router.get(
    "/documents/{document_id}/content",
    openapi_extra={
        "x-capability": "view_document",
        "responses": {"200": {"description": "The verified bytes of the version",
                              "content": {"application/octet-stream": {}}}},
    },
)  # fmt: skip
def read_document_content(
    request: HttpRequest,
    document_id: UUID,
    version: int | None = Query(
        None, ge=1, description="Version number; default current"
    ),
    how: Literal["view", "download", "print"] = "view",
) -> HttpResponse:
    """The document's bytes, checked against their hash; audited as view/download/print."""
    actor = _actor(request)
    doc = _open_document(actor, document_id, action=services.READ_ACTIONS[how])
    content = services.read_content(
        actor=actor, document=doc, how=how, version_number=version
    )
    v = content.version
    media_type = v.media_type + (
        "; charset=utf-8" if v.media_type == "text/plain" else ""
    )
    response = HttpResponse(content.data, content_type=media_type)
    response["Content-Disposition"] = (
        content_disposition_header(how == "download", v.filename) or "inline"
    )
    response["Cache-Control"] = "no-store"
    response["ETag"] = f'"{v.sha256}"'
    response["X-Document-Version"] = str(v.number)
    return response


@router.post(
    "/documents/{document_id}/versions", response={201: VersionOut},
    openapi_extra={"x-capability": "add_document"},
)  # fmt: skip
def add_version(
    request: HttpRequest,
    document_id: UUID,
    data: Form[VersionUpload],
    file: File[UploadedFile],
) -> DocumentVersion:
    """Amend, correct or add an addendum: a new version; earlier ones stay as they were."""
    actor = _actor(request)
    doc = _open_document(actor, document_id, action=actions.DOCUMENT_VERSION.name)
    version = services.add_version(
        actor=actor, document=doc, kind=data.kind, data=_read_upload(file),
        filename=data.filename or file.name or "", reason=data.reason,
        media_type=_label(file),
    )  # fmt: skip
    return version


@router.post(
    "/documents/{document_id}/status", response=DocumentOut,
    openapi_extra={"x-capability": "change_document_status"},
)  # fmt: skip
def change_status(request: HttpRequest, document_id: UUID, data: StatusIn) -> Document:
    """Change status (preliminary → final, or entered-in-error with a reason)."""
    actor = _actor(request)
    doc = _open_document(actor, document_id, action=actions.DOCUMENT_STATUS.name)
    services.change_document_status(
        actor=actor, document=doc, status=data.status, reason=data.reason
    )
    return _document(doc)


@router.post(
    "/documents/{document_id}/signatures", response={201: SignatureOut},
    openapi_extra={"x-capability": "sign_document"},
)  # fmt: skip
def sign(request: HttpRequest, document_id: UUID, data: SignatureIn) -> Signature:
    """Sign a version (default the current one) as the provider linked to your account."""
    actor = _actor(request)
    doc = _open_document(actor, document_id, action=actions.DOCUMENT_SIGN.name)
    signer = Provider.objects.filter(user=actor.user, active=True).first()
    if signer is None:
        raise PermissionDenied(
            f"user {actor.username} is not linked to an active provider, so cannot sign; "
            "an administrator links the provider record to the user"
        )
    versions = doc.versions.order_by("-number")
    version = (
        versions.filter(number=data.version).first()
        if data.version
        else versions.first()
    )
    if version is None:
        raise ValidationFailed(
            f"document {doc.pk} has no version {data.version}", field="version"
        )
    sig = services.sign_version(
        actor=actor, version=version, signer=signer, meaning=data.meaning
    )
    return sig
