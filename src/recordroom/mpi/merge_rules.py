"""The merge rules: what says two records are two people (twins, a junior and a
senior, two SSNs), what outweighs it (a shared full SSN or identifier), and the
notes a reviewer should read (an SSN typo). One verdict for the compare page, a
merge, and an inbound HL7 merge alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from rapidfuzz.distance import OSA, JaroWinkler

from .linkage.nicknames import are_nicknames
from .models import IdentifierKind, Patient, PatientIdentifier, PatientName

# Spellings of a generation, as the suffix field holds them after upper-casing and
# dropping dots; only two different explicit generations are two people.
GENERATIONS = {"JR": "JR", "JUNIOR": "JR", "SR": "SR", "SENIOR": "SR", "II": "II",
               "2ND": "II", "III": "III", "3RD": "III", "IV": "IV", "4TH": "IV",
               "V": "V", "5TH": "V"}  # fmt: skip
# Keys next to each other on a QWERTY keyboard: one struck for the other is a typo.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
# Identifier kinds whose sharing says one person (a family shares a member id).
PERSONAL_KINDS = (IdentifierKind.MRN, IdentifierKind.ENTERPRISE, IdentifierKind.DRIVER,
                  IdentifierKind.OTHER)  # fmt: skip
# Given names at least this alike (Jaro-Winkler) may be one name mistyped.
GIVEN_SIMILARITY = 0.8


@dataclass(frozen=True)
class Blocker:
    """One rule against the merge; `guard` rules a manager may override, the rest
    (a record merged into itself, an already retired record) nobody may."""

    rule: str
    text: str
    guard: bool = True


@dataclass
class Verdict:
    blockers: list[Blocker] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def guards(self) -> list[Blocker]:
        return [b for b in self.blockers if b.guard]

    @property
    def hard(self) -> list[Blocker]:
        return [b for b in self.blockers if not b.guard]


def judge(survivor: Patient, retired: Patient) -> Verdict:
    """The rules' verdict on merging `retired` into `survivor`."""
    v = Verdict()
    if survivor.pk == retired.pk:
        v.blockers.append(
            Blocker("self", "a record cannot be merged into itself", False)
        )
    if retired.merged_into_id:
        v.blockers.append(Blocker("retired", f"record {retired.pk} is already merged "
                                  f"into {retired.merged_into_id}", False))  # fmt: skip
    if survivor.merged_into_id:
        v.blockers.append(Blocker("retired", f"record {survivor.pk} is itself retired "
                                  f"(merged into {survivor.merged_into_id}); merge into "
                                  "that one", False))  # fmt: skip
    _generations(survivor, retired, v)
    idents = [list(p.identifiers.all()) for p in (survivor, retired)]
    shared_ssn = _ssns(idents[0], idents[1], v)
    shared = shared_ssn or _shared_identifier(idents[0], idents[1])
    _twins(survivor, retired, shared, v)
    if survivor.sex != retired.sex and "unknown" not in (survivor.sex, retired.sex):
        v.notes.append(f"the recorded sex differs ({survivor.sex} / {retired.sex}): "
                       "choose which survives; it is not a rule against the merge")  # fmt: skip
    return v


def merge_blockers(survivor: Patient, retired: Patient) -> list[str]:
    """Why these two records must not be merged, by rule (empty: they may be)."""
    return [b.text for b in judge(survivor, retired).blockers]


def generation(name: PatientName | None) -> str:
    raw = (name.suffix if name else "").upper().replace(".", "").strip()
    return GENERATIONS.get(raw, "")


def _generations(survivor: Patient, retired: Patient, v: Verdict) -> None:
    """JR against SR, II against III: two people. JR against no suffix is one
    person written with and without it."""
    a, b = generation(survivor.legal_name()), generation(retired.legal_name())
    if a and b and a != b:
        v.blockers.append(Blocker("generation", f"one record is {a}, the other {b}: "
                                  "a junior and a senior are two people"))  # fmt: skip


