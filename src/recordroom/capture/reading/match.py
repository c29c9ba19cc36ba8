"""Whose document it is: a cover sheet names the patient; else an MRN at the facility
confirmed by name or birth date; else the MPI's search before create on name and birth
date. Each guess says why in plain words, and a disagreement lowers it sharply (a
document in the wrong chart is the worst mistake capture can make)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Q
from rapidfuzz import fuzz

from recordroom.capture.types import PatientGuess, Value
from recordroom.kernel.text import search_key
from recordroom.mpi.models import Facility, IdentifierKind, Patient, PatientIdentifier

# Confidence by what agrees: (MRN at the facility?, name, birth date). Levels of the
# name: agree, close (an OCR slip), partial (surname only), disagree, absent; of the
# birth date: agree, near (one keying slip), disagree, absent. Chosen so that only a
# facility MRN with the name or birth date behind it reaches the default auto-file
# threshold (0.98, capture 0002): docs/admin-guide.md explains the table.
_WITH_MRN = {
    ("agree", "agree"): 0.995, ("close", "agree"): 0.99, ("agree", "absent"): 0.985,
    ("partial", "agree"): 0.98, ("absent", "agree"): 0.97, ("agree", "near"): 0.95,
    ("close", "absent"): 0.93, ("close", "near"): 0.9, ("partial", "absent"): 0.88,
    ("absent", "absent"): 0.85, ("partial", "near"): 0.8, ("absent", "near"): 0.7,
}  # fmt: skip
_WITHOUT_MRN = {
    ("agree", "agree"): 0.95, ("close", "agree"): 0.9, ("partial", "agree"): 0.6,
    ("agree", "near"): 0.7, ("close", "near"): 0.55, ("agree", "absent"): 0.35,
    ("close", "absent"): 0.25, ("absent", "agree"): 0.15,
}  # fmt: skip
# Name and birth date both exactly those of one record, and no other record in the
# index near either (same birth date with a like name, same name with a birth date one
# slip away): the two identifiers The Joint Commission asks for, alone in the index.
TWO_IDENTIFIERS = 0.985
OTHER_FACILITY = 0.03  # an MRN found only at another (or an unknown) facility
TIE = 0.5  # the most a guess keeps when another patient fits as well
MRN_ELSEWHERE = 0.3  # the most it keeps when the MRN read belongs to someone else


@dataclass
class Read:
    """The values that identify the patient, best first."""

    mrns: list[Value] = field(default_factory=list)
    names: list[tuple[str, str]] = field(default_factory=list)  # (family, given)
    birth_date: date | None = None

    @classmethod
    def of(cls, values: list[Value]) -> Read:
        out = cls()
        for v in sorted(values, key=lambda v: -v.confidence):
            if v.kind == "mrn" and v.source == "text":
                out.mrns.append(v)
            elif v.kind == "name":
                family, _, given = v.normalised.partition(", ")
                if (family, given) not in out.names:
                    out.names.append((family, given))
            elif v.kind == "birth_date" and out.birth_date is None:
                out.birth_date = date.fromisoformat(v.normalised)
        return out


@dataclass
class _Candidate:
    patient_id: str
    mrn: str = ""  # "facility" or "other"
    mrn_text: str = ""
    probability: float = 0.0  # the MPI engine's
    name: str = "absent"
    birth: str = "absent"
    confidence: float = 0.0
    evidence: list[str] = field(default_factory=list)


def survivor(pid: Any) -> Any:
    """Follow a chain of merges to the record that survives (None: no such patient)."""
    for _ in range(20):
        row = Patient.objects.filter(pk=pid).values_list("merged_into_id", flat=True)
        if not row:
            return None
        nxt = row[0]
        if nxt is None:
            return pid
        pid = nxt
    return pid


def mrn_variants(normalised: str, facility: Facility | None) -> set[str]:
    """The lookups an MRN read may be stored as: with or without its leading zeros or
    the facility's prefix."""
    m = re.fullmatch(r"([A-Z]*)(\d+)", normalised)
    if m is None:
        return {normalised}
    prefix, digits = m.groups()
    core = digits.lstrip("0") or "0"
    out = {normalised, digits, core, prefix + core}
    for width in range(len(core), 13):
        out |= {core.zfill(width), prefix + core.zfill(width)}
    if facility is not None and facility.mrn_prefix:
        out.add(facility.mrn_prefix.upper() + core.zfill(facility.mrn_width))
    return out


