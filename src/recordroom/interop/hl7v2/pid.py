"""Reading the patient out of a message: PID fields as our types, and the patient and
facility they name (shared by the ADT and MDM handlers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from recordroom.kernel import sqlrows
from recordroom.mpi.models import (
    Facility,
    IdentifierKind,
    MrnSource,
    NameUse,
    Patient,
    PatientIdentifier,
    Sex,
)
from recordroom.mpi.services import IdentifierIn, NameIn, identifier_lookup

from .nulls import clean
from .parser import Encoding, Hl7Error, Message, Segment, component

SSN = re.compile(r"\d{3}-?\d{2}-?\d{4}")
SEX = {
    "M": Sex.MALE,
    "F": Sex.FEMALE,
    "O": Sex.OTHER,
    "U": Sex.UNKNOWN,
    "A": Sex.OTHER,
    "N": Sex.UNKNOWN,
}


def require_pid(msg: Message) -> Segment:
    pid = msg.segment("PID")
    if pid is None:
        kind = "^".join(p for p in (msg.msh.comp(9), msg.msh.comp(9, 2)) if p)
        raise Hl7Error(f"{kind} needs a PID segment", "PID", "100")
    return pid


def facility_of(msg: Message, pid: Segment) -> Facility:
    """The MRN's facility: PID-3's assigning authority when it is a facility code,
    else the sending facility (MSH-4)."""
    for rep in pid.reps(3):
        authority = clean(component(rep, 4, pid.enc))
        if clean(component(rep, 5, pid.enc)) == "MR" and authority:
            found = facility_by_code(authority)
            if found is not None:
                return found
            break
    code = msg.msh.comp(4)
    if not code:
        raise Hl7Error("MSH-4 (sending facility) is empty", "MSH-4", "101")
    facility = facility_by_code(code)
    if facility is None:
        raise Hl7Error(
            f"unknown sending facility {code!r} in MSH-4; no facility has that code",
            "MSH-4",
            "204",
        )
    return facility


def facility_by_code(code: str) -> Facility | None:
    """The facility whose code is `code`, ignoring case (as code__iexact).

    Plain SQL (kernel.sqlrows), not the ORM, which spent 0.3 ms of CPU building this
    query for every message; not cached either, so a facility an administrator
    changes is seen by the next message (the query itself costs 0.02 ms).
    """
    return sqlrows.fetch_first(
        f"SELECT {sqlrows.columns(Facility)} FROM {Facility._meta.db_table} "  # noqa: S608
        "WHERE UPPER(code) = UPPER(%s) ORDER BY code LIMIT 1",
        [code],
        Facility,
    )


def mrn(pid: Segment) -> str:
    """The medical record number: PID-3's first MR, else its first identifier that
    is not an SSN, a driver's licence or a person number."""
    return pid_3(pid)[_mrn_rep(pid)].value


def _mrn_rep(pid: Segment) -> int:
    reps = pid_3(pid)
    if not reps:
        raise Hl7Error("PID-3 (patient identifier list) is empty", "PID-3", "101")
    for i, r in enumerate(reps):
        if r.type_code == "MR":
            return i
    for i, r in enumerate(reps):
        if r.type_code not in {"SS", "DL", "PN"}:
            return i
    raise Hl7Error("PID-3 holds no medical record number", "PID-3", "101")


def names(pid: Segment) -> list[NameIn]:
    enc: Encoding = pid.enc
    out: list[NameIn] = []
    legal_seen = False
    for rep in pid.reps(5):
        family = clean(component(rep, 1, enc))
        if not family:
            continue
        kind = clean(component(rep, 7, enc))
        use = NameUse.ALIAS
        if not legal_seen and kind in {"L", ""}:
            use, legal_seen = NameUse.LEGAL, True
        elif kind == "M":
            use = NameUse.MAIDEN
        out.append(
            NameIn(
                family=family[:100],
                given=clean(component(rep, 2, enc))[:100],
                middle=clean(component(rep, 3, enc))[:100],
                suffix=clean(component(rep, 4, enc))[:20],
                prefix=clean(component(rep, 5, enc))[:20],
                use=use,
            )
        )
    if not out:
        raise Hl7Error("PID-5 (patient name) is empty", "PID-5", "101")
    if not legal_seen:
        out[0].use = NameUse.LEGAL
    out.sort(key=lambda n: n.use != NameUse.LEGAL)
    return out


def sex(pid: Segment) -> str:
    """PID-8 as our sex; its null `""` is unknown (sex cannot be deleted)."""
    code = clean(pid.comp(8)).upper()
    if code not in SEX and code:
        raise Hl7Error(f"PID-8 {code!r} is not a sex code (M, F, O, U)", "PID-8", "103")
    return SEX.get(code, Sex.UNKNOWN)


