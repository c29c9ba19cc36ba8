"""Providers, encounters, documents with immutable versions, and signatures."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.kernel.npi import npi_problem
from recordroom.mpi.models import Facility, Patient


def validate_npi(value: str) -> None:
    problem = npi_problem(value)
    if problem:
        raise ValidationError(problem)


class Immutable(models.Model):
    """A row written once (versions, signatures, received results): saving it again
    raises, and the database's append-only triggers refuse an update or delete."""

    immutable = "rows of this kind are immutable"

    class Meta:
        abstract = True

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise RuntimeError(self.immutable)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Provider(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Null for a practitioner known only by another identifier (one sent over FHIR
    # from a system that does not use NPIs); those are kept in `identifiers`.
    npi = models.CharField(
        max_length=10, unique=True, null=True, blank=True, validators=[validate_npi]
    )
    identifiers = models.JSONField(
        default=list, blank=True, help_text='other identifiers: [{"system", "value"}]'
    )
    family = models.CharField(max_length=100)
    given = models.CharField(max_length=100)
    credentials = models.CharField(max_length=20, blank=True, default="")
    specialty = models.CharField(max_length=100, blank=True, default="")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider",
    )
    facilities = models.ManyToManyField(Facility, blank=True, related_name="providers")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["family", "given"]

    def __str__(self) -> str:
        cred = f", {self.credentials}" if self.credentials else ""
        return f"{self.given} {self.family}{cred}"


class Organization(models.Model):
    """An organization named in records: another hospital, a clinic, a payer. One
    that is one of our facilities points at it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(max_length=200)
    npi = models.CharField(max_length=10, blank=True, default="", db_index=True)
    identifiers = models.JSONField(default=list, blank=True)
    kind = models.CharField(
        max_length=20, blank=True, default="", help_text="organization-type: prov, pay"
    )
    telecoms = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)
    facility = models.OneToOneField(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="organization",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # An import recognises an organization without an NPI by its name.
        indexes = [models.Index(fields=["name"], name="organization_name_idx")]

    def __str__(self) -> str:
        return self.name


class DocumentType(models.Model):
    """A kind of document, coded in LOINC (seeded; editable in the admin)."""

    system = models.CharField(max_length=100, default="http://loinc.org")
    code = models.CharField(
        max_length=20, unique=True, help_text="LOINC code (or local)"
    )
    display = models.CharField(max_length=200)
    category = models.CharField(
        max_length=40, help_text="clinical-note, imaging, lab, ..."
    )
    default_sensitivity = models.JSONField(default=list, blank=True)
    requires_signature = models.BooleanField(default=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display"]

    def __str__(self) -> str:
        return f"{self.display} ({self.code})"


class EncounterClass(models.TextChoices):
    INPATIENT = "IMP", "Inpatient"
    OUTPATIENT = "AMB", "Outpatient"
    EMERGENCY = "EMER", "Emergency"
    OBSERVATION = "OBSENC", "Observation"
    TELEHEALTH = "VR", "Telehealth"
    HOME_HEALTH = "HH", "Home health"
    SHORT_STAY = "SS", "Short stay"
    FIELD = "FLD", "Field"
    # The sender said so (HL7 v2 PV1-2 U and N); FHIR exports them as the
    # v3-NullFlavor codes of the same names.
    UNKNOWN = "UNK", "Unknown"
    NOT_APPLICABLE = "NA", "Not applicable"


class PatientClass(models.TextChoices):
    """HL7 v2 table 0004, the patient class of PV1-2, as the sender sent it."""

    EMERGENCY = "E", "Emergency"
    INPATIENT = "I", "Inpatient"
    OUTPATIENT = "O", "Outpatient"
    PREADMIT = "P", "Preadmit"
    RECURRING = "R", "Recurring patient"
    OBSTETRICS = "B", "Obstetrics"
    COMMERCIAL = "C", "Commercial account"
    NOT_APPLICABLE = "N", "Not applicable"
    UNKNOWN = "U", "Unknown"


class EncounterStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in-progress", "In progress"
    FINISHED = "finished", "Finished"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class Disposition(models.TextChoices):
    """UB-04 patient discharge status codes (the common ones)."""

    HOME = "01", "Home or self care"
    SHORT_TERM = "02", "Short-term general hospital"
    SNF = "03", "Skilled nursing facility"
    HOME_HEALTH = "06", "Home health service"
    AMA = "07", "Left against medical advice"
    EXPIRED = "20", "Expired"
    HOSPICE_HOME = "50", "Hospice, home"
    REHAB = "62", "Inpatient rehabilitation facility"


class Encounter(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="encounters"
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="encounters"
    )
    # Blank for a visit received without a visit number (some FHIR senders).
    account_number = models.CharField(max_length=40, blank=True, default="")
    encounter_class = models.CharField(max_length=8, choices=EncounterClass.choices)
    # PV1-2 as received (blank for visits that did not come over HL7 v2): it says
    # more than the class (obstetrics, preadmit, recurring, commercial account).
    patient_class = models.CharField(
        max_length=1, choices=PatientClass.choices, blank=True, default=""
    )
    status = models.CharField(
        max_length=20, choices=EncounterStatus.choices, default=EncounterStatus.FINISHED
    )
    # Null when the sender did not say (legacy and FHIR visits without a period).
    admit_at = models.DateTimeField(null=True, blank=True)
    discharge_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=100, blank=True, default="")
    discharge_disposition = models.CharField(
        max_length=2, choices=Disposition.choices, blank=True, default=""
    )
    attending = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    admitting = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consultants = models.ManyToManyField(Provider, blank=True, related_name="consulted")
    # Providers an interface named who are not in the provider table, kept as sent
    # instead of dropped: {"attending": {"id", "family", "given", ...}}.
    unlisted_providers = models.JSONField(default=dict, blank=True)
    service_provider = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    types = models.JSONField(
        default=list, blank=True, help_text="kinds of visit, as FHIR CodeableConcepts"
    )
    reasons = models.JSONField(
        default=list, blank=True, help_text="why the visit, as FHIR CodeableConcepts"
    )
    sensitivity = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "account_number"],
                condition=~models.Q(account_number=""),
                name="encounter_account_unique",
            )
        ]
        indexes = [
            models.Index(fields=["patient", "admit_at"], name="encounter_patient_idx"),
            models.Index(fields=["account_number"], name="encounter_account_idx"),
        ]
        ordering = ["-admit_at"]

    def __str__(self) -> str:
        return f"{self.get_encounter_class_display()} {self.account_number}"


class DocumentStatus(models.TextChoices):
    PRELIMINARY = "preliminary", "Preliminary"
    FINAL = "final", "Final"
    AMENDED = "amended", "Amended"
    CORRECTED = "corrected", "Corrected"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class DocumentSource(models.TextChoices):
    INTERFACE = "interface", "Interface"
    SCAN = "scan", "Scan"
    UPLOAD = "upload", "Upload"
    NATIVE = "native", "Native"


class Document(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="documents"
    )
    encounter = models.ForeignKey(
        Encounter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="documents",
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="documents"
    )
    doc_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=200, blank=True, default="")
    service_start = models.DateTimeField()
    service_end = models.DateTimeField(null=True, blank=True)
    author = models.ForeignKey(
        Provider,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authored",
    )
    status = models.CharField(
        max_length=20, choices=DocumentStatus.choices, default=DocumentStatus.FINAL
    )
    status_reason = models.CharField(max_length=300, blank=True, default="")
    source = models.CharField(max_length=10, choices=DocumentSource.choices)
    sensitivity = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["patient", "service_start"], name="document_patient_idx"
            ),
            models.Index(fields=["encounter"], name="document_encounter_idx"),
        ]
        ordering = ["-service_start"]

    def __str__(self) -> str:
        return f"{self.doc_type.display} {self.service_start:%Y-%m-%d}"


class VersionKind(models.TextChoices):
    ORIGINAL = "original", "Original"
    AMENDMENT = "amendment", "Amendment"
    ADDENDUM = "addendum", "Addendum"
    CORRECTION = "correction", "Correction"


class DocumentVersion(Immutable):
    """One immutable version; its bytes live in the blob store under `sha256`."""

    immutable = "document versions are immutable; add a new version instead"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=VersionKind.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=100)
    filename = models.CharField(max_length=200)
    reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="version_number_unique"
            )
        ]
        ordering = ["document", "number"]

    def __str__(self) -> str:
        return f"v{self.number} ({self.kind}) {self.sha256[:12]}"


class SignatureMeaning(models.TextChoices):
    AUTHOR = "author", "Author"
    AUTHENTICATOR = "authenticator", "Authenticator"
    COSIGNER = "cosigner", "Co-signer"


class Signature(Immutable):
    """A signer's attestation of the exact bytes of one version (by their hash)."""

    immutable = "signatures are immutable"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    signer = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="signatures"
    )
    meaning = models.CharField(max_length=16, choices=SignatureMeaning.choices)
    signed_at = models.DateTimeField()
    sha256 = models.CharField(max_length=64, help_text="hash of the version signed")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "signer", "meaning"], name="signature_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_meaning_display()}: {self.signer} at {self.signed_at:%Y-%m-%d %H:%M}"


