"""Search before create for every registration (the web form, the API, ADT A04/A28,
any interface that registers): score the incoming record against the index, then
by the facility's thresholds link it to the existing record (its new identifiers
are added there), create it and send the pair to review, or create it.

Every registration leaves a `MatchDecision` with the best candidate's probability
and evidence; automatic links are sampled from there for a person to check.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, sqlrows, unit
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.mpi import mrn
from recordroom.mpi.models import (
    Facility,
    IdentifierKind,
    OverlayFlag,
    OverlayStatus,
    Patient,
    PatientIdentifier,
)
from recordroom.mpi.services import (
    SSN_SYSTEM,
    IdentifierIn,
    PatientIn,
    add_identifiers,
    identifier_lookup,
    in_scope,
    register_patient,
    ssn_lookup,
)

from . import autolink
from .models import LinkReview, MatchDecision, MatchOutcome
from .realtime import Candidate, as_uuid, match_patient

WRONG_LINK = "wrong-auto-link"  # the overlay flag a rejected automatic link raises


@dataclass(frozen=True)
class Thresholds:
    """Probability at or above `auto_link`: link; at or above `review`: create and
    send the pair to review; below: create."""

    auto_link: float
    review: float

    def band(self, probability: float) -> str:
        if probability >= self.auto_link:
            return MatchOutcome.LINKED
        if probability >= self.review:
            return MatchOutcome.REVIEW
        return MatchOutcome.CREATED


def thresholds_for(facility: Facility | None) -> Thresholds:
    """The facility's thresholds from RECORDROOM_MPI_THRESHOLDS, else its '*' entry.

    Raises:
        ImproperlyConfigured: the entry is not two probabilities with
            0 <= review <= auto_link <= 1.
    """
    conf: dict[str, Any] = settings.MPI_THRESHOLDS
    entry = (conf.get(facility.code) if facility else None) or conf.get("*")
    try:
        limits = Thresholds(float(entry["auto_link"]), float(entry["review"]))  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        raise ImproperlyConfigured(
            "RECORDROOM_MPI_THRESHOLDS needs {'auto_link': P, 'review': P} for "
            f"{facility.code if facility else '*'!r} (or '*'), got {entry!r}"
        ) from None
    if not 0 <= limits.review <= limits.auto_link <= 1:
        raise ImproperlyConfigured(
            "RECORDROOM_MPI_THRESHOLDS: review must be at most auto_link, both "
            f"between 0 and 1, got {entry!r}"
        )
    return limits


@dataclass
class Registration:
    """What a registration came to: the chart it ended on and why."""

    patient: Patient
    outcome: str
    decision: MatchDecision
    candidates: list[Candidate] = field(default_factory=list)  # best first
    thresholds: Thresholds | None = None
    assigned_mrn: str = ""  # the MRN the facility's sequence gave, if one was


def facility_of(data: PatientIn) -> Facility | None:
    """The registering facility: that of the first MRN."""
    return next(
        (i.facility for i in data.identifiers
         if i.kind == IdentifierKind.MRN and i.facility is not None), None,
    )  # fmt: skip


def preview(data: PatientIn, *, limit: int = 5) -> tuple[list[Candidate], Thresholds]:
    """The candidates and thresholds a registration would meet; nothing written (an
    MRN still to be assigned is left out of the match)."""
    facility = facility_of(data)
    return _candidates(mrn.prepare(data).data, limit), thresholds_for(facility)


def expected_outcome(
    data: PatientIn, found: list[Candidate], limits: Thresholds
) -> str:
    """What `register` decides for these candidates when the registrar does not
    override it (shown before anything is written): above the automatic-link
    threshold a link, unless the record already holds another number from one of
    the registration's authorities, or the pair fails the conditions of an
    automatic link (autolink.py: birth date, surname and an SSN, identifier or first
    name in common, nothing in disagreement); then review, as between the
    thresholds."""
    top = found[0] if found else None
    if top is None:
        return MatchOutcome.CREATED
    data = mrn.prepare(data).data
    band = limits.band(top.probability)
    if band == MatchOutcome.LINKED and auto_target(data, found, limits) is None:
        return MatchOutcome.REVIEW
    return band


def held_back(data: PatientIn, top: Candidate | None, limits: Thresholds) -> list[str]:
    """Why the best match, above the automatic-link threshold, is not linked
    automatically, in a registrar's words (empty when it would be, or when it is
    below the threshold): another number from one of the registration's authorities,
    or the conditions of an automatic link (autolink.py)."""
    if top is None or top.probability < limits.auto_link:
        return []
    data = mrn.prepare(data).data
    target = Patient.objects.get(pk=top.patient_id)
    why = autolink.blockers(target, data)
    taken = _taken(target, data)
    return [taken, *why] if taken else why


def auto_target(
    data: PatientIn, found: list[Candidate], limits: Thresholds
) -> Candidate | None:
    """The best candidate at or above the automatic-link threshold that holds no
    other number from the registration's authorities and meets the conditions of
    an automatic link (autolink.py); None: no automatic link."""
    for c in found:
        if c.probability < limits.auto_link:
            return None
        target = Patient.objects.get(pk=c.patient_id)
        if not (_conflict(target, data) or autolink.blockers(target, data)):
            return c
    return None


def _candidates(data: PatientIn, limit: int) -> list[Candidate]:
    """Best first; a retired (merged) record is replaced by its survivor, which is
    what a new registration should join."""
    found = match_patient(data=data, limit=limit * 2)
    if not found:
        return []
    survivor_of = dict(
        Patient.objects.filter(pk__in=[c.patient_id for c in found])
        .exclude(merged_into=None).values_list("pk", "merged_into_id")
    )  # fmt: skip
    out: list[Candidate] = []
    seen: set[str] = set()
    for c in found:
        survivor = survivor_of.get(as_uuid(c.patient_id))
        pid = str(_final(survivor) if survivor else c.patient_id)
        if pid not in seen:
            seen.add(pid)
            c.patient_id = pid
            out.append(c)
    return out[:limit]


def _final(pid: Any) -> Any:
    """Follow a chain of merges to the record that survives."""
    for _ in range(20):
        nxt = Patient.objects.filter(pk=pid).values_list("merged_into_id", flat=True)
        step = nxt.first()
        if step is None:
            return pid
        pid = step
    return pid


def register(
    *,
    actor: Actor,
    data: PatientIn,
    source: str,
    create_anyway: bool = False,
    link_to: Any = None,
    reason: str = "",
) -> Registration:
    """Register with search before create.

    `link_to` is the registrar's own choice of an existing record (it must be one of
    the candidates or a record at their facilities); `create_anyway` creates a new
    record whatever the match (a pair at or above the review threshold still goes to
    the duplicate worklist). Both need a `reason`.

    Raises:
        ValidationFailed: the registration is not valid, an identifier is taken, a
            chosen record already holds another number from the same authority, a
            manual choice has no reason, or an MRN is missing or fails its check
            digit at a facility whose MRNs come from another system.
        PermissionDenied: an MRN of another facility, or a chosen record the
            registrar may not see.
    """
    facility = facility_of(data)
    # an MRN without a value at a facility that assigns its own is given the next
    # number of its sequence, once the record it goes on is known (mpi.mrn)
    pending = mrn.prepare(data)
    data = pending.data
    limits = thresholds_for(facility)
    found = _candidates(data, 5)
    top = found[0] if found else None
    manual = bool(link_to) or create_anyway
    if manual and not reason.strip():
        raise ValidationFailed(
            "say why you chose this over the suggested outcome", field="reason"
        )
    target: Patient | None = None
    added: list[PatientIdentifier] = []
    with unit.atomic():
        # a conflict (e.g. a second MRN at the same facility) turns a link to review
        band = expected_outcome(data, found, limits)
        if link_to:
            target = _chosen(actor, link_to)
            conflict = _conflict(target, data)
            if conflict:
                raise ValidationFailed(conflict + "; merge the records instead",
                                       field="link_to")  # fmt: skip
            top = next((c for c in found if c.patient_id == str(target.pk)), top)
        elif band == MatchOutcome.LINKED and not create_anyway and top is not None:
            top = auto_target(data, found, limits) or top
            target = Patient.objects.get(pk=top.patient_id)
        assigned: list[IdentifierIn] = []
        if target is None or not _holds_mrn(target, pending.facility):
            assigned = mrn.assign(pending)
            data = replace(data, identifiers=[*data.identifiers, *assigned])
        if target is not None:
            added = add_identifiers(actor=actor, patient=target,
                                    identifiers=_new_identifiers(target, data),
                                    why="registration linked")  # fmt: skip
            outcome, patient = MatchOutcome.LINKED, target
        else:
            patient = register_patient(actor=actor, data=data)
            outcome = (
                MatchOutcome.REVIEW
                if band in (MatchOutcome.REVIEW, MatchOutcome.LINKED)
                else MatchOutcome.CREATED
            )
        # plain SQL insert (sqlrows): one per registration, on every ADT A04
        decision = sqlrows.new(
            MatchDecision,
            decided_at=timezone.now(), decided_by=actor.username[:150],
            source=source[:16], facility=facility, outcome=outcome, manual=manual,
            reason=reason.strip()[:500], patient=patient,
            candidate_id=top.patient_id if top else None,
            probability=top.probability if top else None,
            match_weight=top.match_weight if top else None,
            evidence=top.evidence if top else [],
            candidates=[{"patient_id": c.patient_id, "probability": c.probability}
                        for c in found],
            thresholds={"auto_link": limits.auto_link, "review": limits.review},
            identifiers_added=[r.value for r in added],
        )  # fmt: skip
        sqlrows.insert([decision])
        record(
            actor=actor, action=actions.MPI_REGISTRATION_MATCH.name, patient=patient,
            obj=decision, detail={"outcome": outcome, "manual": manual,
                                  "probability": decision.probability,
                                  "candidate": str(decision.candidate_id or ""),
                                  "source": source, "mrn_assigned":
                                  assigned[0].value if assigned else ""},
        )  # fmt: skip
    return Registration(patient, outcome, decision, found, limits,
                        assigned[0].value if assigned else "")  # fmt: skip


def _holds_mrn(patient: Patient, facility: Facility | None) -> bool:
    """Whether the record has a current MRN of the facility (then a registration
    linked to it is given none)."""
    if facility is None:
        return True
    return PatientIdentifier.objects.filter(
        patient=patient, kind=IdentifierKind.MRN, system=facility.mrn_system,
        period_end=None,
    ).exists()  # fmt: skip


def _chosen(actor: Actor, link_to: Any) -> Patient:
    try:
        target = Patient.objects.get(pk=as_uuid(link_to))
    except (Patient.DoesNotExist, ValueError):
        raise NotFound(f"no patient {link_to}") from None
    if target.merged_into_id:
        target = Patient.objects.get(pk=_final(target.pk))
    # a registrar links only to a record they can see (one found for them at
    # another facility is never shown, so it is never theirs to choose)
    if not in_scope(actor.user, target):
        raise PermissionDenied(f"patient {link_to} has no record at your facilities",
                               field="link_to")  # fmt: skip
    return target


def _slots(patient: Patient) -> dict[tuple[str, str], set[str]]:
    """(kind, system) -> lookups the record holds now."""
    out: dict[tuple[str, str], set[str]] = {}
    for kind, system, lookup in PatientIdentifier.objects.filter(
        patient=patient, period_end=None
    ).values_list("kind", "system", "lookup"):
        out.setdefault((kind, system), set()).add(lookup)
    return out


def _key(i: IdentifierIn) -> tuple[tuple[str, str], str]:
    if i.kind == IdentifierKind.SSN:
        return (i.kind, i.system or SSN_SYSTEM), ssn_lookup(i.value)
    system = i.system or (i.facility.mrn_system if i.facility else "")
    return (i.kind, system), identifier_lookup(i.value)


# one value per authority: a second MRN (or SSN, enterprise id) from the same one
# means two records at one facility, or two people: review, not a link
SINGLE = (IdentifierKind.MRN, IdentifierKind.SSN, IdentifierKind.ENTERPRISE)


def _conflict(target: Patient, data: PatientIn) -> str:
    found = _held_other(target, data)
    if found is None:
        return ""
    label, system, _ = found
    return f"patient {target.pk} already has another {label} from {system}"


def _taken(target: Patient, data: PatientIn) -> str:
    """`_conflict` as a registrar reads it: the facility's code, not its system."""
    found = _held_other(target, data)
    if found is None:
        return ""
    label, system, ident = found
    where = f" at {ident.facility.code}" if ident.facility is not None else ""
    if label == IdentifierKind.MRN.label:
        label = "MRN"
    return f"this record already holds another {label}{where or f' from {system}'}"


