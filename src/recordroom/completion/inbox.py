"""The provider's inbox: their open deficiencies by patient and age, signing the
exact version they read (R-RC-1), one by one or in a pass where each is shown
first, filing a missing document, and the sections a landing page counts.

The inbox is a list of sections (deficiencies first); other work for a provider
(queries, R-QRY) joins it with `register_section`, the way a plugin would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from recordroom.mpi.models import IdentifierKind, Patient, PatientIdentifier
from recordroom.records import services as records
from recordroom.records.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Provider,
    Signature,
    SignatureMeaning,
)

from .delinquency import Aging, aging
from .models import Deficiency, Kind, Status

# The kinds a signature by the assigned provider settles, and as what they sign.
SIGNABLE = frozenset({Kind.SIGNATURE, Kind.COSIGNATURE, Kind.VERBAL_ORDER})
# The reads that count as having opened a version before signing it.
READS = (
    actions.DOCUMENT_VIEW.name,
    actions.DOCUMENT_DOWNLOAD.name,
    actions.DOCUMENT_PRINT.name,
)
BATCH_MAX = 200


# --- sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxSection:
    """One kind of work in a provider's inbox: its key, heading and open count."""

    key: str
    title: str
    count: Callable[[Provider], int]


_SECTIONS: list[InboxSection] = []


def register_section(section: InboxSection) -> None:
    """Add a section (e.g. queries awaiting an answer); a key is registered once."""
    if any(s.key == section.key for s in _SECTIONS):
        raise ValueError(f"inbox section {section.key!r} is registered twice")
    _SECTIONS.append(section)


def sections() -> list[InboxSection]:
    return list(_SECTIONS)


def _open_deficiencies(provider: Provider) -> int:
    return Deficiency.objects.filter(provider=provider, status=Status.OPEN).count()


register_section(InboxSection("deficiencies", "Deficiencies", _open_deficiencies))


def counts(*, provider: Provider) -> dict[str, int]:
    """Open items per section (the landing page's badge is their sum)."""
    return {s.key: s.count(provider) for s in _SECTIONS}


def provider_of(user: Any) -> Provider | None:
    """The active provider linked to a user account, if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Provider.objects.filter(user_id=user.pk, active=True).first()


def require_provider(actor: Actor) -> Provider:
    provider = provider_of(actor.user)
    if provider is None:
        raise PermissionDenied(
            f"user {actor.username} is not linked to an active provider; an "
            "administrator links the provider record to the user"
        )
    return provider


# --- the list ---------------------------------------------------------------------------


@dataclass
class Row:
    deficiency: Deficiency
    age: Aging

    @property
    def signable(self) -> bool:
        return (
            self.deficiency.kind in SIGNABLE and self.deficiency.document_id is not None
        )

    @property
    def days(self) -> int:
        since = self.age.days_since_discharge
        return since if since is not None else self.age.days_since_assignment

    @property
    def overdue(self) -> bool:
        due = self.deficiency.due_at
        return due is not None and due < timezone.now()


@dataclass
class PatientGroup:
    patient: Patient
    name: str
    mrn: str
    rows: list[Row]

    @property
    def oldest_days(self) -> int:
        """The age of the oldest: days since discharge (in house: since assigned)."""
        return max(r.days for r in self.rows)


def open_items(*, provider: Provider, limit: int = 1000) -> list[Deficiency]:
    """The provider's open deficiencies with what a page shows, oldest first."""
    mrns = PatientIdentifier.objects.filter(kind=IdentifierKind.MRN)
    qs = (
        Deficiency.objects.filter(provider=provider, status=Status.OPEN)
        .select_related(
            "encounter", "facility", "rule", "document__doc_type", "patient"
        )  # fmt: skip
        .prefetch_related("patient__names", Prefetch("patient__identifiers", mrns))
        .order_by("opened_at", "id")
    )
    return list(qs[: max(1, min(limit, 5000))])


