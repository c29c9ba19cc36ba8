"""ADT events: register or update the patient in PID and record the visit in PV1."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError
from recordroom.mpi.models import Facility, IdentifierKind, NameUse, Patient, Sex
from recordroom.mpi.services import (
    IdentifierIn,
    NameIn,
    PatientIn,
    change_legal_name,
    register_patient,
    update_patient,
)
from recordroom.records.models import (
    Encounter,
    EncounterClass,
    EncounterStatus,
    Provider,
)
from recordroom.records.services import record_encounter

from . import pid as pidf
from .ack import Applied
from .parser import Hl7Error, Message, Segment, parse_date, parse_datetime

ADT_EVENTS = {"A01", "A04", "A05", "A08", "A28", "A31"}
ENCOUNTER_EVENTS = {"A01", "A04", "A05"}
PATIENT_CLASS = {
    "I": EncounterClass.INPATIENT,
    "P": EncounterClass.INPATIENT,  # pre-admit
    "B": EncounterClass.INPATIENT,  # obstetrics
    "O": EncounterClass.OUTPATIENT,
    "R": EncounterClass.OUTPATIENT,  # recurring
    "E": EncounterClass.EMERGENCY,
}


def apply_adt(actor: Actor, msg: Message) -> Applied:
    """Register or update the patient in PID (and record the visit in PV1)."""
    event = msg.msh.comp(9, 2)
    pid = pidf.require_pid(msg)
    facility = pidf.facility_of(msg, pid)
    mrn = pidf.mrn(pid)
    names = pidf.names(pid)
    birth_date = parse_date(pid.comp(7), "PID-7")
    if birth_date and birth_date > date.today():
        raise Hl7Error(f"PID-7 birth date {birth_date} is in the future", "PID-7")
    sex = pidf.sex(pid)
    patient = pidf.find_patient(facility, mrn)
    if patient is None:
        patient = _register(actor, pid, facility, mrn, names, birth_date, sex)
    else:
        _update(actor, patient, names[0], birth_date, sex)
    pv1 = msg.segment("PV1")
    if event in ENCOUNTER_EVENTS and pv1 is not None:
        _encounter(actor, msg, patient, facility, pid, pv1, event)
    return Applied(patient)


def _register(
    actor: Actor,
    pid: Segment,
    facility: Facility,
    mrn: str,
    names: list[NameIn],
    birth_date: date | None,
    sex: str,
) -> Patient:
    identifiers = [IdentifierIn(kind=IdentifierKind.MRN, value=mrn, facility=facility)]
    ssn = pid.comp(19)
    if pidf.SSN.fullmatch(ssn):  # senders fill PID-19 with other things; skip those
        identifiers.append(IdentifierIn(kind=IdentifierKind.SSN, value=ssn))
    try:
        return register_patient(
            actor=actor,
            data=PatientIn(
                names=names,
                birth_date=birth_date,
                sex=sex,
                identifiers=identifiers,
                addresses=pidf.addresses(pid),
                telecoms=pidf.telecoms(pid),
            ),
        )
    except RecordroomError as exc:
        if exc.field == "identifiers.value" and ssn and "SSN" in str(exc.message):
            raise Hl7Error(str(exc.message), "PID-19") from exc
        raise


def _update(
    actor: Actor, patient: Patient, legal: NameIn, birth_date: date | None, sex: str
) -> None:
    changes: dict[str, Any] = {}
    if birth_date and patient.birth_date != birth_date:
        changes["birth_date"] = birth_date
    if sex != Sex.UNKNOWN and patient.sex != sex:
        changes["sex"] = sex
    if changes:
        update_patient(actor=actor, patient=patient, changes=changes)
    current = patient.names.filter(use=NameUse.LEGAL, period_end__isnull=True).first()
    same = current is not None and (
        current.family.casefold(),
        current.given.casefold(),
        current.middle.casefold(),
    ) == (legal.family.casefold(), legal.given.casefold(), legal.middle.casefold())
    if not same:
        change_legal_name(actor=actor, patient=patient, new=legal)


def _encounter(
    actor: Actor,
    msg: Message,
    patient: Patient,
    facility: Facility,
    pid: Segment,
    pv1: Segment,
    event: str,
) -> None:
    account = pid.comp(18) or pv1.comp(19)
    if not account:
        return  # no visit number: a registration only
    if Encounter.objects.filter(facility=facility, account_number=account).exists():
        return
    code = pv1.comp(2).upper()
    if code in {"", "N", "U"}:
        return
    if code not in PATIENT_CLASS:
        raise Hl7Error(
            f"PV1-2 patient class {code!r} is not one of "
            f"{', '.join(sorted(PATIENT_CLASS))}",
            "PV1-2",
            "103",
        )
    tz = ZoneInfo(facility.timezone)
    admit: datetime | None = parse_datetime(pv1.comp(44), "PV1-44", tz)
    if admit is None:
        evn = msg.segment("EVN")
        admit = (evn and parse_datetime(evn.comp(2), "EVN-2", tz)) or parse_datetime(
            msg.msh.comp(7), "MSH-7", tz
        )
    if admit is None:
        raise Hl7Error("PV1-44 (admit date/time) is empty", "PV1-44", "101")
    attending = None
    npi = pv1.comp(7)
    if npi:
        attending = Provider.objects.filter(npi=npi).first()
    record_encounter(
        actor=actor,
        patient=patient,
        facility=facility,
        account_number=account[:40],
        encounter_class=PATIENT_CLASS[code],
        admit_at=admit,
        status=(
            EncounterStatus.PLANNED if event == "A05" else EncounterStatus.IN_PROGRESS
        ),
        attending=attending,
        location=pv1.comp(3)[:100],
    )
