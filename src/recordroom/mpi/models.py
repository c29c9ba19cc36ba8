"""Patients and what identifies them, with history (periods) on every part."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from recordroom.kernel.ids import uuid7


def validate_timezone(value: str) -> None:
    """An IANA zone name such as America/Chicago (times are shown in it)."""
    from zoneinfo import available_timezones

    if value not in available_timezones():
        raise ValidationError(
            f"{value!r} is not an IANA time zone name (e.g. America/Chicago)"
        )


class MrnSource(models.TextChoices):
    HERE = "here", "Assigned here at registration"
    EXTERNAL = "external", "From another system (typed or sent)"


class MrnCheckDigit(models.TextChoices):
    NONE = "none", "None"
    LUHN = "luhn", "Luhn (mod 10)"
    MOD11 = "mod11", "Mod 11 (as the NHS number)"


class Facility(models.Model):
    """A hospital, clinic or nursing home: the assigning authority of its MRNs."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    mrn_system = models.CharField(
        max_length=200,
        unique=True,
        help_text="Identifier system URI (or OID) of its MRNs",
    )
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    npi = models.CharField(max_length=10, blank=True, default="")
    # MRN assignment (mpi.mrn): a facility either numbers its own patients here, from
    # a sequence, or takes its MRNs from another system (then they are typed or sent).
    mrn_source = models.CharField(
        max_length=10, choices=MrnSource.choices, default=MrnSource.EXTERNAL
    )
    mrn_next = models.PositiveBigIntegerField(
        default=1, help_text="The number the next registration here is given"
    )
    mrn_width = models.PositiveSmallIntegerField(
        default=8, help_text="Digits of the number, zero padded (check digit apart)"
    )
    mrn_prefix = models.CharField(max_length=10, blank=True, default="")
    mrn_check_digit = models.CharField(
        max_length=8, choices=MrnCheckDigit.choices, default=MrnCheckDigit.NONE
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="facilities",
        help_text="Users whose work covers this facility's patients",
    )

    class Meta:
        verbose_name_plural = "facilities"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


# Demographics of US Core that are kept as data (import, update, read, merge).
US_CORE_FIELDS = ("race", "ethnicity", "birth_sex", "marital_status", "communication",
                  "multiple_birth", "birth_order", "deceased_at", "deceased")  # fmt: skip


class Patient(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    birth_date = models.DateField(null=True, blank=True, db_index=True)
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=64, blank=True, default="")
    deceased_date = models.DateField(null=True, blank=True)
    # US Core 6.1 demographics, kept as sent (FHIR shapes) and returned on read.
    # race/ethnicity: {"ombCategory": [Coding], "detailed": [Coding], "text": str}.
    race = models.JSONField(default=dict, blank=True)
    ethnicity = models.JSONField(default=dict, blank=True)
    birth_sex = models.CharField(
        max_length=4,
        blank=True,
        default="",
        help_text="us-core-birthsex: F M ASKU UNK OTH",
    )
    marital_status = models.JSONField(
        default=dict, blank=True, help_text="a CodeableConcept"
    )
    communication = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"language": CodeableConcept, "preferred": bool}]',
    )
    multiple_birth = models.BooleanField(null=True, blank=True)
    birth_order = models.PositiveSmallIntegerField(null=True, blank=True)
    deceased_at = models.DateTimeField(null=True, blank=True)
    deceased = models.BooleanField(default=False)
    is_vip = models.BooleanField(default=False)
    is_employee = models.BooleanField(default=False)
    is_restricted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who registered the record and through what (ui, api, hl7, fhir, import, demo):
    # the MPI dashboard's duplicate rate by creator.
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_via = models.CharField(max_length=16, blank=True, default="")
    # Set when this record was merged into another (it is then retired, kept).
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
    )

    # Not a field: a search sets it to the names it already fetched (avoids N+1).
    names_cache: list[PatientName] | None = None

    def __str__(self) -> str:
        return f"Patient {self.pk}"

    @property
    def confidentiality_flags(self) -> list[str]:
        flags = [("VIP", self.is_vip), ("Employee", self.is_employee)]
        flags.append(("Restricted", self.is_restricted))
        return [name for name, on in flags if on]

    def legal_name(self) -> PatientName | None:
        names = self.names_cache
        pool = list(names) if names is not None else list(self.names.all())
        current = [n for n in pool if n.use == NameUse.LEGAL and n.period_end is None]
        choices = current or pool
        return choices[0] if choices else None


class Period(models.Model):
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_current(self) -> bool:
        return self.period_end is None


class IdentifierKind(models.TextChoices):
    MRN = "MR", "Medical record number"
    ENTERPRISE = "EID", "Enterprise id"
    SSN = "SS", "Social Security number"
    MEMBER = "MB", "Insurance member id"
    DRIVER = "DL", "Driver's licence"
    OTHER = "OT", "Other"


UNIQUE_KINDS = (IdentifierKind.MRN, IdentifierKind.ENTERPRISE)

