"""Patient search by name (partial, case- and accent-insensitive), birth date,
identifier (MRN, enterprise id, member id) or SSN, within the user's facility scope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.text import prefix_upper_bound, search_key

from .models import IdentifierKind, Patient, PatientIdentifier, PatientName
from .services import (
    identifier_lookup,
    identifiers_in_scope,
    ssn_lookup,
    visible_patients,
)

MAX_RESULTS = 100


@dataclass(frozen=True)
class PatientQuery:
    name: str = ""
    birth_date: date | None = None
    identifier: str = ""  # MRN, enterprise id, member id
    ssn: str = ""  # full number or last four
    patient_ids: tuple[Any, ...] | None = None  # already resolved (account number)
    limit: int = 25

    def is_empty(self) -> bool:
        return not (
            self.name.strip()
            or self.birth_date
            or self.identifier.strip()
            or self.ssn.strip()
            or self.patient_ids is not None
        )

    def as_audit(self) -> dict[str, str]:
        out = {
            "name": self.name,
            "birth_date": str(self.birth_date or ""),
            "identifier": self.identifier,
        }
        if self.ssn:
            out["ssn"] = "***" + re.sub(r"\D", "", self.ssn)[-4:]
        return {k: v for k, v in out.items() if v}


@dataclass
class PatientHit:
    patient: Patient
    matched_name: PatientName | None
    names: list[PatientName] = field(default_factory=list)
    mrns: list[PatientIdentifier] = field(default_factory=list)

    @property
    def legal_name(self) -> PatientName | None:
        return self.patient.legal_name()


def _name_terms(text: str) -> list[Q]:
    """'garcia, maria' / 'maria garcia' / 'garc' -> alternatives over name keys."""
    if "," in text:
        family, _, given = text.partition(",")
        orders = [(search_key(family), search_key(given))]
    else:
        words = search_key(text).split()
        if not words:
            return []
        if len(words) == 1:
            orders = [(words[0], "")]
        else:
            # "maria de la cruz" could be given "maria" + family "de la cruz", or the
            # reverse; try both readings.
            orders = [
                (" ".join(words[1:]), words[0]),
                (" ".join(words[:-1]), words[-1]),
            ]
    alternatives = []
    for family, given in orders:
        if not family:
            continue
        q = Q(family_key__gte=family, family_key__lt=prefix_upper_bound(family))
        if given:
            q &= Q(given_key__gte=given, given_key__lt=prefix_upper_bound(given))
        alternatives.append(q)
    return alternatives


def search_patients(*, user: Any, query: PatientQuery) -> list[PatientHit]:
    """Find patients; results ordered by matched name, at most `query.limit`."""
    if query.is_empty():
        raise ValidationFailed(
            "give a name, birth date, MRN/identifier, SSN or account number to search"
        )
    limit = max(1, min(query.limit, MAX_RESULTS))
    id_sets = _patient_id_sets(query)
    terms = _name_terms(query.name) if query.name.strip() else []
    if query.name.strip() and not terms:
        raise ValidationFailed(
            f"name {query.name!r} has no letters or digits to search by"
        )
    hits: dict[Any, PatientHit] = {}
    first: dict[Any, Any] = {}  # patient pk -> pk of its first matching name
    if terms:
        # First the (name, patient) pairs, then objects for the first `limit` patients
        # only (a patient may match by two names).
        pairs = _matching_names(user, query, terms, id_sets)
        for name_pk, patient_pk in pairs.values_list("pk", "patient_id")[: limit * 3]:
            first.setdefault(patient_pk, name_pk)
            if len(first) >= limit:
                break
        by_pk = Patient.objects.in_bulk(list(first))
        for patient_pk in first:
            hits[patient_pk] = PatientHit(by_pk[patient_pk], None)
    else:
        patients = visible_patients(user)
        if query.birth_date:
            patients = patients.filter(birth_date=query.birth_date)
        for ids in id_sets:
            patients = patients.filter(pk__in=ids)
        for p in patients.order_by("pk")[:limit]:
            hits[p.pk] = PatientHit(p, None)
    _attach(hits, user)
    if terms:
        for patient_pk, hit in hits.items():  # the name that matched, among them all
            hit.matched_name = next(
                (n for n in hit.names if n.pk == first[patient_pk]), None
            )
        return list(hits.values())  # already in matched-name order
    return sorted(hits.values(), key=_legal_sort_key)


def _patient_id_sets(query: PatientQuery) -> list[Any]:
    """Each exact criterion (account, identifier, SSN) as the ids it allows."""
    id_sets: list[Any] = []
    if query.patient_ids is not None:
        id_sets.append(query.patient_ids)
    if query.identifier.strip():
        key = identifier_lookup(query.identifier)
        id_sets.append(
            PatientIdentifier.objects.filter(lookup=key)
            .exclude(kind=IdentifierKind.SSN)
            .values("patient_id")
        )
    if query.ssn.strip():
        digits = re.sub(r"\D", "", query.ssn)
        if len(digits) == 4:
            match = Q(kind=IdentifierKind.SSN, last4=digits)
        elif len(digits) == 9:
            match = Q(kind=IdentifierKind.SSN, lookup=ssn_lookup(digits))
        else:
            raise ValidationFailed(
                f"search by SSN takes all nine digits or the last four, got {len(digits)}",
                field="ssn",
            )
        id_sets.append(PatientIdentifier.objects.filter(match).values("patient_id"))
    return id_sets


def _matching_names(
    user: Any, query: PatientQuery, terms: list[Q], id_sets: list[Any]
) -> QuerySet[PatientName]:
    """Names in the key ranges, joined to their patient, in matched-name order.

    Written as a join with per-row conditions (not `patient__in=<patients>`) so the
    planner can start from the name index or the birth-date index, whichever is
    narrower, and never lists every visible patient first (bench/search.py).
    """
    any_term = terms[0]
    for t in terms[1:]:
        any_term |= t
    names = PatientName.objects.filter(any_term)
    if query.birth_date:
        names = names.filter(patient__birth_date=query.birth_date)
    for ids in id_sets:
        names = names.filter(patient_id__in=ids)
    if user is not None and user.facility_ids() is not None:
        names = names.filter(
            Exists(visible_patients(user).filter(pk=OuterRef("patient_id")))
        )
    return names.order_by("family_key", "given_key", "patient_id")


def _legal_sort_key(hit: PatientHit) -> tuple[str, str]:
    name = hit.legal_name
    return (name.family_key, name.given_key) if name else ("", "")


def _attach(hits: dict[Any, PatientHit], user: Any) -> None:
    """Fetch every hit's names and MRNs in two queries (no N+1)."""
    if not hits:
        return
    ids = list(hits)
    by_patient: dict[Any, list[PatientName]] = {i: [] for i in ids}
    for n in PatientName.objects.filter(patient_id__in=ids):
        by_patient[n.patient_id].append(n)
    for pid, names in by_patient.items():
        hits[pid].names = names
        hits[pid].patient.names_cache = names
    for ident in identifiers_in_scope(user).filter(
        patient_id__in=ids, kind=IdentifierKind.MRN
    ):
        hits[ident.patient_id].mrns.append(ident)
