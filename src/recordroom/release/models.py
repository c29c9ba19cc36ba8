"""Release of information: a request and everything done for it.

A `ReleaseRequest` is logged at intake (who asks, for whom, what, how it is to be
delivered) with its due date. The legal basis is an `Authorization` checked element
by element (R-AUTH-2/3/5, R-PN, R-P2) or a legal document (court order, subpoena
with assurances, R-DISC). Scoping makes one `ReleaseItem` per document considered,
included or left out with the reason. Redactions, the quality review, the packet,
its download link, letters and invoices hang off the request. Every release writes
`Disclosure` rows: the accounting of disclosures (R-AOD), never edited or deleted
(database triggers), only corrected by a new entry.

Configuration is data (DESIGN.md rule 10): `DeadlineRule` and `FeeSchedule` rows,
seeded with the federal defaults, editable in the admin.
"""

from __future__ import annotations

from django.db import models

from recordroom.kernel.ids import uuid7
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import Document, DocumentVersion, Encounter


class RequesterType(models.TextChoices):
    PATIENT = "patient", "The patient (right of access)"
    REPRESENTATIVE = "representative", "Personal representative (right of access)"
    THIRD_PARTY_DIRECTIVE = "directive", "Third party directed by the patient (R-ACC-5)"
    AUTHORIZED = "authorized", "Third party with an authorization"
    PROVIDER = "provider", "Another provider, for treatment"
    PAYER = "payer", "Payer"
    ATTORNEY = "attorney", "Attorney"
    COURT_ORDER = "court-order", "Court order"
    SUBPOENA = "subpoena", "Subpoena"
    LAW_ENFORCEMENT = "law-enforcement", "Law enforcement"
    PUBLIC_HEALTH = "public-health", "Public health"
    RESEARCH = "research", "Research"


# The individual's own right of access (R-ACC): the 30-day clock, access fees.
ACCESS_TYPES = (
    RequesterType.PATIENT,
    RequesterType.REPRESENTATIVE,
    RequesterType.THIRD_PARTY_DIRECTIVE,
)


class Channel(models.TextChoices):
    MAIL = "mail", "Mail"
    FAX = "fax", "Fax"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Portal"
    IN_PERSON = "in-person", "In person"
    PHONE = "phone", "Phone (confirmed in writing)"
    INTERFACE = "interface", "Electronic interface"


class Format(models.TextChoices):
    PAPER = "paper", "Paper"
    PDF = "pdf", "PDF"
    ELECTRONIC = "electronic", "Electronic copy (FHIR bundle and PDFs)"


class Delivery(models.TextChoices):
    DOWNLOAD = "download", "Secure download link"
    MAIL = "mail", "Mail"
    FAX = "fax", "Fax"
    PICKUP = "pickup", "In person"


class Status(models.TextChoices):
    RECEIVED = "received", "Received"
    PENDING = "pending", "Pending (waiting on the requester)"
    IN_PROGRESS = "in-progress", "In progress"
    QUALITY_REVIEW = "qa", "Quality review"
    READY = "ready", "Ready to release"
    RELEASED = "released", "Released"
    DENIED = "denied", "Denied"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (
    Status.RECEIVED,
    Status.PENDING,
    Status.IN_PROGRESS,
    Status.QUALITY_REVIEW,
    Status.READY,
)


class DeadlineRule(models.Model):
    """Days to act from receipt, and one extension, for a requester type in a state
    (blank state: everywhere; blank type: every type). The most specific row wins.
    Seeded: right of access 30 + 30 (R-ACC-2); the proposed 15 + 15 (R-ACC-2P) is a
    row with profile "proposed-15", used only when that profile is switched on."""

    state = models.CharField(max_length=2, blank=True, default="")
    requester_type = models.CharField(
        max_length=20, choices=RequesterType.choices, blank=True, default=""
    )
    profile = models.CharField(
        max_length=20, default="hipaa", help_text="hipaa, or proposed-15 (R-ACC-2P)"
    )
    days = models.PositiveIntegerField()
    extension_days = models.PositiveIntegerField(default=0)
    rule = models.CharField(max_length=40, blank=True, default="")
    note = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["state", "requester_type", "profile"],
                name="release_deadline_unique",
            )
        ]

    def __str__(self) -> str:
        who = self.requester_type or "any requester"
        return f"{who} in {self.state or 'any state'}: {self.days} days"


