"""Patient search by name (partial, case- and accent-insensitive), birth date,
identifier (MRN, enterprise id, member id) or SSN, within the user's facility scope;
exact matches first, then (tolerant) the ones a registrar's mistyping would miss."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connections, router

from recordroom.kernel import sqlrows
from recordroom.kernel.errors import ValidationFailed

from .models import Facility, IdentifierKind, Patient, PatientIdentifier, PatientName
from .search_tolerant import (
    address_and_phone,
    birth_dates,
    identifier_keys,
    name_readings,
    reading_terms,
    reasons_for,
)
from .services import ssn_lookup

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
    exact = _Tier(query, in_scope, tolerant=False)
    # the exact patients up to the end of this page, and one more (is there more?)
    found = exact.first(offset + limit + 1)
    chosen = list(found)[offset : offset + limit]
    more = len(found) > offset + limit
    tolerant: dict[Any, Any] = {}
    wide = None
    # an MRN found as typed is that patient's: its zero-padded variants would be
    # other people's numbers, not a mistyping
    if query.tolerant and not more and not (found and _only_identifier(query)):
        wide = _Tier(query, in_scope, tolerant=True)
    if wide is not None and wide.widened:
        # every exact match is known: the tolerant ones continue the list
        skip, need = max(0, offset - len(found)), limit - len(chosen)
        tolerant = wide.first(skip + need + 1, exclude=set(found))
        more = len(tolerant) > skip + need
        tolerant = dict(list(tolerant.items())[skip : skip + need])
    by_pk = _patients([*chosen, *tolerant])
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
    matched name when a name is searched, else by id. Plain SQL (kernel.sqlrows):
    building these through the ORM cost several times the queries themselves."""

    def __init__(
        self, query: PatientQuery, scope: tuple[str, list[Any]] | None, *,
        tolerant: bool,
    ) -> None:  # fmt: skip
        readings = name_readings(query.name) if query.name.strip() else []
        self.terms = [t for f, g in readings
                      for t in reading_terms(f, g, tolerant=tolerant)]  # fmt: skip
        self.births = birth_dates(query.birth_date, tolerant=tolerant)
        keys = (identifier_keys(query.identifier, tolerant=tolerant)
                if query.identifier.strip() else [])  # fmt: skip
        exact_terms = sum(len(reading_terms(f, g, tolerant=False)) for f, g in readings)
        self.widened = tolerant and (
            len(self.terms) > exact_terms
            or len(self.births) > 1
            or (bool(query.identifier.strip()) and len(keys) > 1)
        )  # fmt: skip
        self._query, self._scope, self._keys = query, scope, keys
        self._sql: tuple[str, list[Any]] | None = None

    def _build(self) -> tuple[str, list[Any]]:
        where, params = [], []
        if self.terms:
            where.append(" OR ".join(f"({t})" for t, _ in self.terms))
            params += [v for _, ps in self.terms for v in ps]
        if self.births:
            where.append(f"p.birth_date IN ({_marks(self.births)})")
            params += [sqlrows.param(Patient, "birth_date", d) for d in self.births]
        col = "n.patient_id" if self.terms else "p.id"
        for sql, ps in _patient_id_sql(self._query, self._keys):
            where.append(f"{col} IN ({sql})")
            params += ps
        if self._scope is not None:
            where.append(self._scope[0])
            params += self._scope[1]
        cond = " AND ".join(f"({w})" for w in where)
        if self.terms:
            join = f" JOIN {_PATIENT} p ON p.id = n.patient_id" if (
                self.births or self._scope is not None) else ""  # fmt: skip
            sql = (f"SELECT n.id, n.patient_id FROM {_NAME} n{join} WHERE {cond} "  # noqa: S608
                   "ORDER BY n.family_key, n.given_key, n.patient_id")  # fmt: skip
        else:
            sql = f"SELECT p.id, p.id FROM {_PATIENT} p WHERE {cond} ORDER BY p.id"  # noqa: S608
        return sql + " LIMIT %s OFFSET %s", params

    def rows(self, start: int, count: int) -> list[tuple[Any, Any]]:
        if self._sql is None:
            self._sql = self._build()
        sql, params = self._sql
        with sqlrows.cursor(connections[router.db_for_read(PatientName)]) as cur:
            cur.execute(sql, [*params, count, start])
            found = cur.fetchall()
        to_pk = Patient._meta.pk.to_python
        return [(row_pk, to_pk(patient_pk)) for row_pk, patient_pk in found]

    def first(self, n: int, exclude: set[Any] | None = None) -> dict[Any, Any]:
        """The first `n` patients (pk -> pk of the first name they matched by), those
        in `exclude` left out; a patient matching by two names counts once."""
        exclude = exclude or set()
        found: dict[Any, Any] = {}
        chunk, start = (n + len(exclude)) * 2 + 10, 0
        while len(found) < n:
            rows = self.rows(start, chunk)
            for row_pk, patient_pk in rows:
                if patient_pk not in exclude:
                    found.setdefault(patient_pk, row_pk if self.terms else patient_pk)
                    if len(found) >= n:
                        break
            if len(rows) < chunk:
                break
            start += chunk
        return found


_NAME = PatientName._meta.db_table
_PATIENT = Patient._meta.db_table
_IDENT = PatientIdentifier._meta.db_table
_NAME_ORDER = "period_end, period_start DESC"  # PatientName.Meta.ordering


def _marks(values: Any) -> str:
    return ", ".join(["%s"] * len(values))