def _held_other(target: Patient, data: PatientIn) -> tuple[str, str, Any] | None:
    """The first of the registration's single-valued identifiers (an MRN, an SSN)
    for which the record already holds another value: (label, system, identifier)."""
    slots = _slots(target)
    for i in data.identifiers:
        (kind, system), lookup = _key(i)
        held = slots.get((kind, system), set())
        if kind in SINGLE and held and lookup not in held:
            return IdentifierKind(kind).label, system, i
    return None


def _new_identifiers(target: Patient, data: PatientIn) -> list[IdentifierIn]:
    slots = _slots(target)
    out = []
    for i in data.identifiers:
        slot, lookup = _key(i)
        if lookup not in slots.get(slot, set()):
            out.append(i)
            slots.setdefault(slot, set()).add(lookup)
    return out


def automatic_links(user: Any = None) -> QuerySet[MatchDecision]:
    """Registrations linked to an existing record without a person choosing; with
    `user`, those onto charts the user may see (whoever may review them)."""
    links = MatchDecision.objects.filter(outcome=MatchOutcome.LINKED, manual=False)
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return links
    # as visible_patients, probed per link (not the whole index read for a few links)
    held = PatientIdentifier.objects.filter(facility_id__in=scope)
    return links.filter(
        Exists(held.filter(patient=OuterRef("patient")))
        | Exists(held.filter(patient=OuterRef("patient__merged_into")))
    )


