"""Record services: providers, encounters, documents, versions, signatures, reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max, QuerySet
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions, sqlrows, unit
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import (
    Conflict,
    IntegrityFailure,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.kernel.labels import check_labels
from recordroom.kernel.npi import npi_problem
from recordroom.mpi.models import Facility, Patient
from recordroom.mpi.services import in_scope

from . import hooks
from .access import document_access, require_document
from .files import check_file
from .fulltext import queue_index
from .models import (
    Document,
    DocumentSource,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    Encounter,
    EncounterClass,
    Provider,
    Signature,
    SignatureMeaning,
    VersionKind,
)

# --- providers and encounters ---------------------------------------------------------


_CLASSES = frozenset(EncounterClass.values)  # `.values` builds a list each call


def create_provider(
    *, npi: str, family: str, given: str, credentials: str = "", specialty: str = ""
) -> Provider:
    problem = npi_problem(npi)
    if problem:
        raise ValidationFailed(problem, field="npi")
    if Provider.objects.filter(npi=npi).exists():
        raise ValidationFailed(f"a provider with NPI {npi} already exists", field="npi")
    return Provider.objects.create(
        npi=npi,
        family=family,
        given=given,
        credentials=credentials,
        specialty=specialty,
    )


def record_encounter(
    *,
    actor: Actor,
    patient: Patient,
    facility: Facility,
    account_number: str,
    encounter_class: str,
    admit_at: datetime,
    discharge_at: datetime | None = None,
    **fields: Any,
) -> Encounter:
    if encounter_class not in _CLASSES:
        raise ValidationFailed(
            f"unknown encounter class {encounter_class!r}; use one of "
            + ", ".join(EncounterClass.values),
            field="encounter_class",
        )
    if discharge_at and discharge_at < admit_at:
        raise ValidationFailed(
            f"discharge {discharge_at:%Y-%m-%d %H:%M} is before admission "
            f"{admit_at:%Y-%m-%d %H:%M}",
            field="discharge_at",
        )
    consultants = fields.pop("consultants", [])
    with unit.atomic():
        if account_taken(facility, account_number):
            raise Conflict(
                f"account {account_number} already exists at {facility.code}",
                field="account_number",
            )
        encounter = sqlrows.new(
            Encounter,
            patient=patient,
            facility=facility,
            account_number=account_number,
            encounter_class=encounter_class,
            admit_at=admit_at,
            discharge_at=discharge_at,
            sensitivity=check_labels(fields.pop("sensitivity", [])),
            **fields,
        )
        # Plain SQL, as save() writes the row (kernel.sqlrows): the ORM spent 0.15 ms
        # building the INSERT; the HL7 listener records a visit per A01/A04.
        sqlrows.insert([encounter])
        if consultants:
            encounter.consultants.set(consultants)
        record(
            actor=actor,
            action=actions.ENCOUNTER_CREATE.name,
            patient=patient,
            obj=encounter,
            detail={"account": account_number, "class": encounter_class},
        )
    if discharge_at is not None:  # recorded already discharged (imports, the UI)
        hooks.chart_changed(
            actor=actor, encounter_id=encounter.pk, event=hooks.ENCOUNTER
        )
    return encounter


def account_taken(facility: Facility, account_number: str) -> bool:
    """Whether `facility` has a visit numbered `account_number` (plain SQL: the
    ORM's exists() spent 0.3 ms building the query)."""
    table = Encounter._meta.db_table
    with sqlrows.cursor(connection) as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE facility_id = %s "  # noqa: S608
            "AND account_number = %s LIMIT 1",
            [sqlrows.param(Encounter, "facility_id", facility.pk), account_number],
        )
        return cursor.fetchone() is not None


# --- documents ------------------------------------------------------------------------