def _ssns(a: list[PatientIdentifier], b: list[PatientIdentifier], v: Verdict) -> bool:
    """Two SSNs: two people, unless one is the other mistyped. Returns whether the
    records share a full SSN."""
    sa = [i for i in a if i.kind == IdentifierKind.SSN]
    sb = [i for i in b if i.kind == IdentifierKind.SSN]
    if not sa or not sb:
        return False
    if {i.lookup for i in sa} & {i.lookup for i in sb}:
        return True
    for x, y in product(sa, sb):
        kind = ssn_typo(_digits(x), _digits(y))
        if kind:
            v.notes.append(f"the SSNs differ by {kind} (…{x.last4} / …{y.last4}): a "
                           "keying error, not two people; check which is right")  # fmt: skip
            return False
    v.blockers.append(Blocker("two-ssns", "the records carry two different SSNs: two "
                              "people, or an overlay to split, not a duplicate"))  # fmt: skip
    return False


def _digits(ident: PatientIdentifier) -> str:
    from .services import reveal_ssn

    try:
        return "".join(c for c in reveal_ssn(ident) if c.isdigit())
    except Exception:  # no readable value: compared by its last four only
        return ""


def ssn_typo(x: str, y: str) -> str:
    """'one digit' or 'two digits transposed' when y is x mistyped; else ''."""
    if len(x) != 9 or len(y) != 9 or x == y:
        return ""
    diff = [i for i in range(9) if x[i] != y[i]]
    if len(diff) == 1:
        return "one digit"
    i, j = (diff + [0, 0])[:2]
    if len(diff) == 2 and j == i + 1 and x[i] == y[j] and x[j] == y[i]:
        return "two digits transposed"
    return ""


def _shared_identifier(a: list[PatientIdentifier], b: list[PatientIdentifier]) -> bool:
    """An identifier of the person (MRN, enterprise id, licence; not a family's
    member id) that both records have carried, current or ended."""
    keys = {(i.kind, i.system, i.lookup) for i in a if i.kind in PERSONAL_KINDS}
    return any((i.kind, i.system, i.lookup) in keys for i in b)


def _twins(survivor: Patient, retired: Patient, shared: bool, v: Verdict) -> None:
    na, nb = survivor.legal_name(), retired.legal_name()
    if not (na and nb and survivor.birth_date
            and survivor.birth_date == retired.birth_date
            and na.family_key == nb.family_key and different_given(na, nb)):  # fmt: skip
        return
    if shared:
        v.notes.append(f"same birth date and surname, different first names ({na.given} "
                       f"and {nb.given}), but the records share a full SSN or an "
                       "identifier: twins rarely do, so this is not held as twins")  # fmt: skip
        return
    v.blockers.append(Blocker("twins", f"same birth date and surname, different first "
                              f"names ({na.given} and {nb.given}): twins are two "
                              "people"))  # fmt: skip


def different_given(a: PatientName, b: PatientName) -> bool:
    """Two first names, not one written two ways: an initial, a nickname of the
    same name (Mike, Michael), the same first of several names, or a keying error
    (Aqron, Jmmy, Lius) is one name."""
    return not same_given(a.given_key, b.given_key)


def same_given(x: str, y: str) -> bool:
    if not x or not y or x == y:
        return True
    if len(x) == 1 or len(y) == 1:  # an initial
        return x[0] == y[0]
    if x.split()[0] == y.split()[0]:  # "mary ann" and "mary"
        return True
    if are_nicknames(x, y) or any(are_nicknames(p, q) for p in x.split()
                                  for q in y.split()):  # fmt: skip
        return True
    return is_typo(x, y)


def is_typo(x: str, y: str) -> bool:
    """One keying error: two neighbouring letters swapped, a letter dropped or
    doubled (in a name of four letters or more), or a key struck for its neighbour
    on the keyboard. Mary and Mark, Ella and Emma stay two names."""
    if OSA.distance(x, y) != 1 or JaroWinkler.similarity(x, y) < GIVEN_SIMILARITY:
        return False
    if len(x) != len(y):
        return max(len(x), len(y)) >= 4
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) == 2:  # a transposition (OSA distance 1 with two positions)
        return True
    return _neighbours(x[diff[0]], y[diff[0]])


def _neighbours(a: str, b: str) -> bool:
    for r, row in enumerate(_ROWS):
        if a in row:
            i = row.index(a)
            near = set(row[max(i - 1, 0) : i + 2])
            for other in (r - 1, r + 1):
                if 0 <= other < len(_ROWS):
                    near |= set(_ROWS[other][max(i - 1, 0) : i + 2])
            return b in near
    return False
