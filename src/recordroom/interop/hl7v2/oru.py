"""ORU^R01 results: each OBR with its OBX values and NTE notes filed as a lab or
radiology report of the patient PID names (records.results).

A report is known by its filler order number (OBR-3) and whose numbering that is,
so a resend files nothing and a correction (OBR-25/OBX-11 "C") becomes the report's
next version, the earlier one kept. An unknown patient is an error (AE), never a
new chart; a visit number we do not know is kept on the report and said in the ACK.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import Encounter, Provider, ResultCategory
from recordroom.records.results import Filed, ObservationIn, ResultIn, file_result

from . import pid as pidf
from .ack import Applied

# unescape: FT formatting (\.br\) and the escapes decoded in one pass, as MDM reads
from .parser import Hl7Error, Message, Segment, component, parse_datetime, unescape

ORU_EVENTS = {"R01"}

# OBR-25 result status (HL7 table 0123) -> report status
REPORT_STATUS = {
    "O": "registered", "I": "registered", "S": "registered",
    "A": "preliminary", "P": "preliminary", "R": "preliminary",
    "F": "final", "C": "corrected", "M": "corrected", "X": "cancelled",
}  # fmt: skip
# OBX-11 observation result status (HL7 table 0085) -> observation status
OBSERVATION_STATUS = {
    "C": "corrected", "D": "entered-in-error", "F": "final", "I": "registered",
    "N": "cancelled", "P": "preliminary", "R": "preliminary", "S": "preliminary",
    "U": "final", "W": "entered-in-error", "X": "cancelled",
}  # fmt: skip
# Coding system names (HL7 table 0396) -> FHIR code system URIs
SYSTEMS = {
    "LN": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "SNM": "http://snomed.info/sct",
    "UCUM": "http://unitsofmeasure.org",
    "ANS+": "http://unitsofmeasure.org",
    "I10": "http://hl7.org/fhir/sid/icd-10",
    "CPT": "http://www.ama-assn.org/go/cpt",
    "C4": "http://www.ama-assn.org/go/cpt",
    "HL70078": "http://terminology.hl7.org/CodeSystem/v2-0078",
}
TEXT_TYPES = {"ST", "TX", "FT", "ID", "IS", "DT", "TM", "TS", "DTM"}
CODED_TYPES = {"CE", "CWE", "CNE", "CF"}
ACCEPTED_TYPES = sorted({"NM", "SN", *TEXT_TYPES, *CODED_TYPES})
_COMPARATORS = {"<", ">", "<=", ">=", "=", "<>"}
_LIMIT = Decimal("1e15")  # past the digits an observation value keeps


def apply_oru(actor: Actor, msg: Message) -> Applied:
    """Apply one ORU^R01 in the caller's transaction: every OBR group, or none."""
    pid = pidf.require_pid(msg)
    facility, patient = pidf.known_patient(msg, pid)
    groups = _groups(msg)
    encounter, visit, notes = _encounter(msg, pid, facility, patient)
    filed: list[dict[str, str]] = []
    for group in groups:
        data = _result(msg, group, patient, facility, encounter, visit)
        done = file_result(actor=actor, data=data)
        filed.append(_summary(done))
        if done.outcome == "unchanged":
            notes.append(
                f"result {data.filler_number} was received before with the same "
                "content; not filed again"
            )
    return Applied(patient, {"results": filed}, "; ".join(notes))


def _summary(done: Filed) -> dict[str, str]:
    r = done.report
    return {"report": str(r.pk), "filler": r.filler_number, "outcome": done.outcome,
            "version": str(r.version), "status": r.status}  # fmt: skip


@dataclass
class _Group:
    """One order's segments: its ORC (if any), OBR and notes, OBX each with notes."""

    obr: Segment
    orc: Segment | None = None
    notes: list[Segment] = field(default_factory=list)
    obx: list[tuple[Segment, list[Segment]]] = field(default_factory=list)


def _groups(msg: Message) -> list[_Group]:
    groups: list[_Group] = []
    orc: Segment | None = None
    for seg in msg.segments:
        if seg.name == "ORC":
            orc = seg
        elif seg.name == "OBR":
            groups.append(_Group(seg, orc))
            orc = None
        elif seg.name == "OBX":
            if not groups:
                raise Hl7Error("an OBX segment comes before any OBR", "OBX", "100")
            groups[-1].obx.append((seg, []))
        elif seg.name == "NTE" and groups:
            group = groups[-1]
            (group.obx[-1][1] if group.obx else group.notes).append(seg)
    if not groups:
        raise Hl7Error("ORU^R01 needs an OBR segment for each result", "OBR", "100")
    return groups