# HL7 table 0203 identifier types that senders put in PID-3 most (the rest are
# shown by their code alone).
IDENTIFIER_TYPES = {
    "MR": "medical record number",
    "PI": "patient internal identifier",
    "PT": "patient external identifier",
    "PN": "person number",
    "AN": "account number",
    "VN": "visit number",
    "MB": "member number",
    "MA": "Medicaid number",
    "MC": "Medicare number",
    "SS": "Social Security number",
    "DL": "driver's licence",
    "PPN": "passport number",
    "EI": "employee number",
    "NI": "national unique identifier",
    "NH": "national health plan identifier",
    "HC": "health card number",
    "JHN": "jurisdictional health number",
    "U": "unspecified",
}


class PatientIdentifier(Period):
    """An identifier from an assigning authority. SSNs are stored encrypted.

    `value` is what may be shown (an SSN shows only its last four); `lookup` is the
    exact-match key (for an SSN, a keyed hash of the full number).
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="identifiers"
    )
    kind = models.CharField(max_length=3, choices=IdentifierKind.choices)
    system = models.CharField(max_length=200, help_text="Assigning authority URI/OID")
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT
    )
    value = models.CharField(max_length=100)
    lookup = models.CharField(max_length=100)
    secret = models.BinaryField(null=True, blank=True)
    last4 = models.CharField(max_length=4, blank=True, default="")
    # The identifier type as the sender named it (HL7 table 0203: MR, PI, PT, AN,
    # ...; PID-3.5), kept beside our kind, which groups them ("Other" for most).
    type_code = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["lookup"], name="ident_lookup_idx"),
            models.Index(fields=["kind", "last4"], name="ident_last4_idx"),
            models.Index(fields=["patient", "kind"], name="ident_patient_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "lookup"],
                condition=models.Q(kind__in=["MR", "EID"]),
                name="ident_unique_mrn_eid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"

    @property
    def kind_label(self) -> str:
        """The kind as staff read it, with the sender's type when it says more
        ("Other (PI patient internal identifier)")."""
        label = self.get_kind_display()
        if not self.type_code or self.type_code == self.kind:
            return label
        words = IDENTIFIER_TYPES.get(self.type_code)
        return f"{label} ({self.type_code}{f' {words}' if words else ''})"


class NameUse(models.TextChoices):
    LEGAL = "legal", "Legal"
    PREVIOUS = "previous", "Previous"
    MAIDEN = "maiden", "Maiden"
    ALIAS = "alias", "Alias"


class PatientName(Period):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="names")
    use = models.CharField(
        max_length=10, choices=NameUse.choices, default=NameUse.LEGAL
    )
    family = models.CharField(max_length=100)
    given = models.CharField(max_length=100, blank=True, default="")
    middle = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=20, blank=True, default="")
    suffix = models.CharField(max_length=20, blank=True, default="")
    family_key = models.CharField(max_length=100, editable=False)
    given_key = models.CharField(max_length=100, editable=False, blank=True, default="")
    # Metaphone code of family_key (mpi.search_keys.sound_key): search finds Smyth
    # when Smith is typed.
    family_sound = models.CharField(
        max_length=40, editable=False, blank=True, default=""
    )

    class Meta:
        ordering = ["period_end", "-period_start"]
        # With the patient id, both cover a name search read in key order (FHIR
        # Patient paging reads a page off them without touching the table).
        indexes = [
            models.Index(
                fields=["family_key", "given_key", "patient"],
                name="name_family_given_pat_idx",
            ),
            models.Index(
                fields=["given_key", "family_key", "patient"],
                name="name_given_family_pat_idx",
            ),
            models.Index(
                fields=["family_sound", "given_key", "patient"],
                name="name_sound_given_pat_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.display

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.family_key and not self.family_sound:
            from .search_keys import sound_key

            self.family_sound = sound_key(self.family_key)
        super().save(*args, **kwargs)

    @property
    def display(self) -> str:
        given = " ".join(p for p in (self.given, self.middle) if p)
        suffix = f" {self.suffix}" if self.suffix else ""
        return f"{self.family.upper()}, {given}{suffix}".strip(", ")


class PatientAddress(Period):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="addresses"
    )
    use = models.CharField(max_length=10, default="home")
    # The address type as the sender named it (HL7 table 0190, PID-11.7: H home,
    # M mailing, B firm, C current, O office, P permanent ...), beside `use`.
    type_code = models.CharField(max_length=3, blank=True, default="")
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True, default="")
    city = models.CharField(max_length=100)
    # A US state's two-letter code; elsewhere the province or region as written.
    state = models.CharField(max_length=100, blank=True, default="")
    postal_code = models.CharField(max_length=20, db_index=True, blank=True, default="")
    country = models.CharField(max_length=2, default="US")  # ISO 3166-1 alpha-2

    class Meta:
        ordering = ["period_end", "-period_start"]

    def __str__(self) -> str:
        parts = [self.line1, self.line2, self.city,
                 f"{self.state} {self.postal_code}".strip()]  # fmt: skip
        if self.country and self.country != "US":
            parts.append(self.country)
        return ", ".join(p for p in parts if p)


class PatientTelecom(Period):
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="telecoms"
    )
    system = models.CharField(max_length=10, default="phone")  # phone, email
    use = models.CharField(max_length=10, default="home")  # home, mobile, work
    value = models.CharField(max_length=200)

    class Meta:
        ordering = ["period_end", "-period_start"]

    def __str__(self) -> str:
        return f"{self.system} ({self.use}) {self.value}"


class PatientMerge(models.Model):
    """One merge of a retired record into a survivor, with what moved, so that an
    unmerge restores exactly what was there."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    retired = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField()
    merged_by = models.CharField(max_length=150)
    source = models.CharField(max_length=20, help_text="ui, api, hl7 (A40), fhir")
    reason = models.CharField(max_length=500)
    moved = models.JSONField(
        default=dict, help_text="model label -> ids of the rows moved to the survivor"
    )
    restore = models.JSONField(
        default=dict,
        help_text="survivor fields, identifier periods and names to put back on unmerge",
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=150, blank=True, default="")
    undo_reason = models.CharField(max_length=500, blank=True, default="")
    # The guards a manager merged past, and why (empty: no rule stood in the way).
    overridden = models.JSONField(default=list, blank=True)
    override_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-merged_at"]
        permissions = [("override_merge_rules", "Merge two records past a merge rule "
                        "(twins, junior/senior, two SSNs), giving a reason")]  # fmt: skip
        indexes = [
            models.Index(fields=["retired"], name="merge_retired_idx"),
            models.Index(fields=["survivor"], name="merge_survivor_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"merge {self.retired_id} -> {self.survivor_id} ({self.merged_at:%Y-%m-%d})"
        )


class HeldMergeStatus(models.TextChoices):
    PENDING = "pending", "Pending review"
    MERGED = "merged", "Approved and merged"
    REJECTED = "rejected", "Rejected"


class HeldMerge(models.Model):
    """An inbound merge (HL7 ADT^A40) the rules would refuse, or whose two records
    disagree on birth date and name: held for a specialist to approve or reject."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    survivor = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    retired = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=20, default="hl7")
    sender = models.CharField(max_length=200, blank=True, default="")
    control_id = models.CharField(max_length=200, blank=True, default="")
    reasons = models.JSONField(default=list)
    held_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=HeldMergeStatus.choices,
                              default=HeldMergeStatus.PENDING)  # fmt: skip
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")
    merge = models.ForeignKey(PatientMerge, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")  # fmt: skip

    class Meta:
        ordering = ["held_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["survivor", "retired"],
                condition=models.Q(status="pending"),
                name="held_merge_one_pending",
            )
        ]

    def __str__(self) -> str:
        return f"held merge {self.retired_id} -> {self.survivor_id} ({self.status})"


class OverlayStatus(models.TextChoices):
    OPEN = "open", "Open"
    SPLIT = "split", "Split"
    DISMISSED = "dismissed", "Not an overlay"


class OverlayFlag(models.Model):
    """A sign that one chart holds two people, for the overlay worklist."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="overlay_flags"
    )
    kind = models.CharField(max_length=40)
    summary = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict)
    detected_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=OverlayStatus.choices, default=OverlayStatus.OPEN
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=models.Q(status="open"),
                name="overlay_one_open_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.patient_id} ({self.status})"


