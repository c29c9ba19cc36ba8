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

import numpy as np
from django.db.models import Q

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
    run = (
        LinkageRun.objects.filter(status=RunStatus.FINISHED)
        .values_list("pk", "records")
        .first()
    )
    key = str(run[0]) if run else "default"
    with _lock:
        if _cache.get("key") != key:
            model = (
                LinkageModel.from_dict(LinkageRun.objects.get(pk=run[0]).model)
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
    forms, either order); the same SSN or other identifier. Each query is capped."""
    ids: set[Any] = set()
    names = [(nz.name_key(n.family), nz.name_key(n.given)) for n in data.names]
    names = [(f, g) for f, g in names if not ph.is_placeholder_name(f)]
    born = None if ph.is_placeholder_date(data.birth_date) else data.birth_date
    families = {f for f, _ in names}
    forms = {form for _, g in names if g for form in _given_forms(g)}
    if born is not None:
        same_day = Patient.objects.filter(birth_date=born)
        ids |= set(same_day.values_list("pk", flat=True)[:CAP_PER_QUERY])
        if families:
            # two indexed steps (birth dates, then those patients' names): one join
            # lets SQLite start from a common name and read thousands of rows
            near_day = Patient.objects.filter(birth_date__in=_date_variants(born))
            near = PatientName.objects.filter(
                patient_id__in=list(near_day.values_list("pk", flat=True)[:2000])
            ).values_list("patient_id", "family_key", "given_key")
            shared = [pid for pid, f, g in near if f in families or g in forms]
            ids |= set(shared[:CAP_PER_QUERY])
    for family, given in names:
        q = Q(family_key=family, given_key__in=_given_forms(given) if given else {""})
        if given:
            q |= Q(family_key=given, given_key=family)
        found = PatientName.objects.filter(q).values_list("patient_id", flat=True)
        ids |= set(found[:CAP_PER_QUERY])
    lookups = _identifier_lookups(data)
    if lookups:
        idents = PatientIdentifier.objects.filter(lookup__in=lookups).exclude(
            kind=IdentifierKind.MRN
        )
        ids |= set(idents.values_list("patient_id", flat=True)[:CAP_PER_QUERY])
    return sorted(ids, key=str)


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