def file_document(
    *,
    actor: Actor,
    patient: Patient,
    doc_type: DocumentType,
    data: bytes,
    filename: str,
    media_type: str = "",
    facility: Facility | None = None,
    encounter: Encounter | None = None,
    service_start: datetime | None = None,
    author: Provider | None = None,
    status: str = DocumentStatus.FINAL,
    source: str = DocumentSource.UPLOAD,
    sensitivity: list[str] | None = None,
    title: str = "",
) -> Document:
    """File a new document with its first version. The blob is stored before the row,
    so a failed write leaves at most an unreferenced (harmless, deduplicated) blob."""
    checked = check_file(data, filename=filename, media_type=media_type)
    if encounter is not None and encounter.patient_id != patient.pk:
        raise ValidationFailed(
            f"encounter {encounter.account_number} belongs to another patient",
            field="encounter",
        )
    facility = facility or (encounter.facility if encounter else None)
    if facility is None:
        raise ValidationFailed(
            "a document needs its facility or encounter", field="facility"
        )
    if encounter is not None and encounter.facility_id != facility.pk:
        raise ValidationFailed(
            f"encounter {encounter.account_number} is at another facility than "
            f"{facility.code}; file the document at the encounter's facility",
            field="encounter",
        )
    scope = actor.user.facility_ids() if actor.user is not None else None
    if scope is not None and facility.pk not in scope:
        raise PermissionDenied(
            f"facility {facility.code} is outside your facilities", field="facility"
        )
    if status not in (DocumentStatus.PRELIMINARY, DocumentStatus.FINAL):
        raise ValidationFailed(
            f"a new document is preliminary or final, not {status!r}", field="status"
        )
    if source not in DocumentSource.values:
        raise ValidationFailed(f"unknown document source {source!r}", field="source")
    labels = check_labels([*doc_type.default_sensitivity, *(sensitivity or [])])
    stored = default_store().put(checked.data)
    now = timezone.now()
    with unit.atomic():
        doc = Document.objects.create(
            patient=patient,
            encounter=encounter,
            facility=facility,
            doc_type=doc_type,
            title=title or doc_type.display,
            service_start=service_start or now,
            author=author,
            status=status,
            source=source,
            sensitivity=labels,
        )
        version = DocumentVersion.objects.create(
            document=doc,
            number=1,
            kind=VersionKind.ORIGINAL,
            sha256=stored.sha256,
            size=stored.size,
            media_type=checked.media_type,
            filename=checked.filename,
            created_at=now,
            created_by=actor.username,
        )
        record(
            actor=actor,
            action=actions.DOCUMENT_CREATE.name,
            patient=patient,
            obj=doc,
            detail={
                "type": doc_type.code,
                "version": str(version.pk),
                "sha256": stored.sha256,
                "source": source,
                "sensitivity": labels,
            },
        )
        # Its text is indexed for search by the worker, once this commits (fulltext).
        queue_index(version.pk)
    hooks.chart_changed(
        actor=actor, encounter_id=doc.encounter_id, event=hooks.DOCUMENT_FILED
    )
    return doc


def current_version(document: Document) -> DocumentVersion:
    version = document.versions.order_by("-number").first()
    if version is None:
        raise IntegrityFailure(f"document {document.pk} has no versions")
    return version


_STATUS_FOR_KIND: dict[str, str] = {
    VersionKind.AMENDMENT: DocumentStatus.AMENDED,
    VersionKind.ADDENDUM: DocumentStatus.AMENDED,
    VersionKind.CORRECTION: DocumentStatus.CORRECTED,
}