class Coded(models.Model):
    """What conditions and procedures share: the patient, the visit, and the code
    (the first coding, for search) with every coding the sender gave."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    code_system = models.CharField(max_length=200, blank=True, default="")
    code = models.CharField(max_length=64, blank=True, default="")
    display = models.CharField(max_length=300, blank=True, default="")
    codings = models.JSONField(default=list, blank=True)
    text = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display or self.text or self.code


class Identified(models.Model):
    """Business identifiers as sent ([{system, value}]); the first, "system|value",
    is the key a resend through another route is recognised by (a result is
    recognised by its filler number instead)."""

    identifiers = models.JSONField(default=list, blank=True)
    identifier_key = models.CharField(max_length=300, blank=True, default="", db_index=True)

    class Meta:
        abstract = True


class ConditionCategory(models.TextChoices):
    ENCOUNTER_DIAGNOSIS = "encounter-diagnosis", "Encounter diagnosis"
    PROBLEM = "problem-list-item", "Problem list item"
    HEALTH_CONCERN = "health-concern", "Health concern"


class Condition(Coded, Identified):
    """A diagnosis of a visit or an item of the problem list."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="conditions"
    )
    encounter = models.ForeignKey(
        Encounter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="conditions",
    )
    category = models.CharField(
        max_length=24,
        choices=ConditionCategory.choices,
        default=ConditionCategory.ENCOUNTER_DIAGNOSIS,
    )
    clinical_status = models.CharField(max_length=20, blank=True, default="")
    verification_status = models.CharField(max_length=20, blank=True, default="")
    onset_at = models.DateTimeField(null=True, blank=True)
    abatement_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorder = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["patient", "recorded_at"], name="condition_patient_idx"
            ),
            models.Index(fields=["encounter"], name="condition_encounter_idx"),
            models.Index(fields=["code"], name="condition_code_idx"),
        ]