class FeeSchedule(models.Model):
    """What a release costs a kind of requester (R-ACC-6 for the patient's own
    access: cost-based or the flat electronic fee; state page tiers for others).

    `page_tiers` is a list of {"up_to": pages or null, "cents": per page}, applied
    in order to paper/PDF pages. Search and retrieval fees never apply to the
    patient's access (R-ACC-6 guidance)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    requester_types = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=2, blank=True, default="")
    electronic_flat_cents = models.PositiveIntegerField(null=True, blank=True)
    page_tiers = models.JSONField(default=list, blank=True)
    search_fee_cents = models.PositiveIntegerField(default=0)
    retrieval_fee_cents = models.PositiveIntegerField(default=0)
    media_cents = models.PositiveIntegerField(default=0)
    postage_cents = models.PositiveIntegerField(default=0)
    max_cents = models.PositiveIntegerField(null=True, blank=True)
    active = models.BooleanField(default=True)
    rule = models.CharField(max_length=40, blank=True, default="")
    note = models.TextField(
        blank=True, default="", help_text="where the figures come from; examples to set"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ReleaseRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    number = models.CharField(max_length=20, unique=True, help_text="ROI-YYYY-NNNNNN")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="release_requests"
    )
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    requester_type = models.CharField(max_length=20, choices=RequesterType.choices)
    requester_name = models.CharField(max_length=200)
    requester_organization = models.CharField(max_length=200, blank=True, default="")
    requester_address = models.TextField(blank=True, default="")
    requester_email = models.CharField(max_length=200, blank=True, default="")
    requester_phone = models.CharField(max_length=40, blank=True, default="")
    representative_authority = models.CharField(
        max_length=300, blank=True, default="",
        help_text="a personal representative's authority (guardian, POA, executor)",
    )  # fmt: skip
    state = models.CharField(
        max_length=2, blank=True, default="", help_text="whose state law applies"
    )
    received_on = models.DateField()
    channel = models.CharField(max_length=12, choices=Channel.choices)
    identity_verified = models.BooleanField(default=False)
    verification_method = models.CharField(max_length=300, blank=True, default="")
    verified_by = models.CharField(max_length=150, blank=True, default="")
    purpose = models.CharField(max_length=300, blank=True, default="")
    # what is asked for
    entire_record = models.BooleanField(default=False)
    entire_record_reason = models.CharField(
        max_length=300, blank=True, default="",
        help_text="why the entire record is needed (R-MIN-6), for a third party",
    )  # fmt: skip
    date_from = models.DateField(null=True, blank=True)
    date_to = models.DateField(null=True, blank=True)
    encounters = models.ManyToManyField(Encounter, blank=True, related_name="+")
    document_types = models.JSONField(
        default=list, blank=True, help_text="document type codes asked for"
    )
    format = models.CharField(max_length=12, choices=Format.choices)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    # the legal basis when there is no authorization: a court order, a subpoena
    # with its assurances (R-DISC-3), law enforcement process, public health ...
    legal_basis = models.CharField(max_length=40, blank=True, default="")
    legal_detail = models.JSONField(default=dict, blank=True)
    # workflow
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    status_note = models.CharField(max_length=500, blank=True, default="")
    due_on = models.DateField()
    extended_to = models.DateField(null=True, blank=True)
    extension_reason = models.CharField(max_length=500, blank=True, default="")
    deadline_rule = models.CharField(max_length=80, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    release_number = models.CharField(max_length=24, blank=True, default="")

    class Meta:
        ordering = ["due_on", "number"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="release_status_due_idx"),
            models.Index(fields=["patient", "received_on"], name="release_patient_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def deadline(self) -> object:
        return self.extended_to or self.due_on


class AuthorizationKind(models.TextChoices):
    HIPAA = "hipaa", "HIPAA authorization (164.508)"
    PSYCHOTHERAPY = "psychotherapy", "Psychotherapy notes authorization (R-PN-2)"
    PART2 = "part2", "42 CFR Part 2 consent (R-P2-2)"
    PART2_COUNSELING = "part2-notes", "Part 2 SUD counseling notes consent (R-P2-4)"
    DIRECTIVE = "directive", "Patient's written access directive (R-ACC-5)"


class Authorization(models.Model):
    """A signed authorization or consent as received, checked element by element.

    `elements` maps each element code of the kind's checklist (authorizations.py)
    to {"present": bool, "note": str}, as the specialist recorded it. `covers`
    lists the sensitivity labels the form specifically authorizes (SUD, PSYTHPN,
    HIV ...): a labelled document is released only if covered."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="release_authorizations"
    )
    request = models.ForeignKey(
        ReleaseRequest, null=True, blank=True, on_delete=models.PROTECT,
        related_name="authorizations",
    )  # fmt: skip
    kind = models.CharField(max_length=16, choices=AuthorizationKind.choices)
    elements = models.JSONField(default=dict, blank=True)
    recipient = models.CharField(max_length=300, blank=True, default="")
    purpose = models.CharField(max_length=300, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    signed_on = models.DateField(null=True, blank=True)
    signed_by = models.CharField(max_length=200, blank=True, default="")
    representative_signed = models.BooleanField(
        default=False,
        help_text="a personal representative signed: their authority must be "
        "described (R-AUTH-2 element 6)",
    )
    tpo = models.BooleanField(
        default=False,
        help_text="a single Part 2 consent for treatment, payment and health care "
        "operations (R-P2-3): it authorizes nothing else",
    )
    expires_on = models.DateField(null=True, blank=True)
    expiration_event = models.CharField(max_length=300, blank=True, default="")
    expiration_event_occurred = models.BooleanField(default=False)
    covers = models.JSONField(default=list, blank=True)
    compound_with = models.CharField(
        max_length=300, blank=True, default="",
        help_text="another document the form is combined with (R-AUTH-6)",
    )  # fmt: skip
    conditions_treatment = models.BooleanField(
        default=False,
        help_text="treatment or payment conditioned on signing (R-AUTH-7)",
    )
    conditioning_exception = models.CharField(
        max_length=20, blank=True, default="",
        help_text="the R-AUTH-7 exception that allows conditioning, if any",
    )  # fmt: skip
    known_false = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_note = models.CharField(max_length=500, blank=True, default="")
    scan_sha256 = models.CharField(max_length=64, blank=True, default="")
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} signed {self.signed_on}"