def _encounter(
    msg: Message, pid: Segment, facility: Facility, patient: Patient
) -> tuple[Encounter | None, str, list[str]]:
    """The visit PV1-19 (or PID-18) numbers, the number, and a note when it is not
    one of this patient's visits at the facility (the result is filed without it)."""
    pv1 = msg.segment("PV1")
    number = (pv1.comp(19) if pv1 is not None else "") or pid.comp(18)
    if not number:
        return None, "", []
    found = Encounter.objects.filter(
        facility=facility, account_number=number[:40], patient=patient
    ).first()
    if found is not None:
        return found, number, []
    return (
        None,
        number,
        [
            f"visit {number} (PV1-19) is not one of this patient's visits at "
            f"{facility.code}; results filed to the chart without a visit"
        ],
    )


def _result(
    msg: Message, group: _Group, patient: Patient, facility: Facility,
    encounter: Encounter | None, visit: str,
) -> ResultIn:  # fmt: skip
    obr, orc = group.obr, group.orc
    tz = clock.zone_of(facility)
    filler = obr.comp(3) or (orc.comp(3) if orc is not None else "")
    if not filler:
        raise Hl7Error(
            "OBR-3 (filler order number) is empty; a result is known by it, so a "
            "correction or resend finds it",
            "OBR-3",
            "101",
        )
    codings = _codings(obr, 4, "OBR-4")
    observations = [_observation(s, notes, tz) for s, notes in group.obx]
    performer, performer_name = _performer(obr, group.obx)
    return ResultIn(
        patient=patient,
        facility=facility,
        encounter=encounter,
        visit_number=visit,
        code=codings[0]["code"],
        code_system=codings[0]["system"],
        display=codings[0]["display"],
        codings=_kept(codings),
        text=obr.comp(4, 9),
        category=_category(obr),
        status=_report_status(obr, observations),
        effective_at=parse_datetime(obr.comp(7), "OBR-7", tz),
        issued_at=parse_datetime(obr.comp(22), "OBR-22", tz),
        performer=performer,
        performer_name=performer_name,
        conclusion=_conclusion(group),
        notes=_notes(group.notes),
        placer_number=obr.comp(2) or (orc.comp(2) if orc is not None else ""),
        filler_number=filler,
        source=_source(msg, obr),
        message=msg.msh.raw(10),
        observations=observations,
    )


def _source(msg: Message, obr: Segment) -> str:
    """Whose numbering OBR-3 is: its namespace (the filler application), else the
    sender."""
    authority = obr.comp(3, 2) or obr.comp(3, 3)
    return f"hl7v2:{authority or f'{msg.msh.comp(3)}@{msg.msh.comp(4)}'}"[:200]


def _category(obr: Segment) -> str:
    code = obr.comp(24).upper()
    if not code:
        return ResultCategory.LAB
    if code not in ResultCategory.values:
        raise Hl7Error(
            f"OBR-24 diagnostic service section {code!r} is not in HL7 table 0074",
            "OBR-24",
            "103",
        )
    return code


def _report_status(obr: Segment, observations: list[ObservationIn]) -> str:
    """OBR-25; when empty, what the values say (corrected, preliminary or final)."""
    code = obr.comp(25).upper()
    if code in REPORT_STATUS:
        return REPORT_STATUS[code]
    if code:
        raise Hl7Error(
            f"OBR-25 result status {code!r} is not one of "
            f"{', '.join(REPORT_STATUS)} (HL7 table 0123)",
            "OBR-25",
            "103",
        )
    statuses = {o.status for o in observations}
    for status in ("corrected", "preliminary", "final"):
        if status in statuses:
            return status
    raise Hl7Error("OBR-25 (result status) is empty", "OBR-25", "101")


def _codings(seg: Segment, n: int, where: str, *, rep: int = 0) -> list[dict[str, str]]:
    """A CE/CWE field's codings (identifier and alternate), LOINC first."""
    out = []
    for first in (1, 4):
        code = seg.comp(n, first, rep=rep)
        if code:
            name = seg.comp(n, first + 2, rep=rep)
            out.append({"code": code, "display": seg.comp(n, first + 1, rep=rep),
                        "system": _system(name)})  # fmt: skip
    if not out:
        text = seg.comp(n, 2, rep=rep)
        if not text:
            raise Hl7Error(f"{where} (identifier) is empty", where, "101")
        out.append({"code": "", "display": text, "system": ""})
    out.sort(key=lambda c: c["system"] != SYSTEMS["LN"])
    return out


def _kept(codings: list[dict[str, str]]) -> list[dict[str, str]]:
    """The codings worth keeping beside the first: all of them, when there are
    several (the sender's local code and LOINC)."""
    return codings if len(codings) > 1 else []


def _system(name: str) -> str:
    if not name:
        return ""
    return SYSTEMS.get(name.upper(), f"urn:recordroom:hl7v2-code-system:{name}")


