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

from django.conf import settings
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
from recordroom.mpi.models import (
    IdentifierKind,
    NameUse,
    PatientIdentifier,
    PatientName,
)
from recordroom.records import services as records
from recordroom.records.models import (
    Document,
    DocumentType,
    DocumentVersion,
    Provider,
    Signature,
    SignatureMeaning,
)

from .delinquency import Aging
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
# Read as flat rows, not model instances: a provider with 500 open deficiencies gets
# the page in one query for the list and one each for names and MRNs.

_FIELDS = (
    "id", "kind", "description", "document_id", "due_at", "assigned_at", "patient_id",
    "facility_id", "encounter__account_number", "encounter__discharge_at",
    "facility__code", "facility__timezone", "document__doc_type__display",
)  # fmt: skip
_KINDS = dict(Kind.choices)


@dataclass(slots=True)
class Row:
    """One open deficiency as the inbox lists it, its age worked out."""

    id: Any
    kind: str
    description: str
    document_id: Any
    due_at: datetime | None
    assigned_at: datetime
    patient_id: Any
    facility_id: Any
    account: str
    discharge_at: datetime | None
    facility: str
    zone: str
    document_type: str
    age: Aging = Aging(None, 0, 0)
    overdue: bool = False

    @property
    def kind_display(self) -> str:
        return _KINDS.get(self.kind, self.kind)

    @property
    def signable(self) -> bool:
        return self.kind in SIGNABLE and self.document_id is not None

    @property
    def days(self) -> int:
        """Days since discharge (in house: since assigned)."""
        since = self.age.days_since_discharge
        return since if since is not None else self.age.days_since_assignment


def age_of(discharge: datetime | None, assigned: datetime, now: datetime) -> Aging:
    """As completion.delinquency.aging, from the two instants."""
    since = (now - discharge).days if discharge is not None else None
    level = sum(1 for days in settings.COMPLETION_AGING_LEVELS
                if since is not None and since >= days)  # fmt: skip
    return Aging(since, (now - assigned).days, level)


@dataclass
class PatientGroup:
    patient_id: Any
    name: str
    mrn: str
    rows: list[Row]

    @property
    def oldest_days(self) -> int:
        return max(r.days for r in self.rows)


def open_rows(
    *, provider: Provider, limit: int = 1000, now: datetime | None = None
) -> list[Row]:
    """The provider's open deficiencies, oldest first, with their age."""
    now = now or timezone.now()
    qs = (
        Deficiency.objects.filter(provider=provider, status=Status.OPEN)
        .order_by("opened_at", "id")
        .values_list(*_FIELDS)[: max(1, min(limit, 5000))]
    )
    rows = []
    for values in qs:
        row = Row(*values)
        row.age = age_of(row.discharge_at, row.assigned_at, now)
        row.overdue = row.due_at is not None and row.due_at < now
        rows.append(row)
    return rows


def by_patient(rows: list[Row]) -> list[PatientGroup]:
    """Rows grouped by patient (legal name, MRN at the visit's facility), the group
    with the oldest first."""
    ids = list(dict.fromkeys(r.patient_id for r in rows))
    pool: dict[Any, list[PatientName]] = {}
    for n in PatientName.objects.filter(patient_id__in=ids):  # the model's ordering
        pool.setdefault(n.patient_id, []).append(n)
    names: dict[Any, str] = {}
    for pid, found in pool.items():  # as Patient.legal_name: current legal, else any
        current = [n for n in found if n.use == NameUse.LEGAL and n.period_end is None]
        names[pid] = (current or found)[0].display
    mrns: dict[tuple[Any, Any], str] = {}
    for pid, fid, value in PatientIdentifier.objects.filter(
        patient_id__in=ids, kind=IdentifierKind.MRN
    ).values_list("patient_id", "facility_id", "value"):
        mrns.setdefault((pid, fid), value)
        mrns.setdefault((pid, None), value)
    groups: dict[Any, PatientGroup] = {}
    for r in rows:
        group = groups.get(r.patient_id)
        if group is None:
            mrn = mrns.get((r.patient_id, r.facility_id)) or mrns.get(
                (r.patient_id, None), ""
            )
            group = groups[r.patient_id] = PatientGroup(
                r.patient_id, names.get(r.patient_id, "(no name)"), mrn, []
            )
        group.rows.append(r)
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