def _patient_id_sql(
    query: PatientQuery, keys: list[str]
) -> list[tuple[str, list[Any]]]:
    """Each exact criterion (account, identifier, SSN) as a subquery of the patient
    ids it allows; an identifier, tolerant, also with and without its leading
    zeros (`keys`)."""
    out: list[tuple[str, list[Any]]] = []
    if query.patient_ids is not None:
        ids = [sqlrows.param(Patient, "id", pk) for pk in query.patient_ids]
        out.append(
            (_marks(ids), ids)
            if ids
            else (f"SELECT patient_id FROM {_IDENT} WHERE 1 = 0", [])
        )  # noqa: S608
    ssn = str(IdentifierKind.SSN.value)
    if query.identifier.strip():
        out.append((f"SELECT patient_id FROM {_IDENT} WHERE lookup IN ({_marks(keys)}) "  # noqa: S608
                    "AND kind <> %s", [*keys, ssn]))  # fmt: skip
    if query.ssn.strip():
        digits = re.sub(r"\D", "", query.ssn)
        if len(digits) == 4:
            match, value = "last4 = %s", digits
        elif len(digits) == 9:
            match, value = "lookup = %s", ssn_lookup(digits)
        else:
            raise ValidationFailed(
                f"search by SSN takes all nine digits or the last four, got {len(digits)}",
                field="ssn",
            )
        out.append((f"SELECT patient_id FROM {_IDENT} WHERE kind = %s AND {match}",  # noqa: S608
                    [ssn, value]))  # fmt: skip
    return out


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


def _scope_filter(user: Any) -> tuple[str, list[Any]] | None:
    """The condition the patient `p` is visible (mpi.services.visible_patients: an
    identifier at a facility in scope, its own or its survivor's), as SQL, built once
    per search; None when every facility is in scope."""
    scope = user.facility_ids() if user is not None else None
    if scope is None:
        return None
    if not scope:
        return "1 = 0", []
    ids = [sqlrows.param(PatientIdentifier, "facility_id", f) for f in scope]
    one = f"SELECT 1 FROM {_IDENT} s WHERE s.patient_id = p.{{}} AND s.facility_id IN ({_marks(ids)})"  # noqa: S608
    return (f"EXISTS ({one.format('id')}) OR EXISTS ({one.format('merged_into_id')})",
            [*ids, *ids])  # fmt: skip


def _patients(ids: list[Any]) -> dict[Any, Patient]:
    """Patient.objects.in_bulk(ids), in plain SQL."""
    if not ids:
        return {}
    rows = sqlrows.fetch(
        f"SELECT {sqlrows.columns(Patient)} FROM {_PATIENT} "  # noqa: S608
        f"WHERE id IN ({_marks(ids)})",
        [sqlrows.param(Patient, "id", pk) for pk in ids],
        Patient,
    )
    return {p.pk: p for (p,) in rows}


def _mrns(ids: list[Any], user: Any) -> list[PatientIdentifier]:
    """The patients' MRNs a user may see, each with its facility, as
    `identifiers_in_scope(user).filter(kind=MRN)` gives them, in plain SQL."""
    facility = Facility
    where = f"i.patient_id IN ({_marks(ids)}) AND i.kind = %s"
    params = [sqlrows.param(PatientIdentifier, "patient_id", pk) for pk in ids]
    params.append(str(IdentifierKind.MRN.value))
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        facilities = [sqlrows.param(PatientIdentifier, "facility_id", f) for f in scope]
        where += " AND (i.facility_id IS NULL" + (
            f" OR i.facility_id IN ({_marks(facilities)}))" if facilities else ")"
        )
        params += facilities
    out = []
    for ident, fac in sqlrows.fetch(
        f"SELECT {sqlrows.columns(PatientIdentifier, 'i')}, "  # noqa: S608
        f"{sqlrows.columns(facility, 'f')} FROM {_IDENT} i "
        f"LEFT JOIN {facility._meta.db_table} f ON f.id = i.facility_id WHERE {where}",
        params,
        PatientIdentifier,
        facility,
    ):
        if ident.facility_id is not None:
            ident.facility = fac
        out.append(ident)
    return out


def _legal_sort_key(hit: PatientHit) -> tuple[str, str]:
    name = hit.legal_name
    return (name.family_key, name.given_key) if name else ("", "")


def _attach(hits: dict[Any, PatientHit], user: Any) -> None:
    """Fetch every hit's names, MRNs, address and phone, a query each (no N+1)."""
    if not hits:
        return
    ids = list(hits)
    by_patient: dict[Any, list[PatientName]] = {i: [] for i in ids}
    params = [sqlrows.param(PatientName, "patient_id", pk) for pk in ids]
    for (n,) in sqlrows.fetch(
        f"SELECT {sqlrows.columns(PatientName)} FROM {_NAME} "  # noqa: S608
        f"WHERE patient_id IN ({_marks(ids)}) ORDER BY {_NAME_ORDER}",
        params,
        PatientName,
    ):
        by_patient[n.patient_id].append(n)
    for pid, names in by_patient.items():
        hits[pid].names = names
        hits[pid].patient.names_cache = names
    for ident in _mrns(ids, user):
        hits[ident.patient_id].mrns.append(ident)
    addresses, phones = address_and_phone(ids)
    for pid, hit in hits.items():
        hit.address, hit.phone = addresses.get(pid, ""), phones.get(pid, "")