class ReleaseItem(models.Model):
    """One document considered for a request: included, or left out and why
    (outside the scope, a sensitivity label the basis does not cover, R-PN-3 ...).
    `excluded_pages` are 1-based pages of the version left out of the packet."""

    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.CASCADE, related_name="items"
    )
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        DocumentVersion, on_delete=models.PROTECT, related_name="+"
    )
    included = models.BooleanField(default=True)
    reason = models.CharField(max_length=300, blank=True, default="")
    rule = models.CharField(max_length=40, blank=True, default="")
    labels = models.JSONField(default=list, blank=True)
    pages = models.PositiveIntegerField(default=0)
    excluded_pages = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "document"], name="release_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id} ({'in' if self.included else 'out'})"


class Redaction(models.Model):
    """A region (PDF points, origin bottom-left) or a text to remove from a page of
    an item; the packet carries the page as an image with the region blacked out,
    so that the redacted content is not in the file at all."""

    item = models.ForeignKey(
        ReleaseItem, on_delete=models.CASCADE, related_name="redactions"
    )
    page = models.PositiveIntegerField(help_text="1-based page of the version")
    x = models.FloatField(null=True, blank=True)
    y = models.FloatField(null=True, blank=True)
    width = models.FloatField(null=True, blank=True)
    height = models.FloatField(null=True, blank=True)
    text = models.CharField(max_length=300, blank=True, default="")
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"redaction p{self.page} of item {self.item_id}"