def mrn_owners(
    normalised: str, facility: Facility | None
) -> dict[str, tuple[str, str]]:
    """Patient id (followed to the survivor) -> ("facility" | "other", MRN as stored)
    for the MRN read."""
    rows = PatientIdentifier.objects.filter(
        kind=IdentifierKind.MRN, lookup__in=sorted(mrn_variants(normalised, facility))
    ).values_list("patient_id", "facility_id", "value")
    out: dict[str, tuple[str, str]] = {}
    for pid, fid, value in rows:
        final = survivor(pid)
        if final is None:
            continue
        here = facility is not None and fid == facility.pk
        level = "facility" if here else "other"
        if str(final) not in out or level == "facility":
            out[str(final)] = (level, value)
    if facility is not None and any(lv == "facility" for lv, _ in out.values()):
        # at the facility the number is theirs; the same digits elsewhere are noise
        out = {k: v for k, v in out.items() if v[0] == "facility"}
    return out


def _key_close(a: str, b: str) -> str:
    if not a or not b:
        return "absent"
    if a == b:
        return "agree"
    return "close" if fuzz.ratio(a, b) >= 85 else "disagree"


def name_level(read: list[tuple[str, str]], names: list[tuple[str, str]]) -> str:
    """How well the names read agree with the patient's (any use: a paper from
    before a marriage carries the earlier surname); either order is tried."""
    if not read:
        return "absent"
    order = {"agree": 4, "close": 3, "partial": 2, "disagree": 1}
    best = "disagree"
    for family, given in read:
        rf, rg = search_key(family), search_key(given).split(" ")
        for fam, giv in names:
            pf, pg = search_key(fam), search_key(giv).split(" ")
            for a, b in ((rf, rg), (" ".join(rg), rf.split(" "))):
                level = _one_name(a, b, pf, pg)
                if order[level] > order[best]:
                    best = level
    return best


def _one_name(family: str, given: list[str], p_family: str, p_given: list[str]) -> str:
    fam = _key_close(family.replace(" ", ""), p_family.replace(" ", ""))
    if fam == "disagree" or fam == "absent":
        return "disagree"
    first, p_first = (given[0] if given else ""), (p_given[0] if p_given else "")
    if not first:
        return "partial"
    giv = _key_close(first, p_first)
    if giv == "disagree" and len(first) == 1 and p_first.startswith(first):
        return "partial"  # an initial
    if giv == "disagree":
        return "disagree"
    return "agree" if fam == giv == "agree" else "close"


def birth_level(read: date | None, born: date | None) -> str:
    if read is None or born is None:
        return "absent"
    if read == born:
        return "agree"
    slips = {born.replace(day=born.month, month=born.day) if born.day <= 12 else born}
    # digits as printed, the year always four ('0203' for a misread year 203: the
    # platform's %Y would give '203')
    r, b = (f"{d.month:02d}{d.day:02d}{d.year:04d}" for d in (read, born))
    same_digits = sorted(r) == sorted(b)
    one_off = sum(x != y for x, y in zip(r, b, strict=True)) == 1
    if read in slips or same_digits or one_off:
        return "near"
    return "disagree"


def _describe(c: _Candidate, read: Read, facility: Facility | None) -> list[str]:
    out = []
    at = f" at {facility.code}" if facility is not None and c.mrn == "facility" else ""
    if c.mrn:
        out.append(f"MRN {c.mrn_text}{at} is theirs" + (
            "" if c.mrn == "facility" else " (found at another facility)"))  # fmt: skip
    words = {"agree": "agrees", "close": "agrees but for an OCR slip",
             "partial": "agrees in part", "disagree": "DISAGREES"}  # fmt: skip
    if c.name != "absent":
        family, given = read.names[0]
        out.append(f"name {family}, {given} {words[c.name]}")
    if c.birth != "absent":
        b = {"agree": "agrees", "near": "is one slip away", "disagree": "DISAGREES"}
        out.append(f"birth date {read.birth_date} {b[c.birth]}")
    if c.probability:
        out.append(f"patient index match probability {c.probability:.3f}")
    return out


def _score(c: _Candidate) -> float:
    key = (c.name, c.birth)
    if "disagree" in key:
        agree = "agree" in key or "close" in key
        return 0.3 if c.mrn and agree else 0.1 if c.mrn else 0.05
    if c.mrn:
        conf = _WITH_MRN.get(key, 0.5)
        return conf - (OTHER_FACILITY if c.mrn == "other" else 0.0)
    # the engine's probability ranks and explains; with no address or phone on the
    # page it is low even for a true match, so the agreement table sets the level
    return _WITHOUT_MRN.get(key, 0.05)


