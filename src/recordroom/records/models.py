"""Providers, encounters, documents with immutable versions, and signatures."""

from __future__ import annotations

from typing import Any

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


# --- results: lab and radiology reports with their observations ----------------------


class ResultCategory(models.TextChoices):
    """The diagnostic service section of a report (HL7 table 0074, as FHIR's v2-0074)."""

    AUDIOLOGY = "AU", "Audiology"
    BLOOD_GASES = "BG", "Blood gases"
    BLOOD_BANK = "BLB", "Blood bank"
    CYTOGENETICS = "CG", "Cytogenetics"
    CHEMISTRY = "CH", "Chemistry"
    CYTOPATHOLOGY = "CP", "Cytopathology"
    CT = "CT", "CAT scan"
    CATHETERIZATION = "CTH", "Cardiac catheterization"
    CARDIAC_ULTRASOUND = "CUS", "Cardiac ultrasound"
    ELECTROCARDIAC = "EC", "Electrocardiac (e.g. EKG, EEC, Holter)"
    ELECTRONEURO = "EN", "Electroneuro (EEG, EMG, EP, PSG)"
    HEMATOLOGY = "HM", "Hematology"
    ICU = "ICU", "Bedside ICU monitoring"
    IMMUNOLOGY = "IMM", "Immunology"
    LAB = "LAB", "Laboratory"
    MICROBIOLOGY = "MB", "Microbiology"
    MYCOBACTERIOLOGY = "MCB", "Mycobacteriology"
    MYCOLOGY = "MYC", "Mycology"
    NMR = "NMR", "Nuclear magnetic resonance"
    NUCLEAR = "NMS", "Nuclear medicine scan"
    NURSING = "NRS", "Nursing service measures"
    OUTSIDE_LAB = "OSL", "Outside lab"
    OCCUPATIONAL_THERAPY = "OT", "Occupational therapy"
    OTHER = "OTH", "Other"
    OB_ULTRASOUND = "OUS", "OB ultrasound"
    PULMONARY_FUNCTION = "PF", "Pulmonary function"
    PHARMACY = "PHR", "Pharmacy"
    PHYSICIAN = "PHY", "Physician (history, diagnosis, admission note)"
    PHYSICAL_THERAPY = "PT", "Physical therapy"
    RAD = "RAD", "Radiology"
    RESPIRATORY_CARE = "RC", "Respiratory care"
    RADIATION_THERAPY = "RT", "Radiation therapy"
    RADIOLOGY_ULTRASOUND = "RUS", "Radiology ultrasound"
    RADIOGRAPH = "RX", "Radiograph"
    SURGICAL_PATHOLOGY = "SP", "Surgical pathology"
    SEROLOGY = "SR", "Serology"
    TOXICOLOGY = "TX", "Toxicology"
    URINALYSIS = "URN", "Urinalysis"
    VIROLOGY = "VR", "Virology"
    VASCULAR_ULTRASOUND = "VUS", "Vascular ultrasound"
    CINERADIOGRAPH = "XRC", "Cineradiograph"


# Sections that are imaging (FHIR Observation category "imaging"); the rest are lab.
IMAGING_SECTIONS = frozenset(
    {"CT", "CTH", "CUS", "NMR", "NMS", "OUS", "RAD", "RUS", "RX", "VUS", "XRC"}
)


