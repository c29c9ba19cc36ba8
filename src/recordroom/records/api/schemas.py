"""Request and response schemas of the records API (encounters, documents, versions,
signatures)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from ..models import (
    Document,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    Encounter,
    Provider,
    ResultObservation,
    ResultReport,
    Signature,
    SignatureMeaning,
)


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
    patient_class: str  # HL7 v2 table 0004 as sent (PV1-2); blank otherwise
    status: str
    admit_at: datetime | None
    discharge_at: datetime | None
    facility: str
    location: str
    discharge_disposition: str
    attending: ProviderRef | None
    # providers an interface named who are not in the provider table, as sent
    unlisted_providers: dict[str, dict[str, str]]
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


class ObservationOut(Schema):
    id: UUID
    code: str
    code_system: str
    display: str
    value_type: str = Field(description="HL7 value type: NM, SN, ST, TX, FT, CWE ...")
    value: str = Field(description="As a reader sees it: '182', '<0.5', '1:128'")
    value_code: str
    value_code_system: str
    units: str
    reference_range: str
    abnormal_flags: list[str] = Field(description="HL7 table 0078: H, L, HH, A ...")
    abnormal: bool
    status: str
    effective_at: datetime | None
    notes: str

    @staticmethod
    def resolve_value(obj: ResultObservation) -> str:
        return obj.value_display()


class ResultOut(Schema):
    id: UUID
    patient: UUID
    category: str = Field(description="Diagnostic service section (HL7 table 0074)")
    code: str
    code_system: str
    display: str
    status: str
    version: int = Field(description="Number of the current version")
    effective_at: datetime | None
    issued_at: datetime | None
    encounter: UUID | None
    visit_number: str
    facility: str
    placer_number: str
    filler_number: str
    performer: ProviderRef | None
    performer_name: str
    conclusion: str
    notes: str
    sensitivity: list[str]
    values: list[ObservationOut]

    @staticmethod
    def resolve_patient(obj: ResultReport) -> UUID:
        return obj.patient_id  # type: ignore[return-value]

    @staticmethod
    def resolve_encounter(obj: ResultReport) -> UUID | None:
        return obj.encounter_id  # type: ignore[return-value]

    @staticmethod
    def resolve_facility(obj: ResultReport) -> str:
        return obj.facility.code

    @staticmethod
    def resolve_values(obj: ResultReport) -> list[ResultObservation]:
        return obj.current  # type: ignore[attr-defined,no-any-return]


class ResultPage(Schema):
    items: list[ResultOut]
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
