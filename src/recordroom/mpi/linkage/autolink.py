"""When search before create may link a registration to an existing record with no
person looking (issue 12: no wrong automatic link).

A probability above the automatic-link threshold is not enough: relatives at one
address (a parent and child of one name, a sibling whose first name was left blank)
score like one person with a garbled name. An automatic link also needs, between
the registration and the record:

- the same surname (a current or former name of the record), or one keying slip
  from it (at most two edits and Jaro-Winkler 0.9: Lindqvist, Lindqvsit);
- the same birth date and one of: the same full SSN, another identifier in common
  (not an MRN), the same first name (the same key, or a nickname of it: Bill for
  William); or, when either has no birth date, the same full SSN and the same
  first name;
- no disagreement: not two SSNs, not two recorded sexes, not two generation
  suffixes (Jr against Sr or none), not two middle initials (unless the birth
  date and the full SSN are the same), not two first names
  that are not one name written two ways (the household guard's pattern: same
  surname, other first name), whatever else agrees;

The link goes to the best candidate above the threshold that meets them (a
registration without a birth date joins the record that shares its SSN rather than
the one it cannot be checked against). Anything else above the threshold goes to review: the record is created and the
pair is on the duplicate worklist, never linked and never silently left out.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA, JaroWinkler

from recordroom.mpi.merge_rules import GENERATIONS
from recordroom.mpi.models import IdentifierKind, Patient, PatientIdentifier
from recordroom.mpi.services import PatientIn, identifier_lookup, ssn_lookup

from . import normalize as nz
from . import placeholders as ph
from .realtime import _given_forms


def _suffix(text: str) -> str:
    value = (text or "").upper().replace(".", "").strip()
    return GENERATIONS.get(value, "")


def _incoming_ids(data: PatientIn) -> tuple[set[str], set[str]]:
    """(SSN lookups, other non-MRN identifier lookups) of the registration."""
    ssns, others = set(), set()
    for i in data.identifiers:
        if i.kind == IdentifierKind.SSN:
            digits = re.sub(r"\D", "", i.value or "")
            if digits and not ph.is_placeholder_ssn_digits(digits):
                ssns.add(ssn_lookup(digits))
        elif i.kind != IdentifierKind.MRN and i.value:
            others.add(identifier_lookup(i.value))
    return ssns, others


def _same_given(a: str, b: str) -> bool:
    return bool(a and b) and (a == b or b in _given_forms(a) or a in _given_forms(b))


def _one_name(a: str, b: str) -> bool:
    """One first name written two ways: the same, a nickname, one keying slip
    (Rboert, Robrt: at most two edits, Jaro-Winkler 0.9), or an initial of it."""
    if _same_given(a, b) or (min(len(a), len(b)) == 1 and a[0] == b[0]):
        return True
    return OSA.distance(a, b) <= 2 and JaroWinkler.similarity(a, b) >= 0.9


def blockers(target: Patient, data: PatientIn) -> list[str]:
    """Why `data` may not be linked to `target` automatically (empty: it may)."""
    why: list[str] = []
    born = None if ph.is_placeholder_date(data.birth_date) else data.birth_date
    dated = born is not None and target.birth_date is not None
    if dated and born != target.birth_date:
        why.append("different birth dates")
    if (data.sex in ("male", "female") and target.sex in ("male", "female")
            and data.sex != target.sex):  # fmt: skip
        why.append("different sex")
    held = list(target.names.values_list("family_key", "given_key", "middle", "suffix"))
    mine = [(nz.name_key(n.family), nz.name_key(n.given), n.middle, n.suffix)
            for n in data.names]  # fmt: skip
    same_family = [(m, h) for m in mine for h in held if m[0] and h[0]
                   and _one_name(m[0], h[0])]  # fmt: skip
    if not same_family:
        why.append("different surnames")
    pairs = same_family or [(m, h) for m in mine for h in held]
    same_given = any(_same_given(m[1], h[1]) for m, h in pairs)
    if not any(_one_name(m[1], h[1]) for m, h in pairs if m[1] and h[1]) and any(
        m[1] and h[1] for m, h in pairs
    ):
        why.append("different first names")
    if pairs and all(_suffix(m[3]) != _suffix(h[3]) for m, h in pairs):
        why.append("different generation suffixes")
    ssns, others = _incoming_ids(data)
    rows = PatientIdentifier.objects.filter(patient=target, period_end=None)
    their_ssns = set(
        rows.filter(kind=IdentifierKind.SSN).values_list("lookup", flat=True)
    )
    their_other = set(
        rows.exclude(kind__in=(IdentifierKind.SSN, IdentifierKind.MRN))
        .values_list("lookup", flat=True)
    )  # fmt: skip
    if (
        not (dated and ssns & their_ssns)
        and pairs
        and all(
            _initial(m[2]) and _initial(h[2]) and _initial(m[2]) != _initial(h[2])
            for m, h in pairs
        )
    ):
        why.append("different middle initials")
    if ssns and their_ssns and not ssns & their_ssns:
        why.append("different SSNs")
    if not dated and not (ssns & their_ssns and same_given):
        why.append("no birth date on both, and not the same SSN and first name")
    elif not (ssns & their_ssns or others & their_other or same_given):
        why.append("no SSN, identifier or first name in common")
    return why


def _initial(middle: str) -> str:
    key = nz.name_key(middle or "")
    return key[:1]
