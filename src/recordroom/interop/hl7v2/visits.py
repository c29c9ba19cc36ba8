"""ADT visit events: the encounter in PV1 recorded (A01/A04/A05), updated (A08),
transferred (A02), discharged (A03), and those undone (A11 cancel admit, A13 cancel
discharge). The visit is found by its number (PID-18, else PV1-19) at the facility."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from recordroom.kernel import clock, sqlrows
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import Facility, Patient
from recordroom.records.encounters import update_encounter
from recordroom.records.models import (
    Disposition,
    Encounter,
    EncounterClass,
    EncounterStatus,
    Provider,
)
from recordroom.records.services import account_taken, record_encounter

from .nulls import NULL, clean, datetime_field, is_null
from .parser import Hl7Error, Message, Segment, component, parse_datetime

# HL7 table 0004 (PV1-2, kept as sent in Encounter.patient_class) -> our class
PATIENT_CLASS = {
    "I": EncounterClass.INPATIENT,
    "P": EncounterClass.INPATIENT,  # pre-admit
    "B": EncounterClass.INPATIENT,  # obstetrics
    "O": EncounterClass.OUTPATIENT,
    "R": EncounterClass.OUTPATIENT,  # recurring
    "C": EncounterClass.OUTPATIENT,  # commercial account
    "E": EncounterClass.EMERGENCY,
    "N": EncounterClass.NOT_APPLICABLE,
    "U": EncounterClass.UNKNOWN,
}


_DISPOSITIONS = frozenset(Disposition.values)  # `.values` builds a list each call


def visit_number(pid: Segment, pv1: Segment | None) -> str:
    return (pid.comp(18) or (pv1.comp(19) if pv1 is not None else ""))[:40]


def location(pv1: Segment) -> str:
    """PV1-3 as one line: point of care, room, bed ("4E, 136, B")."""
    parts = [clean(component(pv1.raw(3), c, pv1.enc)) for c in (1, 2, 3)]
    return ", ".join(p for p in parts if p)[:100]


def patient_class(pv1: Segment) -> tuple[str, str] | None:
    """PV1-2 as (table 0004 code, our class); None when empty, unknown (U) when
    it is the null `""` (a visit has a class)."""
    code = "U" if is_null(pv1, 2) else pv1.comp(2).upper()
    if not code:
        return None
    if code not in PATIENT_CLASS:
        raise Hl7Error(
            f"PV1-2 patient class {code!r} is not one of "
            f"{', '.join(sorted(PATIENT_CLASS))}",
            "PV1-2",
            "103",
        )
    return code, PATIENT_CLASS[code]


PROVIDER_FIELDS = {"attending": 7, "admitting": 17}  # PV1 fields naming an NPI
# XCN components kept for a provider who is not in the provider table
XCN = {"id": 1, "family": 2, "given": 3, "middle": 4, "suffix": 5, "prefix": 6,
       "degree": 7, "authority": 9, "type": 13}  # fmt: skip
Named = Provider | dict[str, str] | None  # known, kept as sent, or deleted ("")


def _providers(pv1: Segment, warnings: list[str]) -> dict[str, Named]:
    """What PV1-7 (attending) and PV1-17 (admitting) say, in one query: a known
    provider (by NPI), the XCN as sent for one not in the provider table (with a
    warning), or None for the null `""`; an empty field is left out."""
    sent: dict[str, dict[str, str]] = {}
    out: dict[str, Named] = {}
    for key, n in PROVIDER_FIELDS.items():
        if is_null(pv1, n):
            out[key] = None
            continue
        xcn = {k: clean(pv1.comp(n, c)) for k, c in XCN.items()}
        if any(xcn.values()):
            sent[key] = {k: v for k, v in xcn.items() if v}
    wanted = sorted({x["id"] for x in sent.values() if x.get("id")})
    found: dict[str | None, Provider] = {}
    if wanted:
        # Plain SQL (kernel.sqlrows): 0.45 ms of CPU through the ORM.
        rows = sqlrows.fetch(
            f"SELECT {sqlrows.columns(Provider)} FROM {Provider._meta.db_table} "  # noqa: S608
            f"WHERE npi IN ({', '.join(['%s'] * len(wanted))})",
            wanted,
            Provider,
        )
        found = {p.npi: p for (p,) in rows}
    for key, xcn in sent.items():
        known = found.get(xcn.get("id"))
        out[key] = known if known is not None else xcn
        if known is None:
            who = ", ".join(x for x in (xcn.get("family"), xcn.get("given")) if x)
            warnings.append(
                f"PV1-{PROVIDER_FIELDS[key]} {key} {xcn.get('id', '(no id)')}"
                f"{f' ({who})' if who else ''} is not in the provider table; "
                "kept on the visit as sent"
            )
    return out


def _event_time(msg: Message, pv1: Segment, n: int, tz: tzinfo) -> datetime | None:
    """PV1-n, else when the event occurred (EVN-6), else was recorded (EVN-2, MSH-7)."""
    found = parse_datetime(clean(pv1.comp(n)), f"PV1-{n}", tz)
    evn = msg.segment("EVN")
    if found is None and evn is not None:
        found = parse_datetime(evn.comp(6), "EVN-6", tz) or parse_datetime(
            evn.comp(2), "EVN-2", tz
        )
    return found or parse_datetime(msg.msh.comp(7), "MSH-7", tz)


def record_visit(
    actor: Actor,
    msg: Message,
    patient: Patient,
    facility: Facility,
    pid: Segment,
    pv1: Segment,
    warnings: list[str],
) -> None:
    """A01/A04/A05: record the visit unless it is already known (a resend)."""
    account = visit_number(pid, pv1)
    if not account:
        return  # no visit number: a registration only
    if account_taken(facility, account):
        return
    cls = patient_class(pv1)
    if cls is None:
        cls = ("", PATIENT_CLASS["U"])
        warnings.append(f"PV1-2 (patient class) is empty; visit {account} is "
                        "recorded with the class unknown")  # fmt: skip
    admit = _event_time(msg, pv1, 44, clock.zone_of(facility))
    if admit is None:
        raise Hl7Error("PV1-44 (admit date/time) is empty", "PV1-44", "101")
    event = msg.msh.comp(9, 2)
    providers = _providers(pv1, warnings)
    record_encounter(
        actor=actor,
        patient=patient,
        facility=facility,
        account_number=account,
        patient_class=cls[0],
        encounter_class=cls[1],
        admit_at=admit,
        status=(
            EncounterStatus.PLANNED if event == "A05" else EncounterStatus.IN_PROGRESS
        ),
        location=location(pv1),
        **_provider_fields(providers, {}),
    )


def find_visit(
    facility: Facility,
    pid: Segment,
    pv1: Segment | None,
    patient: Patient | None,
    mrn: str,
) -> Encounter:
    """The encounter the message is about; an AE naming PV1-19 when there is none,
    or PID-3 when it belongs to a chart other than the one PID-3 names."""
    account = visit_number(pid, pv1)
    if not account:
        raise Hl7Error(
            "PV1-19 (visit number) is empty, and so is PID-18; this event needs the "
            "visit it is about",
            "PV1-19",
            "101",
        )
    encounter = known_visit(facility, account)
    if encounter is None:
        raise Hl7Error(
            f"no visit {account!r} at {facility.code}; send the admission or "
            "registration (A01, A04, A05) first",
            "PV1-19",
            "204",
        )
    check_owner(encounter, patient, mrn)
    return encounter


def known_visit(facility: Facility, account: str) -> Encounter | None:
    """Visit `account` at `facility` with its patient, if there is one.

    Plain SQL (kernel.sqlrows): the ORM spent 0.5 ms of CPU building this query.
    """
    visits, patients = Encounter._meta.db_table, Patient._meta.db_table
    rows = sqlrows.fetch(
        f"SELECT {sqlrows.columns(Encounter, 'e')}, {sqlrows.columns(Patient, 'p')} "  # noqa: S608
        f"FROM {visits} e JOIN {patients} p ON p.id = e.patient_id "
        "WHERE e.facility_id = %s AND e.account_number = %s "
        "ORDER BY e.admit_at DESC LIMIT 1",
        [sqlrows.param(Encounter, "facility_id", facility.pk), account],
        Encounter,
        Patient,
    )
    if not rows:
        return None
    encounter, patient = rows[0]
    encounter.patient = patient  # as select_related("patient")
    encounter.facility = facility  # the same row: spare a query for it
    return encounter


def check_owner(encounter: Encounter, patient: Patient | None, mrn: str) -> None:
    """An AE naming PID-3 when the visit belongs to another chart than PID-3's."""
    if patient is None or encounter.patient_id != patient.pk:
        account, facility = encounter.account_number, encounter.facility
        raise Hl7Error(
            f"visit {account!r} at {facility.code} belongs to another patient than "
            f"MRN {mrn!r} in PID-3; check the MRN and the visit number",
            "PID-3",
            "204",
        )


