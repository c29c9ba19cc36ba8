"""The disclosure log behind the accounting of disclosures (R-AOD): every disclosure
recorded with its legal basis, never edited or deleted (database triggers), only
corrected by a new entry; which legal bases are accountable (R-AOD-2), as data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.kernel.text import with_article
from recordroom.mpi.models import Patient
from recordroom.mpi.services import in_scope
from recordroom.records.models import Document

from .models import Disclosure, ReleaseRequest, RequesterType

PART2_LABELS = frozenset({"ETH", "SUD"})  # R-P2-1


@dataclass(frozen=True)
class LegalBasis:
    """A ground on which PHI may leave, and whether the patient's accounting lists
    it (R-AOD-2: `excluded` names the exclusion, blank when accountable)."""

    code: str
    label: str
    cite: str
    excluded: str = ""

    @property
    def accountable(self) -> bool:
        return not self.excluded


LEGAL_BASES: dict[str, LegalBasis] = {
    b.code: b
    for b in (
        # Accountable: mainly 164.512, and any impermissible disclosure (R-AOD-2).
        LegalBasis("required-by-law", "Required by law", "164.512(a)"),
        LegalBasis("public-health", "Public health activity", "164.512(b)"),
        LegalBasis(
            "abuse-report",
            "Report of abuse, neglect or domestic violence",
            "164.512(c)",
        ),
        LegalBasis("oversight", "Health oversight", "164.512(d)"),
        LegalBasis("court-order", "Court or tribunal order", "164.512(e)(1)(i)"),
        LegalBasis(
            "subpoena",
            "Subpoena or lawful process with satisfactory assurances",
            "164.512(e)(1)(ii)",
        ),
        LegalBasis("law-enforcement", "Law enforcement", "164.512(f)"),
        LegalBasis(
            "coroner", "Coroner, medical examiner or funeral director", "164.512(g)"
        ),
        LegalBasis("organ-donation", "Organ, eye or tissue donation", "164.512(h)"),
        LegalBasis(
            "research-waiver",
            "Research under an IRB or privacy board waiver",
            "164.512(i)",
        ),
        LegalBasis(
            "serious-threat",
            "Averting a serious threat to health or safety",
            "164.512(j)",
        ),
        LegalBasis(
            "government-functions", "Specialized government functions", "164.512(k)"
        ),
        LegalBasis("workers-comp", "Workers' compensation", "164.512(l)"),
        LegalBasis("impermissible", "Impermissible disclosure", "164.528(a)"),
        # Excluded from the accounting, R-AOD-2 (i)-(viii).
        LegalBasis("treatment", "Treatment", "164.506", "R-AOD-2 (i)"),
        LegalBasis("payment", "Payment", "164.506", "R-AOD-2 (i)"),
        LegalBasis("operations", "Health care operations", "164.506", "R-AOD-2 (i)"),
        LegalBasis(
            "individual",
            "To the individual (right of access)",
            "164.524",
            "R-AOD-2 (ii)",
        ),
        LegalBasis(
            "incidental",
            "Incidental to a permitted disclosure",
            "164.502(a)(1)(iii)",
            "R-AOD-2 (iii)",
        ),
        LegalBasis(
            "authorization",
            "Under the individual's authorization",
            "164.508",
            "R-AOD-2 (iv)",
        ),
        LegalBasis("directory", "Facility directory", "164.510(a)", "R-AOD-2 (v)"),
        LegalBasis(
            "involved-in-care",
            "Persons involved in care, or notification",
            "164.510(b)",
            "R-AOD-2 (v)",
        ),
        LegalBasis(
            "national-security",
            "National security or intelligence",
            "164.512(k)(2)",
            "R-AOD-2 (vi)",
        ),
        LegalBasis(
            "custody",
            "Correctional institution or law enforcement custody",
            "164.512(k)(5)",
            "R-AOD-2 (vii)",
        ),
        LegalBasis(
            "limited-data-set",
            "Limited data set under a data use agreement",
            "164.514(e)",
            "R-AOD-2 (viii)",
        ),
    )
}

# The basis a requester type implies when none is given. An attorney or a
# researcher may come with an authorization or under 164.512: it must be said.
# A copy sent where the patient directs (R-ACC-5) is part of the right of access.
DEFAULT_BASIS: dict[str, str] = {
    RequesterType.PATIENT: "individual",
    RequesterType.REPRESENTATIVE: "individual",
    RequesterType.THIRD_PARTY_DIRECTIVE: "individual",
    RequesterType.AUTHORIZED: "authorization",
    RequesterType.PROVIDER: "treatment",
    RequesterType.PAYER: "payment",
    RequesterType.COURT_ORDER: "court-order",
    RequesterType.SUBPOENA: "subpoena",
    RequesterType.LAW_ENFORCEMENT: "law-enforcement",
    RequesterType.PUBLIC_HEALTH: "public-health",
}


# Other spellings met at intake, kept under the code above.
ALIASES = {"irb-waiver": "research-waiver"}


def resolve_basis(requester_type: str, legal_basis: str) -> LegalBasis:
    """The legal basis given, or the one the requester type implies.

    Raises:
        ValidationFailed: an unknown code, or none given where the requester type
            does not imply one."""
    code = (legal_basis or DEFAULT_BASIS.get(requester_type, "")).strip()
    code = ALIASES.get(code, code)
    if not code:
        raise ValidationFailed(
            "say on what legal basis records went to "
            f"{with_article(requester_type or 'recipient')} "
            f"(one of {', '.join(LEGAL_BASES)})",
            field="legal_basis",
        )
    if code not in LEGAL_BASES:
        raise ValidationFailed(
            f"unknown legal basis {code!r}; use one of {', '.join(LEGAL_BASES)}",
            field="legal_basis",
        )
    return LEGAL_BASES[code]


def is_accountable(requester_type: str, legal_basis: str) -> bool:
    """Whether a disclosure belongs in the patient's accounting (R-AOD-2): not for
    treatment, payment or operations, to the individual, under an authorization,
    for the directory, national security, custody or a limited data set; every
    other disclosure, mainly 164.512 ones and impermissible ones, is."""
    return resolve_basis(requester_type, legal_basis).accountable


_FIELDS = (
    "disclosed_at",
    "recipient_name",
    "recipient_address",
    "description",
    "purpose",
    "legal_basis",
    "requester_type",
    "part2",
    "documents",
    "pages",
    "patient",
    "retracted",
)


def record_disclosure(
    *,
    actor: Actor,
    patient: Patient,
    request: ReleaseRequest | None = None,
    disclosed_at: datetime | date,
    recipient_name: str,
    recipient_address: str = "",
    description: str,
    purpose: str,
    legal_basis: str,
    requester_type: str = "",
    part2: bool = False,
    documents: Iterable[Any] = (),
    pages: int = 0,
) -> Disclosure:
    """Enter one disclosure in the log (R-AOD-4: date, recipient and address, what,
    purpose and basis): a release, or a disclosure made outside a request (a public
    health report, say). Part 2 is set when a document carries ETH or SUD.

    Raises:
        PermissionDenied: the patient is outside the actor's facilities.
        ValidationFailed: a missing entry field or an unknown legal basis, by name.
    """
    if request is not None:
        if request.patient_id != patient.pk:
            raise ValidationFailed(
                f"request {request.number} is for another patient", field="request"
            )
        requester_type = requester_type or request.requester_type
        legal_basis = legal_basis or request.legal_basis
        recipient_address = recipient_address or request.requester_address
    row = Disclosure(request=request, corrects=None, correction_note="")
    _fill(
        actor,
        row,
        {
            "patient": patient,
            "disclosed_at": disclosed_at,
            "recipient_name": recipient_name,
            "recipient_address": recipient_address,
            "description": description,
            "purpose": purpose,
            "legal_basis": legal_basis,
            "requester_type": requester_type,
            "part2": part2,
            "documents": _documents(documents, patient),
            "pages": pages,
            "retracted": False,
        },
    )
    with transaction.atomic():
        row.save(force_insert=True)
        _audit(actor, row)
    return row


def correct(
    *, actor: Actor, entry: Disclosure, note: str, **changes: Any
) -> Disclosure:
    """Put an entry right with a NEW entry that `corrects` it (the old one is never
    edited): the changed fields over a copy of the rest. `retracted=True` says the
    entry was recorded in error; then neither shows in the accounting.

    Raises:
        ValidationFailed: no note, an unknown field, an entry already corrected
            (correct the correction), or a bad value."""
    if not note.strip():
        raise ValidationFailed("say what the correction puts right", field="note")
    unknown = sorted(set(changes) - set(_FIELDS))
    if unknown:
        raise ValidationFailed(
            f"cannot correct {', '.join(unknown)}; corrections change "
            f"{', '.join(_FIELDS)}",
            field=unknown[0],
        )
    if not changes:
        raise ValidationFailed(
            "a correction changes at least one field", field="changes"
        )
    later = Disclosure.objects.filter(corrects=entry).values_list("pk", flat=True)
    if later:
        raise ValidationFailed(
            f"entry {entry.pk} was already corrected by {later[0]}; correct that one",
            field="entry",
        )
    values = {f: getattr(entry, f) for f in _FIELDS}
    if "documents" in changes:
        changes["documents"] = _documents(
            changes["documents"], changes.get("patient", entry.patient)
        )
    values.update(changes)
    row = Disclosure(
        request=entry.request, corrects=entry, correction_note=note.strip()[:500]
    )
    _fill(actor, row, values)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
            _audit(actor, row, changed=sorted(changes))
    except IntegrityError:  # another desk corrected it first
        raise ValidationFailed(
            f"entry {entry.pk} was corrected meanwhile; reload", field="entry"
        ) from None
    return row


def _fill(actor: Actor, row: Disclosure, v: dict[str, Any]) -> None:
    """Check and set the entry's fields (shared by a new entry and a correction)."""
    patient = v["patient"]
    if not in_scope(actor.user, patient):
        raise PermissionDenied(f"patient {patient.pk} has no record at your facilities",
                               patient_id=patient.pk)  # fmt: skip
    for name, rule in (
        ("recipient_name", "(ii)"),
        ("description", "(iii)"),
        ("purpose", "(iv)"),
    ):
        if not str(v[name] or "").strip():
            raise ValidationFailed(
                f"an accounting entry needs its {name.replace('_', ' ')} "
                f"(R-AOD-4 {rule})",
                field=name,
            )
    requester_type = v["requester_type"] or ""
    if requester_type and requester_type not in RequesterType.values:
        raise ValidationFailed(
            f"unknown requester type {requester_type!r}", field="requester_type"
        )
    basis = resolve_basis(requester_type, v["legal_basis"])
    pages = v["pages"]
    if not isinstance(pages, int) or pages < 0:
        raise ValidationFailed(
            f"pages must be a whole number, not {pages!r}", field="pages"
        )
    docs = v["documents"]
    row.patient = patient
    row.disclosed_at = _when(v["disclosed_at"])
    row.recipient_name = v["recipient_name"].strip()[:200]
    row.recipient_address = (v["recipient_address"] or "").strip()
    row.description = v["description"].strip()
    row.purpose = v["purpose"].strip()
    row.legal_basis = basis.code
    row.requester_type = requester_type
    row.accountable = basis.accountable
    row.part2 = bool(v["part2"]) or any(
        PART2_LABELS & set(d.get("labels", ())) for d in docs
    )
    row.documents = docs
    row.pages = pages
    row.retracted = bool(v["retracted"])
    row.recorded_at = timezone.now()
    row.recorded_by = actor.username


