"""Deficiency rules (data, versioned), provider standing (resident, student, APP),
deficiencies with their history, and each visit's last analysis."""

from __future__ import annotations

from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import Document, Encounter, Provider


class Kind(models.TextChoices):
    MISSING_DOCUMENT = "missing-document", "Missing document"
    SIGNATURE = "signature", "Signature"
    COSIGNATURE = "cosignature", "Co-signature"
    VERBAL_ORDER = "verbal-order", "Verbal order authentication"
    DICTATION = "dictation", "Dictation pending"
    INCOMPLETE = "incomplete-content", "Incomplete content"
    QUERY = "query", "Query pending"
    OTHER = "other", "Other"


# The kinds a rule computes; the others are added by hand (or by later apps).
RULE_KINDS = (
    Kind.MISSING_DOCUMENT,
    Kind.SIGNATURE,
    Kind.COSIGNATURE,
    Kind.VERBAL_ORDER,
    Kind.DICTATION,
    Kind.INCOMPLETE,
)
# Kinds about one document of the chart (one deficiency per document).
DOCUMENT_KINDS = frozenset(RULE_KINDS) - {Kind.MISSING_DOCUMENT}


class Event(models.TextChoices):
    ADMISSION = "admission", "Admission"
    DISCHARGE = "discharge", "Discharge"
    PROCEDURE_START = "procedure-start", "Surgery or procedure start"
    PROCEDURE_END = "procedure-end", "Surgery or procedure end"
    DOCUMENT = "document", "The document's own date"


class Responsible(models.TextChoices):
    ATTENDING = "attending", "Attending"
    ADMITTING = "admitting", "Admitting"
    SURGEON = "surgeon", "Surgeon (the procedure's performer)"
    AUTHOR = "author", "The document's author"


class Standing(models.TextChoices):
    PHYSICIAN = "physician", "Physician (independent)"
    RESIDENT = "resident", "Resident"
    STUDENT = "student", "Student"
    APP = "app", "Advanced practice provider"