def guess_patient(values: list[Value], *, facility: Facility | None) -> PatientGuess:
    """The patient `values` point to (see the module docstring)."""
    cover = next((v for v in values if v.kind == "mrn" and v.source == "barcode"), None)
    if cover is not None:
        return _from_cover(cover)
    read = Read.of(values)
    found: dict[str, _Candidate] = {}
    for v in read.mrns[:3]:
        for pid, (level, stored) in mrn_owners(v.normalised, facility).items():
            c = found.setdefault(pid, _Candidate(pid))
            if not c.mrn or level == "facility":
                c.mrn, c.mrn_text = level, stored
    if read.names or read.birth_date:
        for pid, probability in _index_search(read):
            found.setdefault(pid, _Candidate(pid)).probability = probability
    if not found:
        return PatientGuess(None, 0.0, ["no patient in the index fits what was read"])
    patients = {
        str(p.pk): p
        for p in Patient.objects.filter(pk__in=list(found)).prefetch_related("names")
    }
    for pid, c in found.items():
        p = patients[pid]
        c.name = name_level(
            read.names, [(n.family, f"{n.given} {n.middle}") for n in p.names.all()]
        )
        c.birth = birth_level(read.birth_date, p.birth_date)
        c.confidence = _score(c)
        c.evidence = _describe(c, read, facility)
    ranked = sorted(found.values(), key=lambda c: -c.confidence)
    best = ranked[0]
    confidence, evidence = best.confidence, list(best.evidence)
    if len(ranked) > 1 and ranked[1].confidence >= confidence - 0.05:
        if bool(ranked[1].mrn) == bool(best.mrn):
            confidence = min(confidence, TIE)
            evidence.append("another patient fits as well: check both")
        else:  # the MRN tells two records of one name and birth date apart
            evidence.append(
                "another record has this name and birth date (a duplicate?)"
            )
    if (
        not best.mrn
        and (best.name, best.birth) == ("agree", "agree")
        and confidence == best.confidence
        and _alone(best.patient_id, read)
    ):
        confidence = TWO_IDENTIFIERS
        evidence.append("no other record has this name with a like birth date, "
                        "or this birth date with a like name")  # fmt: skip
    owners = [c for c in ranked[1:] if c.mrn == "facility"]
    if owners and best.mrn != "facility":
        confidence = min(confidence, MRN_ELSEWHERE)
        evidence.append(
            f"MRN {owners[0].mrn_text} on the page belongs to another patient"
        )
    return PatientGuess(
        patient_id=uuid.UUID(best.patient_id) if confidence > 0.05 else None,
        confidence=round(confidence, 4),
        evidence=evidence,
        candidates=[
            (uuid.UUID(c.patient_id), round(c.confidence, 4)) for c in ranked[1:5]
        ],
    )


def _alone(pid: str, read: Read) -> bool:
    """Does every name read agree with record `pid`, and does no other record share
    the birth date with a like name, or the surname with a near birth date?"""
    from recordroom.mpi.models import PatientName

    born = read.birth_date
    if born is None or not read.names:
        return False
    mine = [(n.family, f"{n.given} {n.middle}")
            for n in PatientName.objects.filter(patient_id=pid)]  # fmt: skip
    if any(name_level([n], mine) not in ("agree", "close") for n in read.names):
        return False  # a second name on the pages: whose is it?
    families = {search_key(f) for f, _ in read.names}
    others = (
        Patient.objects.filter(merged_into__isnull=True)
        .exclude(pk=pid)
        .filter(Q(birth_date=born) | Q(names__family_key__in=families))
        .prefetch_related("names")
        .distinct()
    )
    for p in others[:200]:
        names = [(n.family, f"{n.given} {n.middle}") for n in p.names.all()]
        level = name_level(read.names, names)
        twin = any(fuzz.ratio(search_key(n.family), f) >= 75
                   for n in p.names.all() for f in families)  # fmt: skip
        if p.birth_date == born and (level != "disagree" or twin):
            return False  # twins share a surname and a birthday: an MRN tells them
        if level in ("agree", "close") and birth_level(born, p.birth_date) != "disagree":
            return False
    return True


def _from_cover(value: Value) -> PatientGuess:
    pid = value.normalised.removeprefix("id:")
    final = survivor(pid)
    if final is None:
        return PatientGuess(
            None, 0.0, ["the cover sheet names a patient who is not in the index"]
        )
    evidence = ["the cover sheet's barcode names this patient"]
    if str(final) != pid:
        evidence.append(
            f"the record it names was merged into this one ({pid} → {final})"
        )
    return PatientGuess(uuid.UUID(str(final)), 1.0, evidence)


def _index_search(read: Read) -> list[tuple[str, float]]:
    """Search before create through the MPI engine: (survivor id, probability)."""
    from recordroom.mpi.linkage.realtime import match_patient
    from recordroom.mpi.services import NameIn, PatientIn

    # the engine tries each name either way round ('DOE JANE' read as given-family)
    names = [NameIn(family=f, given=g.split(" ")[0]) for f, g in read.names[:2] if f]
    if not names:
        return []  # a birth date alone names nobody
    data = PatientIn(names=names, birth_date=read.birth_date)
    out: dict[str, float] = {}
    for c in match_patient(data=data, limit=10):
        final = survivor(c.patient_id)
        if final is not None and c.probability > out.get(str(final), -1):
            out[str(final)] = c.probability
    return list(out.items())