def _observation(seg: Segment, notes: list[Segment], tz: object) -> ObservationIn:
    n = seg.comp(1) or "?"
    kind = seg.comp(2).upper()
    codings = _codings(seg, 3, f"OBX-3 (OBX {n})")
    code = codings[0]
    units_code = seg.comp(6) or seg.comp(6, 2)
    status = seg.comp(11).upper()
    if status and status not in OBSERVATION_STATUS:
        raise Hl7Error(
            f"OBX-11 {status!r} (OBX {n}) is not an observation result status "
            "(HL7 table 0085)", "OBX-11", "103",
        )  # fmt: skip
    obs = ObservationIn(
        code=code["code"],
        code_system=code["system"],
        display=code["display"],
        codings=_kept(codings),
        text=seg.comp(3, 9),
        value_type=kind or "ST",
        units=units_code,
        units_system=_system(seg.comp(6, 3)) if units_code else "",
        reference_range=seg.comp(7),
        abnormal_flags=[component(r, 1, seg.enc) for r in seg.reps(8) if r],
        status=OBSERVATION_STATUS.get(status, "final"),
        effective_at=parse_datetime(seg.comp(14), "OBX-14", tz),  # type: ignore[arg-type]
        sub_id=seg.comp(4),
        performer_name=seg.comp(23),  # XON: the organization's name
        notes=_notes(notes),
    )
    _value(seg, obs, n)
    return obs


def _value(seg: Segment, obs: ObservationIn, n: str) -> None:
    """OBX-5 read as its type (OBX-2) says."""
    kind = obs.value_type
    reps = seg.reps(5)
    if not reps:
        return  # no value: pending, or could not be obtained
    if kind == "NM":
        obs.value_number = _decimal(seg.comp(5), n)
        obs.value_text = seg.comp(5)
    elif kind == "SN":
        comparator, first = seg.comp(5, 1), seg.comp(5, 2)
        if comparator and comparator not in _COMPARATORS:
            raise Hl7Error(f"OBX-5 SN comparator {comparator!r} (OBX {n}) is not one "
                           f"of {', '.join(sorted(_COMPARATORS))}", "OBX-5")  # fmt: skip
        obs.value_comparator = "" if comparator == "=" else comparator
        obs.value_number = _decimal(first, n)
        if seg.comp(5, 4):
            obs.value_separator = seg.comp(5, 3)[:1] or ":"
            obs.value_number2 = _decimal(seg.comp(5, 4), n)
    elif kind in CODED_TYPES:
        codes = [_codings(seg, 5, f"OBX-5 (OBX {n})", rep=r)[0]
                 for r in range(len(reps)) if reps[r]]  # fmt: skip
        obs.value_code, obs.value_code_system = codes[0]["code"], codes[0]["system"]
        # every repetition's text kept (several organisms, several findings)
        obs.value_text = "\n".join(c["display"] or c["code"] for c in codes)
    elif kind in TEXT_TYPES:
        obs.value_text = "\n".join(unescape(r, seg.enc) for r in reps).rstrip()
    else:
        raise Hl7Error(
            f"OBX-2 value type {kind or '(empty)'!r} (OBX {n}) is not one a result "
            f"is filed with; accepted: {', '.join(ACCEPTED_TYPES)} (a document goes "
            "as MDM)",
            "OBX-2",
            "103" if kind else "101",
        )


def _decimal(value: str, n: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise Hl7Error(f"OBX-5 {value!r} (OBX {n}) is not a number", "OBX-5") from None
    if not number.is_finite() or abs(number) >= _LIMIT:
        raise Hl7Error(f"OBX-5 {value!r} (OBX {n}) is out of range", "OBX-5")
    return number


def _notes(segments: list[Segment]) -> str:
    """NTE-3 comments, a line each (repetitions too), escapes decoded."""
    lines = [unescape(r, s.enc) for s in segments for r in s.reps(3)]
    return "\n".join(lines).strip()


def _conclusion(group: _Group) -> str:
    """The impression of a radiology report: the text OBX coded ...&IMP (the
    Cerner/Epic style of sub-identifying report sections) or named impression."""
    lines = []
    for seg, _ in group.obx:
        ident = seg.raw(3).split(seg.enc.component)[0]
        named = seg.comp(3, 2).upper()
        if ident.upper().endswith("&IMP") or "IMPRESSION" in named:
            lines += [unescape(r, seg.enc) for r in seg.reps(5)]
    return "\n".join(lines).strip()


def _performer(
    obr: Segment, obx: list[tuple[Segment, list[Segment]]]
) -> tuple[Provider | None, str]:
    """OBR-32 principal result interpreter (or the first OBX-16 responsible
    observer) when their ID is an NPI we know; the name as sent, or the performing
    lab (OBX-23)."""
    npi = obr.comp(32, 1, sub=1)  # NDL: the name is the first component's parts
    name = " ".join(p for p in (obr.comp(32, 1, sub=3), obr.comp(32, 1, sub=2)) if p)
    if not npi and obx:
        first = obx[0][0]
        npi = first.comp(16)
        name = " ".join(p for p in (first.comp(16, 3), first.comp(16, 2)) if p)
    provider = Provider.objects.filter(npi=npi).first() if npi else None
    if not name and obx:
        name = obx[0][0].comp(23)
    return provider, name[:200]