class QualityReview(models.Model):
    """The check before release (a second person unless the setting allows the
    same one in a separate step): every page belongs to this patient and scope."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.PROTECT, related_name="reviews"
    )
    reviewed_at = models.DateTimeField()
    reviewed_by = models.CharField(max_length=150)
    passed = models.BooleanField()
    checks = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=500, blank=True, default="")
    packet_sha256 = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-reviewed_at"]

    def __str__(self) -> str:
        return f"review of {self.request_id} by {self.reviewed_by}"


class Packet(models.Model):
    """A built release packet (PDF, or a zip for an electronic copy), stored
    encrypted in the blob store."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.PROTECT, related_name="packets"
    )
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    media_type = models.CharField(max_length=60)
    pages = models.PositiveIntegerField(default=0)
    release_number = models.CharField(max_length=24)
    built_at = models.DateTimeField()
    built_by = models.CharField(max_length=150)
    contents = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-built_at"]

    def __str__(self) -> str:
        return f"packet {self.release_number}"


class DownloadLink(models.Model):
    """An expiring, passcode-protected link to a released packet. Only hashes of the
    token and the passcode are stored; every download and failed try is audited."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    packet = models.ForeignKey(Packet, on_delete=models.PROTECT, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    passcode_hash = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    expires_at = models.DateTimeField()
    max_downloads = models.PositiveIntegerField(default=5)
    downloads = models.PositiveIntegerField(default=0)
    failed_attempts = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link to {self.packet_id} until {self.expires_at:%Y-%m-%d}"


class LetterKind(models.TextChoices):
    ACKNOWLEDGMENT = "acknowledgment", "Acknowledgment"
    DEFECT = "defect", "Defective authorization / pend"
    EXTENSION = "extension", "Extension notice"
    DENIAL = "denial", "Denial"
    INVOICE = "invoice", "Invoice"
    COVER = "cover", "Cover letter"
    ACCOUNTING = "accounting", "Accounting of disclosures"
    REVIEW = "review", "Denial review decision"


class Letter(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        ReleaseRequest, null=True, blank=True, on_delete=models.PROTECT,
        related_name="letters",
    )  # fmt: skip
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} letter {self.created_at:%Y-%m-%d}"


class Denial(models.Model):
    """A denial in whole or part with its ground (R-ACC-7 unreviewable, R-ACC-8
    reviewable) and, for a reviewable one, the review by another professional."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.PROTECT, related_name="denials"
    )
    ground = models.CharField(max_length=40)
    reviewable = models.BooleanField()
    basis = models.TextField()
    partial = models.BooleanField(default=False)
    denied_by = models.CharField(max_length=150)
    professional = models.CharField(max_length=200, blank=True, default="")
    denied_at = models.DateTimeField()
    review_requested_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.CharField(max_length=200, blank=True, default="")
    review_outcome = models.CharField(max_length=20, blank=True, default="")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"denial ({self.ground}) of {self.request_id}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    WAIVED = "waived", "Waived"
    VOID = "void", "Void"


class Invoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(max_length=24, unique=True)
    schedule = models.ForeignKey(
        FeeSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lines = models.JSONField(default=list, help_text="[{description, cents}]")
    total_cents = models.IntegerField()
    status = models.CharField(
        max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )
    waiver_reason = models.CharField(max_length=300, blank=True, default="")
    void_reason = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return self.number

    @property
    def paid_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments.all())


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="payments"
    )
    amount_cents = models.IntegerField()
    method = models.CharField(max_length=20)
    reference = models.CharField(max_length=100, blank=True, default="")
    received_at = models.DateTimeField()
    received_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.amount_cents} cents on {self.invoice_id}"