def add_version(
    *,
    actor: Actor,
    document: Document,
    kind: str,
    data: bytes,
    filename: str,
    reason: str,
    media_type: str = "",
) -> DocumentVersion:
    """Amend, correct or add an addendum: a new version linked to the one it changes.

    The earlier version, and every signature on it, stays exactly as it was.
    """
    if kind not in _STATUS_FOR_KIND:
        raise ValidationFailed(
            f"a new version is an amendment, addendum or correction, not {kind!r}",
            field="kind",
        )
    if not reason.strip():
        raise ValidationFailed("say why the document is being changed", field="reason")
    if document.status == DocumentStatus.ENTERED_IN_ERROR:
        raise Conflict("a document entered in error cannot get new versions")
    checked = check_file(data, filename=filename, media_type=media_type)
    stored = default_store().put(checked.data)
    with unit.atomic():
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if (
            locked.status == DocumentStatus.ENTERED_IN_ERROR
        ):  # re-checked under the lock
            raise Conflict("a document entered in error cannot get new versions")
        parent = current_version(locked)
        version = DocumentVersion.objects.create(
            document=locked,
            number=parent.number + 1,
            kind=kind,
            parent=parent,
            sha256=stored.sha256,
            size=stored.size,
            media_type=checked.media_type,
            filename=checked.filename,
            reason=reason.strip(),
            created_at=timezone.now(),
            created_by=actor.username,
        )
        Document.objects.filter(pk=locked.pk).update(
            status=_STATUS_FOR_KIND[kind], updated_at=timezone.now()
        )
        record(
            actor=actor,
            action=actions.DOCUMENT_VERSION.name,
            patient=locked.patient_id,
            obj=version,
            detail={
                "kind": kind,
                "number": version.number,
                "reason": reason,
                "parent": str(parent.pk),
                "sha256": stored.sha256,
            },
        )
        queue_index(version.pk)
    document.refresh_from_db()
    hooks.chart_changed(
        actor=actor, encounter_id=document.encounter_id, event=hooks.DOCUMENT_VERSION
    )
    return version


def sign_version(
    *,
    actor: Actor,
    version: DocumentVersion,
    signer: Provider,
    meaning: str = SignatureMeaning.AUTHOR,
) -> Signature:
    """Sign the exact bytes of a version: the signature carries their hash."""
    if meaning not in SignatureMeaning.values:
        raise ValidationFailed(
            f"unknown signature meaning {meaning!r}", field="meaning"
        )
    # A person signs only as the provider linked to their own account; the system
    # (interfaces, the demo loader) records signatures made elsewhere.
    if actor.user is not None and signer.user_id != actor.user_id:
        raise PermissionDenied(f"{actor.username} cannot sign on behalf of {signer}")
    if version.document.status == DocumentStatus.ENTERED_IN_ERROR:
        raise Conflict("a document entered in error cannot be signed")
    data = default_store().get(version.sha256)  # verifies the bytes being signed
    with unit.atomic():
        if Signature.objects.filter(
            version=version, signer=signer, meaning=meaning
        ).exists():
            raise Conflict(
                f"{signer} already signed version {version.number} as {meaning}"
            )
        sig = Signature.objects.create(
            version=version,
            signer=signer,
            meaning=meaning,
            signed_at=timezone.now(),
            sha256=version.sha256,
        )
        record(
            actor=actor,
            action=actions.DOCUMENT_SIGN.name,
            patient=version.document.patient_id,
            obj=sig,
            detail={
                "version": version.number,
                "meaning": meaning,
                "sha256": version.sha256,
                "bytes": len(data),
            },
        )
    hooks.chart_changed(
        actor=actor,
        encounter_id=version.document.encounter_id,
        event=hooks.DOCUMENT_SIGNED,
    )
    return sig