class DeficiencyRule(models.Model):
    """One requirement a chart must meet (DESIGN.md rule 12). Changing it makes a new
    version (DeficiencyRuleVersion keeps every one, who and when)."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    cites = models.CharField(
        max_length=100, blank=True, default="", help_text="rule IDs: R-RC-3, ..."
    )
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="blank: every facility",
    )  # fmt: skip
    encounter_classes = models.JSONField(
        default=list, blank=True, help_text='e.g. ["IMP", "SS"]; empty: every class'
    )
    service = models.CharField(
        max_length=100, blank=True, default="",
        help_text="the visit's service (a code or text of its types, or the "
        "attending's specialty); blank: every service",
    )  # fmt: skip
    kind = models.CharField(max_length=20, choices=Kind.choices)
    doc_types = models.JSONField(
        default=list, blank=True, help_text="document type codes (LOINC or local)"
    )
    event = models.CharField(max_length=20, choices=Event.choices)
    window_before_hours = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="a document counts from this many hours before the event "
        "(blank: any time)",
    )  # fmt: skip
    window_after_hours = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="a document counts up to this many hours after the event "
        "(blank: any time after)",
    )  # fmt: skip
    due_hours = models.PositiveIntegerField(
        default=0,
        help_text="hours after the event the requirement is due (for verbal orders: "
        "VERBAL_ORDER_AUTH_HOURS)",
    )
    update_doc_types = models.JSONField(
        default=list, blank=True,
        help_text="a document found before the event needs one of these after it "
        "(the H&P update note, R-RC-3)",
    )  # fmt: skip
    update_within_hours = models.PositiveIntegerField(default=24)
    author_roles = models.JSONField(
        default=list, blank=True,
        help_text="co-signature: authors of these standings (resident, student, app)",
    )  # fmt: skip
    required_phrases = models.JSONField(
        default=list, blank=True,
        help_text="incomplete content: each must appear (any case); 'a|b' is either",
    )  # fmt: skip
    procedure_codes = models.JSONField(
        default=list, blank=True,
        help_text="procedure events: codes (or prefixes) that count; empty: every one",
    )  # fmt: skip
    responsible = models.CharField(max_length=12, choices=Responsible.choices)
    in_house = models.BooleanField(
        default=False, help_text="also applied before discharge"
    )
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class DeficiencyRuleVersion(models.Model):
    """A rule as it was at one version, with who changed it, when and why."""

    rule = models.ForeignKey(
        DeficiencyRule, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField()
    data = models.JSONField()
    changed_by = models.CharField(max_length=150)
    changed_at = models.DateTimeField()
    reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "version"], name="completion_rule_version_unique"
            )
        ]
        ordering = ["rule", "version"]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version} by {self.changed_by}"


class ProviderStanding(models.Model):
    """Whether a provider signs on their own or needs a co-signer (residents,
    students, advanced practice providers); a provider without a row is judged by
    their credentials (NP, PA, CNM, CRNA: APP)."""

    provider = models.OneToOneField(
        Provider, on_delete=models.CASCADE, related_name="standing"
    )
    standing = models.CharField(max_length=12, choices=Standing.choices)
    supervisor = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.provider}: {self.get_standing_display()}"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    WAIVED = "waived", "Waived"
    REFUSED = "refused", "Refused by provider"


class Deficiency(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="deficiencies"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    rule = models.ForeignKey(
        DeficiencyRule, null=True, blank=True, on_delete=models.PROTECT,
        related_name="deficiencies",
    )  # fmt: skip
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    # What within the visit the rule is about: "" (the visit), "update", "proc:<id>",
    # "doc:<id>"; a hand-added deficiency gets "hand:<id>".
    anchor = models.CharField(max_length=60)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=300)
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT,
        related_name="deficiencies",
    )  # fmt: skip
    assigned_at = models.DateTimeField()
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.CharField(max_length=300, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["encounter", "anchor", "rule"],
                condition=models.Q(rule__isnull=False),
                name="completion_deficiency_unique",
            )
        ]
        indexes = [
            models.Index(fields=["provider", "status"], name="deficiency_provider_idx"),
            models.Index(fields=["facility", "status"], name="deficiency_facility_idx"),
        ]
        ordering = ["opened_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.description}"


class DeficiencyEvent(models.Model):
    """What happened to a deficiency: opened, closed, reopened, reassigned, waived,
    refused, added by hand (the audit trail holds the same, with the actor)."""

    deficiency = models.ForeignKey(
        Deficiency, on_delete=models.CASCADE, related_name="history"
    )
    at = models.DateTimeField()
    by = models.CharField(max_length=150)
    what = models.CharField(max_length=20)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.what} at {self.at:%Y-%m-%d %H:%M} by {self.by}"


class ChartAnalysis(models.Model):
    """A visit's last analysis: when, and how many deficiencies it left open (the
    specialists' worklists: awaiting analysis, deficient, complete for coding)."""

    encounter = models.OneToOneField(
        Encounter, on_delete=models.CASCADE, related_name="analysis", primary_key=True
    )
    analyzed_at = models.DateTimeField()
    open_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.encounter_id}: {self.open_count} open"


class LetterStatus(models.TextChoices):
    WRITTEN = "written", "Written (to print: no e-mail sent)"
    SENT = "sent", "Sent by e-mail"
    FAILED = "failed", "E-mail failed"


class LetterLevel(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    DELINQUENT = "delinquent", "Delinquent records"
    SUSPENSION = "suspension", "Suspension notice"


class ProviderLetter(models.Model):
    """A letter to a provider about their incomplete records at one facility (the PDF
    kept encrypted in the blob store by its hash), and whether it went by e-mail."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="completion_letters"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=12, choices=LetterLevel.choices)
    as_of = models.DateTimeField()
    records = models.PositiveIntegerField()
    deficiencies = models.PositiveIntegerField()
    oldest_discharge = models.DateTimeField()
    # the deficiencies the letter lists, with their visits: {"deficiencies": [...],
    # "encounters": [...]}
    detail = models.JSONField(default=dict, blank=True)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    email = models.CharField(max_length=254, blank=True, default="")
    status = models.CharField(max_length=10, choices=LetterStatus.choices)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(
                fields=["provider", "facility", "created_at"],
                name="completion_letter_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} to {self.provider} ({self.created_at:%Y-%m-%d})"