def _provider_fields(
    providers: dict[str, Named], unlisted: dict[str, Any]
) -> dict[str, Any]:
    """Encounter fields for what _providers found: a known provider by key, one
    not in the provider table in `unlisted_providers` (a copy of `unlisted`, the
    encounter's, changed), None for both when deleted."""
    fields: dict[str, Any] = {}
    unlisted = dict(unlisted)
    for key, value in providers.items():
        fields[key] = value if isinstance(value, Provider) else None
        if isinstance(value, dict):
            unlisted[key] = value
        else:
            unlisted.pop(key, None)
    fields["unlisted_providers"] = unlisted
    return fields


def visit_changes(
    pv1: Segment, encounter: Encounter, warnings: list[str]
) -> dict[str, Any]:
    """A08 and A02: what PV1 says about the visit now (empty fields change nothing,
    the null `""` deletes the value)."""
    changes: dict[str, Any] = {}
    where = location(pv1)
    if where or is_null(pv1, 3):
        changes["location"] = where
    cls = patient_class(pv1)
    if cls is not None:
        changes["patient_class"], changes["encounter_class"] = cls
    providers = _providers(pv1, warnings)
    if providers:
        changes.update(_provider_fields(providers, encounter.unlisted_providers))
    return changes


def visit_times(pv1: Segment, encounter: Encounter) -> dict[str, Any]:
    """A08: the admission (PV1-44) and discharge (PV1-45, PV1-36) as PV1 says
    they are now; an empty field changes nothing, `""` deletes the discharge."""
    tz = clock.zone_of(encounter.facility)
    changes: dict[str, Any] = {}
    admit = datetime_field(pv1, 44, tz)
    if admit == NULL:
        raise Hl7Error('PV1-44 (admit date/time) is "" (delete); a visit keeps its '
                       "admission: send the corrected time", "PV1-44", "101")  # fmt: skip
    if admit is not None:
        changes["admit_at"] = admit
    discharge = datetime_field(pv1, 45, tz)
    if discharge is not None:
        changes["discharge_at"] = None if discharge == NULL else discharge
    if pv1.comp(36):
        changes["discharge_disposition"] = disposition(pv1)
    return changes


