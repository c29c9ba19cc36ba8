"""Query templates (data, versioned), queries with the clinical indicators they quote
(R-QRY-2), and the provider's answer kept with the signed document it went into
(R-QRY-5)."""

from __future__ import annotations

from django.db import models

from recordroom.completion.models import Deficiency
from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import (
    Document,
    DocumentVersion,
    Encounter,
    Provider,
    ResultObservation,
    Signature,
)


class Format(models.TextChoices):
    """R-QRY-4: open-ended is preferred; yes/no only on the grounds below."""

    OPEN = "open", "Open-ended"
    MULTIPLE = "multiple", "Multiple choice"
    YES_NO = "yes-no", "Yes/No"


class Purpose(models.TextChoices):
    """R-QRY-1: why a query may be sent."""

    CONFLICTING = "conflicting", "Conflicting documentation"
    INCOMPLETE = "incomplete", "Incomplete documentation"
    AMBIGUOUS = "ambiguous", "Ambiguous documentation"
    ILLEGIBLE = "illegible", "Illegible documentation"
    IMPRECISE = "imprecise", "Imprecise documentation (specificity)"
    UNSUPPORTED = "unsupported", "Clinically unsupported (clinical validation)"


class YesNoGround(models.TextChoices):
    """R-QRY-4: the only grounds on which a yes/no query is allowed."""

    NONE = "", "—"
    POA = "poa", "Establish present on admission (POA)"
    CONFIRM = "confirm", "Confirm or specify a diagnosis already documented"
    CAUSE = "cause-effect", "Cause and effect between documented conditions"
    CONFLICT = "conflict", "Resolve conflicting documentation between providers"


class IndicatorKind(models.TextChoices):
    """R-QRY-2: labs, vitals, imaging, medications and treatment, findings."""

    LAB = "lab", "Laboratory value"
    VITAL = "vital", "Vital sign"
    IMAGING = "imaging", "Imaging"
    MEDICATION = "medication", "Medication"
    TREATMENT = "treatment", "Treatment"
    FINDING = "finding", "Finding"
    DOCUMENTATION = "documentation", "Documentation (as written)"


class QueryTemplate(models.Model):
    """A query template: its format, purpose, question and the menu of options the
    author picks from (none is pre-selected, R-QRY-5). "Other" and "Clinically
    undetermined" are added to every multiple-choice query, never stored here."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    format = models.CharField(max_length=10, choices=Format.choices)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    question = models.TextField(
        help_text="the question as the author starts from; words in {braces} are "
        "replaced by the author (a query with braces left is refused)"
    )
    options = models.JSONField(
        default=list, blank=True,
        help_text="multiple choice: the clinical options the author may pick from",
    )  # fmt: skip
    yes_no_ground = models.CharField(
        max_length=14, choices=YesNoGround.choices, blank=True, default=""
    )
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    OPEN = "open", "Awaiting the provider"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Query(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    number = models.CharField(max_length=20, unique=True, help_text="QRY-YYYY-NNNNNN")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, related_name="queries"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="queries"
    )
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="the document the query is about (the answer may be its addendum)",
    )  # fmt: skip
    template = models.ForeignKey(
        QueryTemplate, null=True, blank=True, on_delete=models.PROTECT,
        related_name="queries",
    )  # fmt: skip
    template_version = models.PositiveIntegerField(null=True, blank=True)
    format = models.CharField(max_length=10, choices=Format.choices)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    yes_no_ground = models.CharField(
        max_length=14, choices=YesNoGround.choices, blank=True, default=""
    )
    question = models.TextField()
    options = models.JSONField(
        default=list, blank=True, help_text="as offered, in order (with the fixed ones)"
    )
    verbal = models.BooleanField(
        default=False, help_text="asked in person or by phone, documented here"
    )
    status = models.CharField(max_length=10, choices=Status.choices,
                              default=Status.OPEN)  # fmt: skip
    raised_at = models.DateTimeField()
    raised_by = models.CharField(max_length=150)
    raised_by_name = models.CharField(max_length=200, blank=True, default="")
    due_at = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=300, blank=True, default="")
    answer_text = models.TextField(blank=True, default="",
                                   help_text="'other': the provider's words")  # fmt: skip
    comment = models.TextField(blank=True, default="")
    agreed = models.BooleanField(
        null=True, blank=True,
        help_text="the provider documented a clarification the indicators support "
        "(multiple choice and yes/no: from the answer; otherwise the specialist)",
    )  # fmt: skip
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.CharField(max_length=150, blank=True, default="")
    answer_document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answer_version = models.ForeignKey(
        DocumentVersion, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    answer_signature = models.ForeignKey(
        Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.CharField(max_length=300, blank=True, default="")
    deficiency = models.ForeignKey(
        Deficiency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["raised_at", "number"]
        indexes = [
            models.Index(fields=["provider", "status"], name="query_provider_idx"),
            models.Index(fields=["status", "due_at"], name="query_status_due_idx"),
            models.Index(fields=["encounter"], name="query_encounter_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    @property
    def hours_to_answer(self) -> float | None:
        if self.answered_at is None:
            return None
        return round((self.answered_at - self.raised_at).total_seconds() / 3600, 1)


class QueryIndicator(models.Model):
    """One clinical indicator the query quotes, with its source and date (R-QRY-2):
    a result value (report and observation) or a span of a document's text (the
    document, the exact version and the page it was read on)."""

    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=14, choices=IndicatorKind.choices)
    label = models.CharField(max_length=200)
    value = models.TextField(help_text="the value or the words, as in the record")
    units = models.CharField(max_length=40, blank=True, default="")
    reference_range = models.CharField(max_length=60, blank=True, default="")
    flags = models.CharField(max_length=40, blank=True, default="")
    effective_at = models.DateTimeField()
    source = models.CharField(max_length=300, help_text="where it was read, in words")
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        DocumentVersion, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    page = models.PositiveIntegerField(null=True, blank=True)
    observation = models.ForeignKey(
        ResultObservation, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    prior_encounter = models.BooleanField(
        default=False, help_text="from an earlier visit (R-QRY-2 allows it)"
    )

    class Meta:
        ordering = ["query", "position"]

    def __str__(self) -> str:
        return f"{self.label}: {self.value}"
