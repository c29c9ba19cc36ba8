"""Reading the patient out of a message: PID fields as our types, and the patient and
facility they name (shared by the ADT and MDM handlers)."""

from __future__ import annotations

import re
from typing import Any

from recordroom.kernel import sqlrows
from recordroom.mpi.models import (
    Facility,
    IdentifierKind,
    NameUse,
    Patient,
    PatientIdentifier,
    Sex,
)
from recordroom.mpi.services import NameIn, identifier_lookup

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
        authority = component(rep, 4, pid.enc)
        if component(rep, 5, pid.enc) == "MR" and authority:
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
    reps = pid.reps(3)
    if not reps or not any(component(r, 1, pid.enc) for r in reps):
        raise Hl7Error("PID-3 (patient identifier list) is empty", "PID-3", "101")
    for r in reps:
        if component(r, 5, pid.enc) == "MR" and component(r, 1, pid.enc):
            return component(r, 1, pid.enc)
    for r in reps:
        if component(r, 5, pid.enc) not in {"SS", "DL", "PN"} and component(
            r, 1, pid.enc
        ):
            return component(r, 1, pid.enc)
    raise Hl7Error("PID-3 holds no medical record number", "PID-3", "101")


def names(pid: Segment) -> list[NameIn]:
    enc: Encoding = pid.enc
    out: list[NameIn] = []
    legal_seen = False
    for rep in pid.reps(5):
        family = component(rep, 1, enc)
        if not family:
            continue
        kind = component(rep, 7, enc)
        use = NameUse.ALIAS
        if not legal_seen and kind in {"L", ""}:
            use, legal_seen = NameUse.LEGAL, True
        elif kind == "M":
            use = NameUse.MAIDEN
        out.append(
            NameIn(
                family=family[:100],
                given=component(rep, 2, enc)[:100],
                middle=component(rep, 3, enc)[:100],
                suffix=component(rep, 4, enc)[:20],
                prefix=component(rep, 5, enc)[:20],
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
    code = pid.comp(8).upper()
    if code not in SEX and code:
        raise Hl7Error(f"PID-8 {code!r} is not a sex code (M, F, O, U)", "PID-8", "103")
    return SEX.get(code, Sex.UNKNOWN)


def addresses(pid: Segment) -> list[dict[str, Any]]:
    out = []
    for rep in pid.reps(11):
        street = rep.split(pid.enc.component)[0].split(pid.enc.subcomponent)
        line1 = " ".join(p.strip() for p in street if p.strip())
        city = component(rep, 3, pid.enc)
        state, postal = component(rep, 4, pid.enc), component(rep, 5, pid.enc)
        country = component(rep, 6, pid.enc).upper()
        country = {"USA": "US", "": "US"}.get(country, country)
        if not (line1 and city) or len(state) != 2 or len(country) != 2:
            continue
        out.append(
            {
                "line1": line1[:200],
                "line2": component(rep, 2, pid.enc)[:200],
                "city": city[:100],
                "state": state.upper(),
                "postal_code": postal[:10],
                "country": country,
            }
        )
    return out


def telecoms(pid: Segment) -> list[dict[str, Any]]:
    out = []
    for rep in pid.reps(13):
        enc = pid.enc
        use = {"WPN": "work", "ORN": "mobile"}.get(component(rep, 2, enc), "home")
        if component(rep, 3, enc) == "Internet" and component(rep, 4, enc):
            out.append({"system": "email", "use": use, "value": component(rep, 4, enc)})
            continue
        number = component(rep, 1, enc) or "".join(
            component(rep, c, enc) for c in (6, 7)
        )
        if component(rep, 3, enc) == "CP":
            use = "mobile"
        if number:
            out.append({"system": "phone", "use": use, "value": number[:200]})
    return out


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