class Disclosure(models.Model):
    """One disclosure of a patient's PHI: the accounting of disclosures (R-AOD-4).
    Append-only (database triggers refuse UPDATE and DELETE); a mistake is put right
    by a new entry whose `corrects` points at it.

    `accountable` is whether it belongs in the patient's accounting (R-AOD-2
    excludes TPO, the patient, authorizations ...); `part2` marks Part 2 records,
    accounted for three years (R-P2-8)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    request = models.ForeignKey(
        ReleaseRequest, null=True, blank=True, on_delete=models.PROTECT,
        related_name="disclosures",
    )  # fmt: skip
    disclosed_at = models.DateTimeField()
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.TextField(blank=True, default="")
    description = models.TextField(help_text="what was disclosed")
    purpose = models.TextField()
    legal_basis = models.CharField(max_length=40)
    requester_type = models.CharField(max_length=20, blank=True, default="")
    accountable = models.BooleanField()
    part2 = models.BooleanField(default=False)
    documents = models.JSONField(default=list, blank=True)
    pages = models.PositiveIntegerField(default=0)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    correction_note = models.CharField(max_length=500, blank=True, default="")
    retracted = models.BooleanField(
        default=False,
        help_text="a correction saying the entry it corrects was recorded in error: "
        "no disclosure happened, so neither shows in the accounting",
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-disclosed_at"]
        indexes = [
            models.Index(
                fields=["patient", "disclosed_at"], name="disclosure_patient_idx"
            ),
        ]
        constraints = [
            # an entry is corrected once: a later fix corrects the correction
            models.UniqueConstraint(
                fields=["corrects"], name="disclosure_corrected_once"
            )
        ]

    def __str__(self) -> str:
        return f"disclosure to {self.recipient_name} on {self.disclosed_at:%Y-%m-%d}"


class AccountingRequest(models.Model):
    """A patient's request for an accounting of disclosures (R-AOD-5: 60 days, one
    30-day extension; R-AOD-6: the first in twelve months is free)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    received_on = models.DateField()
    due_on = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    fee_cents = models.IntegerField(default=0)
    produced_at = models.DateTimeField(null=True, blank=True)
    produced_by = models.CharField(max_length=150, blank=True, default="")
    entries = models.PositiveIntegerField(default=0)
    letter = models.ForeignKey(
        Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.CharField(max_length=200, blank=True, default="")
    summarise = models.BooleanField(
        default=False,
        help_text="list repeated disclosures to one recipient for one purpose once, "
        "with their number and the date of the last (R-AOD-4 (b)(3))",
    )
    extended_to = models.DateField(null=True, blank=True)
    extension_reason = models.CharField(max_length=500, blank=True, default="")
    fee_agreed_at = models.DateTimeField(
        null=True, blank=True, help_text="the individual was told the fee and agreed"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["patient", "received_on"], name="accounting_request_pat_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"accounting for {self.patient_id} received {self.received_on}"


class AccountingSuspension(models.Model):
    """A health oversight agency's or law enforcement official's statement that an
    accounting would impede its activities (R-AOD-3): disclosures to that agency are
    left out of accountings given while it runs. Written: the period it states;
    oral: at most 30 days unless a written statement follows. No patient: it
    applies to every patient."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.CharField(max_length=200, help_text="as named on its disclosures")
    written = models.BooleanField()
    statement = models.TextField(help_text="the agency's statement, who made it, how")
    starts_on = models.DateField()
    ends_on = models.DateField()
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return f"accounting suspended for {self.agency} to {self.ends_on}"


class DeliveryRecord(models.Model):
    """A released packet sent or handed over other than through its download link:
    mailed (carrier, tracking number), faxed (number, confirmation), picked up (who,
    how their identity was checked)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    request = models.ForeignKey(
        ReleaseRequest, on_delete=models.PROTECT, related_name="deliveries"
    )
    packet = models.ForeignKey(Packet, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=10, choices=Delivery.choices)
    detail = models.CharField(max_length=500)
    delivered_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-delivered_at"]

    def __str__(self) -> str:
        return f"{self.method} delivery of {self.request_id}"
