"""Search before create: score one incoming registration against the records the
index's own indexes find for it (birth date, name keys either way round, nickname
forms, SSN and other identifiers), without the batch machinery."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID

import numpy as np
from django.db import connection

from recordroom.kernel import sqlrows
from recordroom.mpi.models import (
    IdentifierKind,
    Patient,
    PatientIdentifier,
    PatientName,
)
from recordroom.mpi.services import PatientIn, identifier_lookup, ssn_lookup

from . import normalize as nz
from . import placeholders as ph
from .defaults import default_model
from .features import TableBuilder
from .loading import load_patients
from .model import LinkageModel
from .models import LinkageRun, RunStatus
from .nicknames import MORE_NICKNAMES, NICKNAMES, formal_names
from .scoring import score

CAP_PER_QUERY = 50  # a very common name or birth date adds at most this many


@dataclass
class Candidate:
    patient_id: str
    probability: float
    match_weight: float
    evidence: list[dict[str, Any]] = field(default_factory=list)


_cache: dict[str, Any] = {}
_lock = threading.Lock()


def current_model() -> LinkageModel:
    """The model of the latest finished scan (trained on this index), else the
    untrained default."""
    # plain SQL: every registration asks (the ORM took 1 ms to build this query)
    table = LinkageRun._meta.db_table
    with sqlrows.cursor(connection) as cursor:
        cursor.execute(
            f"SELECT id, records FROM {table} WHERE status = %s "  # noqa: S608
            "ORDER BY started_at DESC LIMIT 1",
            [RunStatus.FINISHED.value],
        )
        run = cursor.fetchone()
    key = str(as_uuid(run[0])) if run else "default"
    with _lock:
        if _cache.get("key") != key:
            model = (
                LinkageModel.from_dict(LinkageRun.objects.get(pk=key).model)
                if run
                else default_model()
            )
            _cache.update(key=key, model=model, records=run[1] if run else 0)
        return _cache["model"]  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _forms_by_formal() -> dict[str, frozenset[str]]:
    """Formal name key -> every name of its group ('william' -> bill, will ...)."""
    out: dict[str, set[str]] = {}
    for table in (NICKNAMES, MORE_NICKNAMES):
        for formal, nicks in table.items():
            key = nz.name_key(formal)
            out.setdefault(key, {key}).update(nz.name_key(n) for n in nicks)
    return {k: frozenset(v) for k, v in out.items()}


def _given_forms(key: str) -> set[str]:
    """'bill' -> {'bill', 'william', 'will', 'billy', ...}: every name of its groups."""
    groups = _forms_by_formal()
    forms = {key}
    for formal in formal_names(key):
        forms |= groups.get(formal, frozenset())
    return forms


def _date_variants(born: date) -> set[date]:
    """Dates one keying slip away: transposed digits, day/month swapped, year ±1."""
    text, out = born.strftime("%m%d%Y"), set()
    for a in range(8):
        for b in range(a + 1, 8):
            chars = list(text)
            chars[a], chars[b] = chars[b], chars[a]
            try:
                out.add(date(int("".join(chars[4:])), int("".join(chars[:2])),
                             int("".join(chars[2:4]))))  # fmt: skip
            except ValueError:
                continue
    for years in (-1, 1):
        try:
            out.add(born.replace(year=born.year + years))
        except ValueError:
            out.add(born + timedelta(days=365 * years))
    out.discard(born)
    return {d for d in out if ph.EARLIEST_BIRTH <= d <= date.today()}


def candidate_ids(data: PatientIn) -> list[Any]:
    """Patients the index's own indexes find for this registration: same birth
    date; a birth date one slip away with a shared name; the same names (nickname
    forms, either order); the same SSN or other identifier. Each branch is capped.

    One plain-SQL UNION of indexed lookups: search before create runs on every
    registration (every ADT A04), where the ORM spent more building the four
    queries than the database running them (docs/performance.md, HL7 ADT)."""
    names = [(nz.name_key(n.family), nz.name_key(n.given)) for n in data.names]
    names = [(f, g) for f, g in names if not ph.is_placeholder_name(f)]
    born = None if ph.is_placeholder_date(data.birth_date) else data.birth_date
    families = sorted({f for f, _ in names})
    forms = sorted({form for _, g in names if g for form in _given_forms(g)})
    patient = Patient._meta.db_table
    name = PatientName._meta.db_table
    ident = PatientIdentifier._meta.db_table
    branches: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        branches.append(
            f"SELECT pid FROM ({sql} LIMIT {CAP_PER_QUERY}) b{len(branches)}"
        )
        params.extend(values)

    def marks(values: list[Any]) -> str:
        return ", ".join(["%s"] * len(values))

    if born is not None:
        day = sqlrows.param(Patient, "birth_date", born)
        add(f"SELECT id AS pid FROM {patient} WHERE birth_date = %s", day)
        variants = [sqlrows.param(Patient, "birth_date", d)
                    for d in sorted(_date_variants(born))]  # fmt: skip
        if families and variants:
            # birth dates one slip away, then those patients' names (a shared
            # family name or a form of the given name)
            either = f"family_key IN ({marks(families)})"
            if forms:
                either += f" OR given_key IN ({marks(forms)})"
            add(f"SELECT patient_id AS pid FROM {name} WHERE patient_id IN "
                f"(SELECT id FROM {patient} WHERE birth_date IN ({marks(variants)}) "
                f"LIMIT 2000) AND ({either})", *variants, *families, *forms)  # fmt: skip
    for family, given in names:
        given_forms = sorted(_given_forms(given)) if given else [""]
        where = f"(family_key = %s AND given_key IN ({marks(given_forms)}))"
        values: list[Any] = [family, *given_forms]
        if given:
            where += " OR (family_key = %s AND given_key = %s)"
            values += [given, family]
        add(f"SELECT patient_id AS pid FROM {name} WHERE {where}", *values)
    lookups = _identifier_lookups(data)
    if lookups:
        add(f"SELECT patient_id AS pid FROM {ident} WHERE lookup IN ({marks(lookups)}) "
            "AND kind <> %s", *lookups, IdentifierKind.MRN.value)  # fmt: skip
    if not branches:
        return []
    with sqlrows.cursor(connection) as cursor:
        cursor.execute(" UNION ".join(branches), params)
        found = {as_uuid(row[0]) for row in cursor.fetchall()}
    return sorted(found, key=str)


def as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _identifier_lookups(data: PatientIn) -> list[str]:
    out = []
    for ident in data.identifiers:
        if ident.kind == IdentifierKind.SSN:
            digits = re.sub(r"\D", "", ident.value or "")
            if not ph.is_placeholder_ssn_digits(digits):
                out.append(ssn_lookup(digits))
        elif ident.kind != IdentifierKind.MRN and ident.value:
            out.append(identifier_lookup(ident.value))
    return out


def _add_incoming(data: PatientIn) -> Any:
    def add(b: TableBuilder, i: int) -> None:
        b.person(i, "incoming", data.birth_date, data.sex)
        for n in data.names:
            current = n.use == "legal" and n.period_end is None
            b.name(i, family=n.family, given=n.given, middle=n.middle, suffix=n.suffix,
                   current_legal=current)  # fmt: skip
        for ident in data.identifiers:
            if ident.kind == IdentifierKind.SSN:
                digits = re.sub(r"\D", "", ident.value or "")
                if not ph.is_placeholder_ssn_digits(digits):
                    b.ssn(i, ssn_lookup(digits), digits[-4:])
            elif ident.kind != IdentifierKind.MRN:
                system = ident.system or (
                    ident.facility.mrn_system if ident.facility else ""
                )
                b.identifier(i, system, identifier_lookup(ident.value))
        for a in data.addresses:
            b.address(i, a.get("line1", ""), a.get("line2", ""), a.get("postal_code", ""),
                      current=a.get("period_end") is None)  # fmt: skip
        for t in data.telecoms:
            b.telecom(i, t.get("system", "phone"), t.get("value", ""))

    return add


@lru_cache(maxsize=50_000)
def _name_count(field: str, key: str, stamp: int) -> int:
    """How many index names have this key (cached per model: `stamp`)."""
    return PatientName.objects.filter(**{field: key}).count()


def _term_frequencies(data: PatientIn, records: int) -> dict[str, dict[str, float]]:
    """Share of index names equal to the incoming ones (rarer -> more weight)."""
    total = max(records or Patient.objects.count(), 1)
    tf: dict[str, dict[str, float]] = {"family": {}, "given": {}}
    for n in data.names[:2]:
        fam, giv = nz.name_key(n.family), nz.name_key(n.given)
        if fam:
            tf["family"][fam] = _name_count("family_key", fam, total) / total
        if giv:
            tf["given"][giv] = _name_count("given_key", giv, total) / total
    return tf


def match_patient(
    *, data: PatientIn, limit: int = 10, model: LinkageModel | None = None
) -> list[Candidate]:
    """Ranked candidates for a registration: probability, match weight, evidence.

    The incoming record's names, birth date, SSN (compared by keyed hash, never
    stored), identifiers, addresses and telecoms are scored with the model of the
    latest scan; term frequencies come from the index.
    """
    model = model or current_model()
    ids = candidate_ids(data)
    if not ids:
        return []
    records = int(model.training.get("records") or 0)
    table = load_patients(
        ids, _term_frequencies(data, records), first=_add_incoming(data)
    )
    right = np.arange(1, len(table), dtype=np.int64)
    left = np.zeros(len(right), np.int64)
    scored = score(model, table, left, right)
    order = np.argsort(-scored.match_weight, kind="stable")[:limit]
    return [
        Candidate(
            patient_id=table.keys[int(right[k])],
            probability=float(scored.probability[k]),
            match_weight=round(float(scored.match_weight[k]), 4),
            evidence=scored.evidence(model, int(k)),
        )
        for k in order
    ]


def match_visible(*, user: Any, data: PatientIn, limit: int = 10) -> list[Candidate]:
    """`match_patient`, kept to the records the user may see (search before
    create at the user's facilities; another facility's patient is not disclosed)."""
    return visible_candidates(user, match_patient(data=data, limit=limit * 2))[:limit]


def visible_candidates(user: Any, found: list[Candidate]) -> list[Candidate]:
    """The candidates the user may see (another facility's patient is not
    disclosed to a registrar who has no record of them)."""
    from recordroom.mpi.services import visible_patients

    seen = {str(pk) for pk in visible_patients(user)
            .filter(pk__in=[c.patient_id for c in found]).values_list("pk", flat=True)}  # fmt: skip
    return [c for c in found if str(c.patient_id) in seen]