class ResultStatus(models.TextChoices):
    """FHIR DiagnosticReport.status / Observation.status (the values both share)."""

    REGISTERED = "registered", "Registered"
    PRELIMINARY = "preliminary", "Preliminary"
    FINAL = "final", "Final"
    AMENDED = "amended", "Amended"
    CORRECTED = "corrected", "Corrected"
    CANCELLED = "cancelled", "Cancelled"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class ResultReport(Coded):
    """A lab or radiology report (FHIR DiagnosticReport): what was ordered (the code,
    LOINC), for whom, in which visit, and its status. Known to its sender by the
    filler order number; a correction is a new version (ResultVersion) and its
    observations are new rows: nothing received is overwritten."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="results"
    )
    encounter = models.ForeignKey(
        Encounter,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="results",
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="results"
    )
    # The visit number sent (PV1-19), kept even when no visit of ours has it.
    visit_number = models.CharField(max_length=40, blank=True, default="")
    category = models.CharField(
        max_length=4, choices=ResultCategory.choices, default=ResultCategory.LAB
    )
    status = models.CharField(
        max_length=20, choices=ResultStatus.choices, default=ResultStatus.FINAL
    )
    effective_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    performer = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who performed or interpreted it as the sender names them (a lab, a radiologist
    # without an NPI we know).
    performer_name = models.CharField(max_length=200, blank=True, default="")
    conclusion = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    # Business identifiers: the orderer's and the performing lab's order numbers,
    # and whose numbering the filler number is (`source`, as interop SourceKeys).
    placer_number = models.CharField(max_length=80, blank=True, default="")
    filler_number = models.CharField(max_length=80, blank=True, default="")
    source = models.CharField(max_length=200, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    digest = models.CharField(
        max_length=64, blank=True, default="", help_text="hash of the current version"
    )
    sensitivity = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "filler_number"],
                condition=~models.Q(filler_number=""),
                name="result_filler_unique",
            )
        ]
        indexes = [
            models.Index(fields=["patient", "effective_at"], name="result_patient_idx"),
            models.Index(fields=["encounter"], name="result_encounter_idx"),
            models.Index(fields=["code"], name="result_code_idx"),
        ]
        ordering = ["-effective_at"]


class ResultVersion(Immutable):
    """One received version of a report: its status and text as they were, who sent
    it and why it changed. Immutable; the observations of a version carry its number."""

    immutable = "result versions are immutable; add a new version"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    report = models.ForeignKey(
        ResultReport, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=ResultStatus.choices)
    effective_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    conclusion = models.TextField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    reason = models.CharField(max_length=300, blank=True, default="")
    message = models.CharField(
        max_length=200, blank=True, default="", help_text="the sender's message id"
    )
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["report", "number"], name="result_version_unique"
            )
        ]
        ordering = ["report", "number"]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"


class ResultObservation(Coded, Immutable):
    """One result value (FHIR Observation): a quantity, text or code, its units,
    reference range and abnormal flags (HL7 table 0078). Immutable: a corrected
    value is a row of the report's next version."""

    immutable = "observations are immutable; correct the report"

    report = models.ForeignKey(
        ResultReport, on_delete=models.PROTECT, related_name="observations"
    )
    report_version = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField(default=1)
    sub_id = models.CharField(max_length=20, blank=True, default="")
    value_type = models.CharField(max_length=3, help_text="HL7 table 0125: NM, ST, ...")
    # A number (NM, SN), with the comparator of an SN (<, >, <=, >=) and the second
    # number of a ratio or range (1:128, 10-20) and its separator.
    value_number = models.DecimalField(
        max_digits=24, decimal_places=8, null=True, blank=True
    )
    value_comparator = models.CharField(max_length=2, blank=True, default="")
    value_separator = models.CharField(max_length=1, blank=True, default="")
    value_number2 = models.DecimalField(
        max_digits=24, decimal_places=8, null=True, blank=True
    )
    value_text = models.TextField(
        blank=True, default="", help_text="the value as sent (text, or a code's text)"
    )
    value_code_system = models.CharField(max_length=200, blank=True, default="")
    value_code = models.CharField(max_length=64, blank=True, default="")
    units = models.CharField(max_length=40, blank=True, default="")
    units_system = models.CharField(max_length=200, blank=True, default="")
    reference_range = models.CharField(max_length=60, blank=True, default="")
    abnormal_flags = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=20, choices=ResultStatus.choices, default=ResultStatus.FINAL
    )
    effective_at = models.DateTimeField(null=True, blank=True)
    # The laboratory that performed the test as the sender names it (OBX-23).
    performer_name = models.CharField(max_length=200, blank=True, default="")
    notes = models.TextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["report", "report_version"], name="observation_report_idx"
            ),
            models.Index(fields=["effective_at"], name="observation_effective_idx"),
            models.Index(fields=["code"], name="observation_code_idx"),
        ]
        ordering = ["report", "report_version", "sequence"]

    @property
    def patient_id(self) -> Any:
        """The report's patient (what audits and FHIR compartments ask a row)."""
        return self.report.patient_id

    @property
    def encounter_id(self) -> Any:
        return self.report.encounter_id

    @property
    def abnormal(self) -> bool:
        return any(f not in ("", "N") for f in self.abnormal_flags or [])

    def value_display(self) -> str:
        """The value as a reader expects it: "<0.5", "1:128", "POSITIVE", "7.2"."""
        if self.value_number is None:
            return self.value_text
        first = _number(self.value_number)
        if self.value_number2 is not None:
            return f"{self.value_comparator}{first}{self.value_separator}" + _number(
                self.value_number2
            )
        return f"{self.value_comparator}{first}"


def _number(value: Any) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