class PatientSplit(models.Model):
    """Rows moved out of an overlaid chart to another patient, so it can be undone."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    source = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    target_created = models.BooleanField(default=False)
    flag = models.ForeignKey(
        OverlayFlag, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    split_at = models.DateTimeField()
    split_by = models.CharField(max_length=150)
    reason = models.CharField(max_length=500)
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.CharField(max_length=150, blank=True, default="")
    undo_reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-split_at"]

    def __str__(self) -> str:
        return f"split {self.source_id} -> {self.target_id} ({self.split_at:%Y-%m-%d})"


class PairDecisionKind(models.TextChoices):
    NOT_DUPLICATE = "not-duplicate", "Not a duplicate"
    LINKED = "linked", "Same person, records kept apart"
    DEFERRED = "deferred", "Deferred"


class PairDecision(models.Model):
    """A specialist's decision on two records (left id < right id). `fingerprint`
    is of both records' identifying data when decided: a "not a duplicate" stands
    until that data changes."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    left = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    right = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=16, choices=PairDecisionKind.choices)
    note = models.CharField(max_length=500, blank=True, default="")
    fingerprint = models.CharField(max_length=64)
    decided_at = models.DateTimeField()
    decided_by = models.CharField(max_length=150)
    current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["left", "right"],
                condition=models.Q(current=True),
                name="pair_one_current_decision",
            )
        ]

    def __str__(self) -> str:
        return f"{self.left_id} / {self.right_id}: {self.decision}"
