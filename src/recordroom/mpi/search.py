"""Patient search by name (partial, case- and accent-insensitive), birth date,
identifier (MRN, enterprise id, member id) or SSN, within the user's facility scope;
exact matches first, then (tolerant) the ones a registrar's mistyping would miss."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.kernel.errors import ValidationFailed

from .models import IdentifierKind, Patient, PatientIdentifier, PatientName
from .search_tolerant import (
    address_and_phone,
    birth_dates,
    identifier_keys,
    name_readings,
    reading_terms,
    reasons_for,
)
from .services import identifiers_in_scope, ssn_lookup, visible_patients

MAX_RESULTS = 100


@dataclass(frozen=True)
class PatientQuery:
    name: str = ""
    birth_date: date | None = None
    identifier: str = ""  # MRN, enterprise id, member id
    ssn: str = ""  # full number or last four
    patient_ids: tuple[Any, ...] | None = None  # already resolved (account number)
    limit: int = 25
    offset: int = 0  # patients to skip (paging)
    # After the exact matches, those a registrar's mistyping would miss: a surname
    # that sounds alike, a nickname, day and month swapped, an MRN with or without
    # its leading zeros (mpi.search_tolerant). Off for lookups that must be exact.
    tolerant: bool = False

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
        if self.offset:
            out["offset"] = str(self.offset)
        return {k: v for k, v in out.items() if v}


@dataclass
class PatientHit:
    patient: Patient
    matched_name: PatientName | None
    names: list[PatientName] = field(default_factory=list)
    mrns: list[PatientIdentifier] = field(default_factory=list)
    # Why a tolerant match matched ("Smyth sounds like Smith"); empty when exact.
    reasons: list[str] = field(default_factory=list)
    address: str = ""  # current address and phone, to tell namesakes apart
    phone: str = ""
    last_visit: Any = None  # newest admission at the user's facilities (records)
    matched_pk: Any = field(default=None, repr=False)  # its first matching name

    @property
    def legal_name(self) -> PatientName | None:
        return self.patient.legal_name()

    @property
    def exact(self) -> bool:
        return not self.reasons


@dataclass(frozen=True)
class SearchPage:
    """One page of patients: exact matches first, then tolerant ones. The total is
    known on the last page (no count runs: counting a common surname across the
    scope cost more than the search, bench/search.py)."""

    hits: list[PatientHit]
    more: bool  # another page follows
    offset: int
    limit: int

    @property
    def total(self) -> int | None:
        """Patients found, when this is the last page."""
        return None if self.more else self.offset + len(self.hits)


def search_patients(*, user: Any, query: PatientQuery) -> list[PatientHit]:
    """Find patients: the page `query.offset` / `query.limit` of `search_page`."""
    return search_page(user=user, query=query).hits


def search_page(*, user: Any, query: PatientQuery) -> SearchPage:
    """Find patients in the user's facilities: exact matches in name order, then
    (with `query.tolerant`) the tolerant ones in name order, each saying why.

    Raises:
        ValidationFailed: nothing to search by, a name without letters or digits, an
            SSN that is neither four nor nine digits, or a negative offset.
    """
    if query.is_empty():
        raise ValidationFailed(
            "give a name, birth date, MRN/identifier, SSN or account number to search"
        )
    if query.offset < 0:
        raise ValidationFailed(f"offset {query.offset} is negative", field="offset")
    if query.name.strip() and not name_readings(query.name):
        raise ValidationFailed(
            f"name {query.name!r} has no letters or digits to search by"
        )
    limit, offset = max(1, min(query.limit, MAX_RESULTS)), query.offset
    user = scoped(user)
    in_scope = _scope_filter(user)
    exact = _Tier(user, query, in_scope, tolerant=False)
    # the exact patients up to the end of this page, and one more (is there more?)
    found = exact.first(offset + limit + 1)
    chosen = list(found)[offset : offset + limit]
    more = len(found) > offset + limit
    tolerant: dict[Any, Any] = {}
    wide = None
    # an MRN found as typed is that patient's: its zero-padded variants would be
    # other people's numbers, not a mistyping
    if query.tolerant and not more and not (found and _only_identifier(query)):
        wide = _Tier(user, query, in_scope, tolerant=True)
    if wide is not None and wide.widened:
        # every exact match is known: the tolerant ones continue the list
        skip, need = max(0, offset - len(found)), limit - len(chosen)
        tolerant = wide.first(skip + need + 1, exclude=set(found))
        more = len(tolerant) > skip + need
        tolerant = dict(list(tolerant.items())[skip : skip + need])
    by_pk = Patient.objects.in_bulk([*chosen, *tolerant])
    hits = [PatientHit(by_pk[pk], None, matched_pk=found[pk]) for pk in chosen]
    hits += [PatientHit(by_pk[pk], None, matched_pk=tolerant[pk]) for pk in tolerant]
    _attach({h.patient.pk: h for h in hits}, user)
    for n, hit in enumerate(hits):
        hit.matched_name = next((x for x in hit.names if x.pk == hit.matched_pk), None)
        if n >= len(chosen):
            hit.reasons = reasons_for(hit, query)
    if not exact.terms:  # by legal name within each tier of the page
        hits = sorted(hits, key=lambda h: (not h.exact, *_legal_sort_key(h)))
    return SearchPage(hits, more, offset, limit)


def _only_identifier(query: PatientQuery) -> bool:
    return bool(query.identifier.strip()) and not (query.name.strip()
                                                    or query.birth_date)  # fmt: skip


class _Tier:
    """The patients one set of conditions finds (exact, or tolerant), in order: by
    matched name when a name is searched, else by id."""

    def __init__(
        self, user: Any, query: PatientQuery, in_scope: Any, *, tolerant: bool
    ) -> None:
        readings = name_readings(query.name) if query.name.strip() else []
        self.terms = [t for f, g in readings
                      for t in reading_terms(f, g, tolerant=tolerant)]  # fmt: skip
        self.id_sets = _patient_id_sets(query, tolerant=tolerant)
        self.births = birth_dates(query.birth_date, tolerant=tolerant)
        exact_terms = sum(len(reading_terms(f, g, tolerant=False)) for f, g in readings)
        self.widened = tolerant and (
            len(self.terms) > exact_terms
            or len(self.births) > 1
            or (bool(query.identifier.strip())
                and len(identifier_keys(query.identifier, tolerant=True)) > 1)
        )  # fmt: skip
        self.rows: QuerySet[Any]
        if self.terms:
            names = _matching_names(in_scope, self.births, self.terms, self.id_sets)
            self.rows = names.values_list("pk", "patient_id")
        else:
            patients = visible_patients(user)
            if self.births:
                patients = patients.filter(birth_date__in=self.births)
            for ids in self.id_sets:
                patients = patients.filter(pk__in=ids)
            self.rows = patients.order_by("pk").values_list("pk", "pk")

    def first(self, n: int, exclude: set[Any] | None = None) -> dict[Any, Any]:
        """The first `n` patients (pk -> pk of the first name they matched by), those
        in `exclude` left out; a patient matching by two names counts once."""
        exclude = exclude or set()
        found: dict[Any, Any] = {}
        chunk, start = (n + len(exclude)) * 2 + 10, 0
        while len(found) < n:
            rows = list(self.rows[start : start + chunk])
            for row_pk, patient_pk in rows:
                if patient_pk not in exclude:
                    found.setdefault(patient_pk, row_pk)
                    if len(found) >= n:
                        break
            if len(rows) < chunk:
                break
            start += chunk
        return found


def _patient_id_sets(query: PatientQuery, *, tolerant: bool = False) -> list[Any]:
    """Each exact criterion (account, identifier, SSN) as the ids it allows; an
    identifier, tolerant, also with and without its leading zeros."""
    id_sets: list[Any] = []
    if query.patient_ids is not None:
        id_sets.append(query.patient_ids)
    if query.identifier.strip():
        keys = identifier_keys(query.identifier, tolerant=tolerant)
        id_sets.append(
            PatientIdentifier.objects.filter(lookup__in=keys)
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


class _Scoped:
    """A user whose facility scope is read once per search (visible_patients and
    identifiers_in_scope ask for it each time; a query each)."""

    def __init__(self, user: Any) -> None:
        self._user = user
        self._ids = user.facility_ids()

    def facility_ids(self) -> list[object] | None:
        return self._ids

    def __getattr__(self, name: str) -> Any:
        return getattr(self._user, name)


def scoped(user: Any) -> Any:
    """The user with its facility scope read once (None stays None)."""
    return user if user is None or isinstance(user, _Scoped) else _Scoped(user)


def _scope_filter(user: Any) -> Any:
    """The condition a name row's patient is visible, built once per search."""
    if user is None or user.facility_ids() is None:
        return None
    return Exists(visible_patients(user).filter(pk=OuterRef("patient_id")))


def _matching_names(
    in_scope: Any, births: list[date], terms: list[Q], id_sets: list[Any]
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
    if len(births) == 1:
        names = names.filter(patient__birth_date=births[0])
    elif births:
        names = names.filter(patient__birth_date__in=births)
    for ids in id_sets:
        names = names.filter(patient_id__in=ids)
    if in_scope is not None:
        names = names.filter(in_scope)
    return names.order_by("family_key", "given_key", "patient_id")


def _legal_sort_key(hit: PatientHit) -> tuple[str, str]:
    name = hit.legal_name
    return (name.family_key, name.given_key) if name else ("", "")


def _attach(hits: dict[Any, PatientHit], user: Any) -> None:
    """Fetch every hit's names, MRNs, address and phone, a query each (no N+1)."""
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
    addresses, phones = address_and_phone(ids)
    for pid, hit in hits.items():
        hit.address, hit.phone = addresses.get(pid, ""), phones.get(pid, "")