def change_document_status(
    *, actor: Actor, document: Document, status: str, reason: str
) -> None:
    """Change status (e.g. preliminary → final, or entered-in-error with a reason).

    Nothing is deleted: a document entered in error stays in the record, marked.
    """
    allowed = {
        DocumentStatus.PRELIMINARY: {
            DocumentStatus.FINAL,
            DocumentStatus.ENTERED_IN_ERROR,
        },
        DocumentStatus.FINAL: {DocumentStatus.ENTERED_IN_ERROR},
        DocumentStatus.AMENDED: {DocumentStatus.ENTERED_IN_ERROR},
        DocumentStatus.CORRECTED: {DocumentStatus.ENTERED_IN_ERROR},
        DocumentStatus.ENTERED_IN_ERROR: set(),
    }
    if status not in DocumentStatus.values:
        raise ValidationFailed(f"unknown document status {status!r}", field="status")
    if status == DocumentStatus.ENTERED_IN_ERROR and not reason.strip():
        raise ValidationFailed(
            "say why the document was entered in error", field="reason"
        )
    with unit.atomic():
        # Checked under the row lock, so two concurrent changes cannot both pass and
        # the audited "from" is the status actually replaced.
        locked = Document.objects.select_for_update().get(pk=document.pk)
        before = locked.status
        if status not in allowed[DocumentStatus(before)]:
            raise Conflict(f"a {before} document cannot become {status}")
        Document.objects.filter(pk=document.pk).update(
            status=status, status_reason=reason.strip(), updated_at=timezone.now()
        )
        record(
            actor=actor,
            action=actions.DOCUMENT_STATUS.name,
            patient=document.patient_id,
            obj=document,
            detail={"from": before, "to": status, "reason": reason},
        )
    document.refresh_from_db()
    hooks.chart_changed(
        actor=actor, encounter_id=document.encounter_id, event=hooks.DOCUMENT_STATUS
    )


# --- reads ----------------------------------------------------------------------------


def visible_documents(user: Any) -> QuerySet[Document]:
    scope = user.facility_ids() if user is not None else None
    qs = Document.objects.all()
    return qs if scope is None else qs.filter(facility_id__in=scope)


def get_document(*, user: Any, document_id: Any, check_labels: bool = True) -> Document:
    """The document, if in the user's facilities and (unless `check_labels` is False)
    its sensitivity labels are readable to the user (records.access).

    Raises:
        NotFound: no such document.
        PermissionDenied: outside the user's facilities, or a label the user may not
            read (named in plain words).
    """
    try:
        doc = Document.objects.select_related(
            "doc_type", "author", "encounter", "facility"
        ).get(pk=document_id)
    except Exception:  # invalid UUID text or missing row both mean: no such document
        raise NotFound(f"no document with id '{document_id}'") from None
    if (
        not in_scope(user, doc.patient)
        or not visible_documents(user).filter(pk=doc.pk).exists()
    ):
        raise PermissionDenied(f"document {document_id} is outside your facilities",
                               patient_id=doc.patient_id)  # fmt: skip
    if check_labels:
        require_document(user, doc)
    return doc


@dataclass(frozen=True)
class Content:
    version: DocumentVersion
    data: bytes


READ_ACTIONS = {
    "view": actions.DOCUMENT_VIEW.name,
    "download": actions.DOCUMENT_DOWNLOAD.name,
    "print": actions.DOCUMENT_PRINT.name,
}


def read_content(
    *,
    actor: Actor,
    document: Document,
    how: str = "view",
    version_number: int | None = None,
) -> Content:
    """The verified bytes of a version, audited as a view, download or print.

    A blob that is missing or fails its hash is never returned: the failure is
    audited and IntegrityFailure raised.
    """
    if how not in READ_ACTIONS:
        raise ValidationFailed(f"read as view, download or print, not {how!r}")
    versions = document.versions.all()
    version = (
        versions.filter(number=version_number).first()
        if version_number is not None
        else versions.order_by("-number").first()
    )
    if version is None:
        raise NotFound(f"document {document.pk} has no version {version_number}")
    try:
        data = default_store().get(version.sha256)
    except IntegrityFailure as exc:
        record(
            actor=actor,
            action=actions.DOCUMENT_INTEGRITY.name,
            patient=document.patient_id,
            obj=version,
            outcome=Outcome.FAILURE,
            detail={"error": exc.message},
        )
        raise
    record(
        actor=actor,
        action=READ_ACTIONS[how],
        patient=document.patient_id,
        obj=version,
        detail={
            "document": str(document.pk),
            "version": version.number,
            **document_access(actor.user, document).audit(),
        },
    )
    return Content(version, data)


def latest_versions(documents: list[Document]) -> dict[Any, int]:
    rows = (
        DocumentVersion.objects.filter(document__in=documents)
        .values("document_id")
        .annotate(n=Max("number"))
    )
    return {r["document_id"]: r["n"] for r in rows}