def _when(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        when = value if timezone.is_aware(value) else timezone.make_aware(value)
    elif isinstance(value, date):
        when = timezone.make_aware(datetime.combine(value, time(12)))
    else:
        raise ValidationFailed(
            f"disclosed_at must be a date or time, not {value!r}", field="disclosed_at"
        )
    if when > timezone.now() + timedelta(minutes=5):
        raise ValidationFailed(
            f"disclosure date {when:%Y-%m-%d %H:%M} is in the future",
            field="disclosed_at",
        )
    return when


def _documents(documents: Iterable[Any], patient: Patient) -> list[dict[str, Any]]:
    """What went out, as the entry keeps it: documents (or their ids) of this
    patient or of records merged into it; already-kept entries pass through."""
    docs = list(documents)
    kept = [d for d in docs if isinstance(d, dict)]
    ids = [
        d.pk if isinstance(d, Document) else d for d in docs if not isinstance(d, dict)
    ]
    if not ids:
        return kept
    rows = list(
        Document.objects.filter(pk__in=ids).values(
            "id",
            "patient_id",
            "patient__merged_into_id",
            "doc_type__code",
            "title",
            "service_start",
            "facility__timezone",
            "sensitivity",
        )
    )
    if len(rows) != len({str(i) for i in ids}):
        raise ValidationFailed("a document listed does not exist", field="documents")
    for r in rows:
        if patient.pk not in (r["patient_id"], r["patient__merged_into_id"]):
            raise ValidationFailed(
                f"document {r['id']} is another patient's", field="documents"
            )
    return kept + [
        {
            "id": str(r["id"]),
            "type": r["doc_type__code"],
            "title": r["title"],
            "date": clock.short_date(r["service_start"], r["facility__timezone"]),
            "labels": sorted(r["sensitivity"] or []),
        }
        for r in rows
    ]


def _audit(actor: Actor, row: Disclosure, *, changed: list[str] | None = None) -> None:
    detail: dict[str, Any] = {
        "recipient": row.recipient_name,
        "legal_basis": row.legal_basis,
        "accountable": row.accountable,
        "part2": row.part2,
        "disclosed_at": row.disclosed_at.isoformat(),
        "documents": len(row.documents),
    }
    if row.corrects_id:
        detail |= {
            "corrects": str(row.corrects_id),
            "changed": changed or [],
            "retracted": row.retracted,
        }
    record(
        actor=actor,
        action=actions.RELEASE_DISCLOSURE.name,
        patient=row.patient,
        obj=row,
        detail=detail,
    )