class Procedure(Coded, Identified):
    """A procedure performed on the patient, usually during a visit."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="procedures"
    )
    encounter = models.ForeignKey(
        Encounter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="procedures",
    )
    status = models.CharField(max_length=20, default="completed")
    performed_start = models.DateTimeField(null=True, blank=True)
    performed_end = models.DateTimeField(null=True, blank=True)
    performer = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(
        default=list, blank=True, help_text="why, as FHIR CodeableConcepts (reasonCode)"
    )
    # reasonReference: {"reference": "Condition/<our id>"}, or the display of a
    # reason of a type not kept here (an Observation, a report).
    reason_references = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["patient", "performed_start"], name="procedure_patient_idx"
            ),
            models.Index(fields=["encounter"], name="procedure_encounter_idx"),
            models.Index(fields=["code"], name="procedure_code_idx"),
        ]


# Results live in their own module; imported here so the app registers them and
# `records.models` stays the one place to import any records model from.
from .result_models import (  # noqa: E402
    IMAGING_SECTIONS,
    ResultCategory,
    ResultObservation,
    ResultReport,
    ResultStatus,
    ResultVersion,
)

__all__ = [
    "IMAGING_SECTIONS",
    "ResultCategory",
    "ResultObservation",
    "ResultReport",
    "ResultStatus",
    "ResultVersion",
]