def by_patient(
    items: list[Deficiency], *, now: datetime | None = None
) -> list[PatientGroup]:
    """Deficiencies grouped by patient, the group with the oldest first."""
    now = now or timezone.now()
    groups: dict[Any, PatientGroup] = {}
    for d in items:
        group = groups.get(d.patient_id)
        if group is None:
            legal = d.patient.legal_name()
            mrn = next((i for i in d.patient.identifiers.all()
                        if i.facility_id == d.facility_id), None)  # fmt: skip
            mrn = mrn or next(iter(d.patient.identifiers.all()), None)
            group = groups[d.patient_id] = PatientGroup(
                d.patient, legal.display if legal else "(no name)",
                mrn.value if mrn else "", [],
            )  # fmt: skip
        group.rows.append(Row(d, aging(d, now=now)))
    return sorted(groups.values(), key=lambda g: -g.oldest_days)


# --- one deficiency ---------------------------------------------------------------------


def own_deficiency(*, actor: Actor, deficiency_id: Any) -> Deficiency:
    """A deficiency assigned to the signed-in provider (any status)."""
    provider = require_provider(actor)
    try:
        d = Deficiency.objects.select_related(
            "encounter", "facility", "rule", "document__doc_type", "provider"
        ).get(pk=deficiency_id)
    except Exception:  # a malformed id and a missing row both mean: no such one
        raise NotFound(f"no deficiency with id '{deficiency_id}'") from None
    if d.provider_id != provider.pk:
        raise PermissionDenied("that deficiency is assigned to another provider",
                               patient_id=d.patient_id)  # fmt: skip
    return d


def meaning_for(deficiency: Deficiency, provider: Provider) -> str:
    """What the provider's signature means for this deficiency."""
    if deficiency.kind == Kind.COSIGNATURE:
        return SignatureMeaning.COSIGNER
    doc = deficiency.document
    if (
        deficiency.kind == Kind.SIGNATURE
        and doc is not None
        and doc.author_id == provider.pk
    ):
        return SignatureMeaning.AUTHOR
    return SignatureMeaning.AUTHENTICATOR


def was_read(*, actor: Actor, version: DocumentVersion) -> bool:
    """Whether the actor opened this exact version (an audited view, download or
    print of it): a provider signs only what they were shown."""
    return AuditEvent.objects.filter(
        patient_id=str(version.document.patient_id), user_id=str(actor.user_id or ""),
        object_type="records.documentversion", object_id=str(version.pk),
        action__in=READS,
    ).exists()  # fmt: skip


@dataclass
class Signed:
    deficiency: Deficiency
    signature: Signature

    @property
    def closed(self) -> bool:
        return self.deficiency.status == Status.CLOSED


def sign_deficiency(*, actor: Actor, deficiency: Deficiency, sha256: str) -> Signed:
    """Sign the document of a signature, co-signature or verbal-order deficiency
    (R-RC-1): the version must be the one the provider opened (its SHA-256 given
    back) and still the current one. The signature carries the version's hash, the
    signer (with credentials, in the audit event) and the time; the analysis then
    closes the deficiency (records.hooks)."""
    provider = require_provider(actor)
    if deficiency.provider_id != provider.pk:
        raise PermissionDenied("only the provider it is assigned to signs for it")
    if deficiency.status != Status.OPEN:
        raise Conflict(f"the deficiency is {deficiency.status}, not open")
    if deficiency.kind not in SIGNABLE or deficiency.document is None:
        raise Conflict(
            f"a {deficiency.get_kind_display().lower()} deficiency is not settled by a "
            "signature; file the document or refuse it with a reason"
        )
    sha = (sha256 or "").strip().lower()
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ValidationFailed(
            f"sha256 must be the 64 hex digits of the version you read, got "
            f"{sha256[:70]!r}", field="sha256",
        )  # fmt: skip
    doc = records.get_document(user=actor.user, document_id=deficiency.document_id)
    version = records.current_version(doc)
    if version.sha256 != sha:
        raise Conflict(
            f"the document changed since you opened it: version {version.number} is "
            "current now; open it again before signing"
        )
    if actor.user is not None and not was_read(actor=actor, version=version):
        raise Conflict(
            f"open version {version.number} of the document before signing it: a "
            "document is signed only after it was shown"
        )
    sig = records.sign_version(actor=actor, version=version, signer=provider,
                               meaning=meaning_for(deficiency, provider))  # fmt: skip
    deficiency.refresh_from_db()
    return Signed(deficiency, sig)