def sample_for_review(
    *, size: int = 20, seed: int | None = None, user: Any = None
) -> list[MatchDecision]:
    """Automatic links not yet reviewed, a random sample (a fixed one per day unless
    a seed is given), oldest first within it; with `user`, of the links onto charts
    that user may see."""
    ids = list(
        automatic_links(user)
        .filter(review=LinkReview.PENDING)
        .values_list("pk", flat=True)
    )
    rng = random.Random(seed if seed is not None else timezone.now().date().toordinal())
    chosen = rng.sample(ids, min(size, len(ids)))
    return list(
        MatchDecision.objects.filter(pk__in=chosen)
        .select_related("patient", "candidate", "facility").order_by("decided_at")
    )  # fmt: skip


def review_link(
    *, actor: Actor, decision: MatchDecision, verdict: str, note: str = ""
) -> MatchDecision:
    """Record a reviewer's verdict on an automatic link. A wrong link raises an
    overlay flag on the chart, so that the split workflow can move the
    registration's identifiers and care to a record of its own.

    Raises:
        ValidationFailed: not an automatic link, already reviewed, an unknown
            verdict, or a wrong link without a note.
        PermissionDenied: the chart is outside the reviewer's facilities.
    """
    if decision.outcome != MatchOutcome.LINKED:
        raise ValidationFailed("only links are reviewed here", field="decision")
    if decision.review:
        raise ValidationFailed(
            f"already reviewed ({decision.get_review_display()}) by "
            f"{decision.reviewed_by}", field="decision")  # fmt: skip
    if verdict not in (LinkReview.CORRECT, LinkReview.WRONG):
        raise ValidationFailed(f"unknown verdict {verdict!r}; use correct or wrong",
                               field="verdict")  # fmt: skip
    if verdict == LinkReview.WRONG and not note.strip():
        raise ValidationFailed("say what is wrong with the link", field="note")
    if not in_scope(actor.user, decision.patient):
        raise PermissionDenied(
            f"patient {decision.patient_id} has no record at your facilities"
        )
    with unit.atomic():
        decision.review = verdict
        decision.reviewed_at = timezone.now()
        decision.reviewed_by = actor.username[:150]
        decision.review_note = note.strip()[:500]
        decision.save(update_fields=["review", "reviewed_at", "reviewed_by",
                                     "review_note"])  # fmt: skip
        if verdict == LinkReview.WRONG:
            OverlayFlag.objects.get_or_create(
                patient=decision.patient, kind=WRONG_LINK, status=OverlayStatus.OPEN,
                defaults={"summary": "An automatic link was judged wrong on review: "
                          f"{decision.review_note}"[:500],
                          "evidence": {"decision": str(decision.pk),
                                       "identifiers_added": decision.identifiers_added,
                                       "probability": decision.probability}},
            )  # fmt: skip
        record(actor=actor, action=actions.MPI_LINK_REVIEW.name,
               patient=decision.patient, obj=decision,
               detail={"verdict": verdict, "note": decision.review_note})  # fmt: skip
    return decision