def find_patient(facility: Facility, value: str) -> Patient | None:
    """The patient holding MRN `value` at `facility`, if any (plain SQL, as
    facility_by_code: 0.7 ms through the ORM for every message)."""
    idents, patients = PatientIdentifier._meta.db_table, Patient._meta.db_table
    return sqlrows.fetch_first(
        f"SELECT {sqlrows.columns(Patient, 'p')} FROM {idents} i "  # noqa: S608
        f"JOIN {patients} p ON p.id = i.patient_id "
        'WHERE i.kind = %s AND i."system" = %s AND i.lookup = %s ORDER BY i.id LIMIT 1',
        [IdentifierKind.MRN.value, facility.mrn_system, identifier_lookup(value)],
        Patient,
    )


@dataclass(frozen=True)
class Cx:
    """One repetition of PID-3 (data type CX): the identifier, its assigning
    authority (PID-3.4, HD: namespace & universal id & its type) and its type
    (PID-3.5, HL7 table 0203)."""

    value: str
    namespace: str
    universal: str
    universal_type: str
    type_code: str

    def system(self, sender: str) -> str:
        """The authority as an identifier system URI; the sender's (MSH-4) when
        PID-3.4 is empty."""
        if self.universal and self.universal_type == "ISO":
            return f"urn:oid:{self.universal}"
        if self.universal and self.universal_type == "UUID":
            return f"urn:uuid:{self.universal}"
        if self.universal and self.universal_type in {"URI", "URL"}:
            return self.universal
        return AUTHORITY + quote(self.namespace or self.universal or sender, safe="")


AUTHORITY = "urn:recordroom:hl7:authority:"
KINDS = {"MR": IdentifierKind.MRN, "SS": IdentifierKind.SSN,
         "DL": IdentifierKind.DRIVER, "MB": IdentifierKind.MEMBER}  # fmt: skip


def pid_3(pid: Segment) -> list[Cx]:
    """PID-3's repetitions that hold an identifier, in order."""
    enc, out = pid.enc, []
    for rep in pid.reps(3):
        value = clean(component(rep, 1, enc))
        if not value:
            continue
        if len(value) > 100:
            raise Hl7Error(
                f"PID-3 identifier {value[:20]!r}... is longer than 100 characters",
                "PID-3",
            )
        hd = [clean(component(rep, 4, enc, sub=s)) for s in (1, 2, 3)]
        kind = clean(component(rep, 5, enc)).upper()
        out.append(Cx(value, hd[0], hd[1], hd[2].upper(), kind))
    return out


def assigns_mrn(facility: Facility, pid: Segment) -> bool:
    """Whether a registration gets its MRN here: PID-3 holds no MR and the facility
    assigns its own MRNs (mpi.mrn); at one whose MRNs come from another system an
    MRN is required as before."""
    return facility.mrn_source == MrnSource.HERE and not any(
        cx.type_code == "MR" for cx in pid_3(pid)
    )


def identifiers(
    msg: Message, pid: Segment, facility: Facility, *, has_mrn: bool = True
) -> list[IdentifierIn]:
    """Every identifier of PID-3 besides the MRN (mrn()): MRNs of other facilities
    (PID-3.4 a facility code), the SSN, and the others (PI, PT, AN, MRs of other
    authorities ...) with their authority and type.

    Raises:
        Hl7Error: an SS repetition that is not an SSN.
    """
    reps = pid_3(pid)
    chosen = _mrn_rep(pid) if has_mrn else -1  # none is the MRN: one is assigned
    sender = msg.msh.comp(4) or facility.code
    out: list[IdentifierIn] = []
    for i, cx in enumerate(reps):
        if i == chosen:
            continue
        kind = KINDS.get(cx.type_code, IdentifierKind.OTHER)
        owner = facility_by_code(cx.namespace) if cx.namespace else None
        if kind == IdentifierKind.SSN:
            if not SSN.fullmatch(cx.value):
                raise Hl7Error(f"PID-3 repetition {i + 1} of type SS is not a Social "
                               "Security number (NNN-NN-NNNN)", "PID-3")  # fmt: skip
            out.append(IdentifierIn(kind=kind, value=cx.value, type_code="SS"))
        elif kind == IdentifierKind.MRN and owner is not None:
            out.append(IdentifierIn(kind=kind, value=cx.value, facility=owner,
                                    type_code="MR"))  # fmt: skip
        else:
            if kind == IdentifierKind.MRN:  # of an authority that is no facility
                kind = IdentifierKind.OTHER
            out.append(IdentifierIn(kind=kind, value=cx.value, type_code=cx.type_code,
                                    system=cx.system(sender), facility=owner))  # fmt: skip
    return out


def known_patient(msg: Message, pid: Segment) -> tuple[Facility, Patient]:
    """The facility and the registered patient PID-3 names; an unknown MRN is an
    error naming PID-3 (never a new chart: only ADT registers patients)."""
    facility = facility_of(msg, pid)
    value = mrn(pid)
    patient = find_patient(facility, value)
    if patient is None:
        raise Hl7Error(
            f"no patient with MRN {value!r} at {facility.code}; send the registration "
            "(ADT A04 or A28) first, then reprocess this message",
            "PID-3",
            "204",
        )
    return facility, patient