@dataclass
class BatchItem:
    deficiency_id: Any
    sha256: str


@dataclass
class BatchOutcome:
    deficiency_id: Any
    ok: bool
    closed: bool = False
    signature_id: Any = None
    error: str = ""


def sign_batch(*, actor: Actor, items: list[BatchItem]) -> list[BatchOutcome]:
    """Sign many in one pass, each on its own (one refusal does not undo the
    others), each under the same rule as one: the version shown, by its hash."""
    from recordroom.kernel.errors import RecordroomError

    if not items:
        raise ValidationFailed("name at least one deficiency to sign", field="items")
    if len(items) > BATCH_MAX:
        raise ValidationFailed(
            f"sign at most {BATCH_MAX} in one pass, got {len(items)}", field="items"
        )
    out = []
    for item in items:
        try:
            d = own_deficiency(actor=actor, deficiency_id=item.deficiency_id)
            done = sign_deficiency(actor=actor, deficiency=d, sha256=item.sha256)
        except RecordroomError as exc:
            out.append(BatchOutcome(item.deficiency_id, False, error=exc.message))
            continue
        out.append(
            BatchOutcome(item.deficiency_id, True, done.closed, done.signature.pk)
        )
    return out


def file_missing_document(
    *,
    actor: Actor,
    deficiency: Deficiency,
    data: bytes,
    filename: str,
    media_type: str = "",
    doc_type_code: str = "",
    service_start: datetime | None = None,
    title: str = "",
) -> tuple[Document, Deficiency]:
    """File the document a missing-document deficiency waits for into the visit's
    chart, authored by the provider; the analysis closes the deficiency when the
    document meets the rule (type and time window)."""
    provider = require_provider(actor)
    if deficiency.provider_id != provider.pk:
        raise PermissionDenied("only the provider it is assigned to files for it")
    if deficiency.status != Status.OPEN:
        raise Conflict(f"the deficiency is {deficiency.status}, not open")
    if deficiency.kind != Kind.MISSING_DOCUMENT:
        raise Conflict(
            f"a {deficiency.get_kind_display().lower()} deficiency is not settled by "
            "filing a document"
        )
    wanted = upload_types(deficiency)
    code = doc_type_code or (wanted[0].code if wanted else "")
    doc_type = next((t for t in wanted if t.code == code), None)
    if doc_type is None:
        raise ValidationFailed(
            f"document type {code!r} does not meet this deficiency; use one of "
            + (", ".join(t.code for t in wanted) or "(none configured)"),
            field="doc_type",
        )
    encounter = deficiency.encounter
    doc = records.file_document(
        actor=actor, patient=encounter.patient, doc_type=doc_type, data=data,
        filename=filename, media_type=media_type, encounter=encounter,
        service_start=service_start or timezone.now(), author=provider, title=title,
    )  # fmt: skip
    deficiency.refresh_from_db()
    return doc, deficiency


def upload_types(deficiency: Deficiency) -> list[DocumentType]:
    """The document types that meet a missing-document deficiency's rule (any
    active type for one added by hand)."""
    if deficiency.rule is None:
        return list(DocumentType.objects.filter(active=True).order_by("display"))
    codes = list(deficiency.rule.doc_types) if deficiency.rule else []
    if deficiency.anchor.endswith("update") and deficiency.rule:
        codes = list(deficiency.rule.update_doc_types)
    found = {
        t.code: t for t in DocumentType.objects.filter(code__in=codes, active=True)
    }
    return [found[c] for c in codes if c in found]
