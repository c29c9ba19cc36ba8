"""Lab and radiology results: reports (each received version kept) with their
observations. Models of the records app (re-exported by records.models)."""

from __future__ import annotations

from typing import Any

from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Facility, Patient

from .models import Coded, Encounter, Immutable, Provider


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