def differing(encounter: Encounter, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes whose value differs from the encounter's (providers compared by
    key, without loading them). update_encounter compares again under its lock;
    this spares the call for an A08 that repeats the visit as it is."""
    out = {}
    for key, value in changes.items():
        if key in PROVIDER_FIELDS:
            same = getattr(encounter, f"{key}_id") == (value.pk if value else None)
        else:
            same = getattr(encounter, key) == value
        if not same:
            out[key] = value
    return out


def transfer(
    actor: Actor, encounter: Encounter, pv1: Segment, warnings: list[str]
) -> None:
    """A02: the new location (PV1-3), and the class when PV1-2 changed it."""
    changes = visit_changes(pv1, encounter, warnings)
    if not changes.get("location"):
        raise Hl7Error(
            "PV1-3 (assigned patient location) is empty; a transfer needs the new "
            "location",
            "PV1-3",
            "101",
        )
    update_encounter(actor=actor, encounter=encounter, changes=changes)


def discharge(actor: Actor, msg: Message, encounter: Encounter, pv1: Segment) -> None:
    """A03: finished, with the discharge time (PV1-45) and disposition (PV1-36)."""
    tz = clock.zone_of(encounter.facility)
    at = _event_time(msg, pv1, 45, tz)
    if at is None:
        raise Hl7Error("PV1-45 (discharge date/time) is empty", "PV1-45", "101")
    update_encounter(
        actor=actor,
        encounter=encounter,
        changes={
            "status": EncounterStatus.FINISHED,
            "discharge_at": at,
            "discharge_disposition": disposition(pv1),
        },
    )


def disposition(pv1: Segment) -> str:
    """PV1-36 as a UB-04 patient status code (HL7 table 0112 uses the same codes);
    the null `""` is none."""
    code = clean(pv1.comp(36))
    if code.isdigit() and len(code) == 1:
        code = code.zfill(2)
    if code and code not in _DISPOSITIONS:
        known = ", ".join(f"{c} ({label})" for c, label in Disposition.choices)
        raise Hl7Error(
            f"PV1-36 discharge disposition {code!r} is not a patient status code "
            f"Recordroom knows; use one of {known}",
            "PV1-36",
            "103",
        )
    return code


def cancel_admit(actor: Actor, encounter: Encounter) -> None:
    """A11: the patient was not admitted after all."""
    update_encounter(
        actor=actor, encounter=encounter, changes={"status": EncounterStatus.CANCELLED}
    )


def cancel_discharge(actor: Actor, encounter: Encounter) -> None:
    """A13: still in hospital; the discharge time and disposition are cleared. A visit
    in progress stays as it is (a resend); one never admitted has no discharge."""
    if encounter.status not in (EncounterStatus.FINISHED, EncounterStatus.IN_PROGRESS):
        raise Hl7Error(
            f"visit {encounter.account_number} is {encounter.status}, not discharged; "
            "there is no discharge to cancel",
            "MSH-9",
            "207",
        )
    update_encounter(
        actor=actor,
        encounter=encounter,
        changes={
            "status": EncounterStatus.IN_PROGRESS,
            "discharge_at": None,
            "discharge_disposition": "",
        },
    )
