"""An amendment request (R-AMD-1), the entries it concerns, and its letters.

The clock counts calendar days on the facility's calendar from receipt (R-AMD-2);
the decision, the statement of disagreement and the rebuttal (R-AMD-6) are kept on
the request, each entry's outcome and appended version on its entry."""

from __future__ import annotations

from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import Document, DocumentVersion, Provider


class ReceivedHow(models.TextChoices):
    MAIL = "mail", "Mail"
    PORTAL = "portal", "Patient portal"
    IN_PERSON = "in-person", "In person"
    FAX = "fax", "Fax"
    EMAIL = "email", "Email"
    OTHER_ENTITY = "other-entity", "From another covered entity"


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    AUTHOR_REVIEW = "author-review", "With the author"
    REVIEWED = "reviewed", "Author reviewed"
    ACCEPTED = "accepted", "Accepted"
    PARTIAL = "partial", "Partly accepted"
    DENIED = "denied", "Denied"


OPEN_STATUSES = (Status.RECEIVED, Status.AUTHOR_REVIEW, Status.REVIEWED)


class Ground(models.TextChoices):
    """Why an amendment may be denied (R-AMD-3, 164.526(a)(2))."""

    NOT_CREATED_HERE = "not-created-here", "Not created by us"
    NOT_IN_RECORD_SET = "not-in-record-set", "Not part of the designated record set"
    NOT_AVAILABLE = "not-available", "Not available for inspection"
    ACCURATE = "accurate", "Accurate and complete"


class AmendmentRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    number = models.CharField(max_length=20, unique=True, help_text="AMD-YYYY-NNNNNN")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="amendment_requests"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    received_how = models.CharField(max_length=14, choices=ReceivedHow.choices)
    requested_by = models.CharField(max_length=200)
    address = models.TextField(blank=True, default="")
    change = models.TextField(help_text="what the patient asks to change, as written")
    reason = models.TextField(help_text="why, as written (R-AMD-1)")
    notify = models.JSONField(
        default=list, blank=True,
        help_text='people to send the amendment to: [{"name", "address", "why"}]',
    )  # fmt: skip
    source_entity = models.CharField(
        max_length=200, blank=True, default="",
        help_text="the covered entity that sent an amendment to apply (R-AMD-7)",
    )  # fmt: skip
    status = models.CharField(
        max_length=14, choices=Status.choices, default=Status.RECEIVED
    )
    due_on = models.DateField()
    extended_to = models.DateField(null=True, blank=True)
    extension_reason = models.CharField(max_length=500, blank=True, default="")
    author = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    routed_at = models.DateTimeField(null=True, blank=True)
    author_agrees = models.BooleanField(null=True, blank=True)
    author_comment = models.TextField(blank=True, default="")
    author_reviewed_at = models.DateTimeField(null=True, blank=True)
    author_reviewed_by = models.CharField(max_length=150, blank=True, default="")
    amendment_text = models.TextField(blank=True, default="")
    ground = models.CharField(max_length=20, choices=Ground.choices, blank=True,
                              default="")  # fmt: skip
    basis = models.TextField(blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="")
    disagreement = models.TextField(blank=True, default="")
    disagreement_on = models.DateField(null=True, blank=True)
    rebuttal = models.TextField(blank=True, default="")
    rebuttal_at = models.DateTimeField(null=True, blank=True)
    include_with_disclosures = models.BooleanField(
        default=False,
        help_text="no statement filed, but the patient asked that the request and the "
        "denial go with every later disclosure (R-AMD-5 (iii))",
    )
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_on", "number"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="amendment_status_due_idx"),
            models.Index(
                fields=["patient", "received_on"], name="amendment_patient_idx"
            ),  # fmt: skip
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def deadline(self):  # type: ignore[no-untyped-def]
        return self.extended_to or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def disputed(self) -> bool:
        """Denied in whole or part and the materials travel with the information
        (R-AMD-6 (d)(5)): a statement was filed, or the patient asked."""
        return self.status in (Status.DENIED, Status.PARTIAL) and bool(
            self.disagreement or self.include_with_disclosures
        )


class EntryOutcome(models.TextChoices):
    PENDING = "", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DENIED = "denied", "Denied"


class AmendmentEntry(models.Model):
    """An entry of the record the request concerns: the document and the version
    the patient read; once accepted, the version that carries the amendment."""

    request = models.ForeignKey(
        AmendmentRequest, on_delete=models.PROTECT, related_name="entries"
    )
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=EntryOutcome.choices,
                               blank=True, default="")  # fmt: skip
    amended_version = models.ForeignKey(
        DocumentVersion, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "document"], name="amendment_entry_unique"
            )  # fmt: skip
        ]
        indexes = [models.Index(fields=["document"], name="amendment_entry_doc_idx")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.document_id}"


class LetterKind(models.TextChoices):
    EXTENSION = "extension", "Extension notice"
    ACCEPTANCE = "acceptance", "Acceptance"
    DENIAL = "denial", "Denial"
    PARTIAL = "partial", "Partial acceptance and denial"
    NOTICE = "notice", "Amendment sent to a named person"
    REBUTTAL = "rebuttal", "Copy of our rebuttal"


class AmendmentLetter(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        AmendmentRequest, on_delete=models.PROTECT, related_name="letters"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=LetterKind.choices)
    recipient = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.kind} letter to {self.recipient}"
