"""Receive one HL7 v2 message: store it, apply it (ADT), and build its ACK.

`handle(raw)` never raises: whatever arrives is recorded as an InterfaceMessage (the
raw bytes encrypted in the blob store) and answered with an ACK -- AA applied, AE an
error in the content (nothing written), AR rejected (not HL7, unsupported type).
The ACK is built only after the transaction that applied the message has committed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.interop.models import InterfaceMessage, MessageStatus
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import Conflict, NotFound, RecordroomError
from recordroom.mpi.models import (
    Facility,
    IdentifierKind,
    NameUse,
    Patient,
    PatientIdentifier,
    Sex,
)
from recordroom.mpi.services import (
    IdentifierIn,
    NameIn,
    PatientIn,
    change_legal_name,
    identifier_lookup,
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

from .parser import (
    Encoding,
    Hl7Error,
    Message,
    Segment,
    component,
    escape,
    parse,
    parse_date,
    parse_datetime,
)

log = logging.getLogger(__name__)
_SSN = re.compile(r"\d{3}-?\d{2}-?\d{4}")

ADT_EVENTS = {"A01", "A04", "A05", "A08", "A28", "A31"}
ENCOUNTER_EVENTS = {"A01", "A04", "A05"}
SEX = {
    "M": Sex.MALE,
    "F": Sex.FEMALE,
    "O": Sex.OTHER,
    "U": Sex.UNKNOWN,
    "A": Sex.OTHER,
    "N": Sex.UNKNOWN,
}
PATIENT_CLASS = {
    "I": EncounterClass.INPATIENT,
    "P": EncounterClass.INPATIENT,  # pre-admit
    "B": EncounterClass.INPATIENT,  # obstetrics
    "O": EncounterClass.OUTPATIENT,
    "R": EncounterClass.OUTPATIENT,  # recurring
    "E": EncounterClass.EMERGENCY,
}
# Where a service's complaint about a field points in the message.
FIELD_LOCATION = {
    "birth_date": "PID-7",
    "sex": "PID-8",
    "names": "PID-5",
    "identifiers.value": "PID-3",
    "identifiers.system": "PID-3",
    "identifiers.facility": "MSH-4",
    "account_number": "PV1-19",
    "encounter_class": "PV1-2",
    "admit_at": "PV1-44",
    "discharge_at": "PV1-45",
}


@dataclass
class Ack:
    code: str  # AA, AE, AR
    control_id: str
    text: str = ""
    location: str = ""
    error_code: str = ""
    message: InterfaceMessage | None = None
    header: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        h = self.header
        now = timezone.now().strftime("%Y%m%d%H%M%S")
        trigger = h.get("trigger", "")
        msh = "|".join(
            [
                "MSH",
                "^~\\&",
                h.get("receiving_app", "RECORDROOM"),
                h.get("receiving_facility", ""),
                h.get("sending_app", ""),
                h.get("sending_facility", ""),
                now,
                "",
                f"ACK^{trigger}^ACK" if trigger else "ACK",
                f"ACK{now}{(self.message.pk.hex[-8:] if self.message else '')}",
                h.get("processing_id", "P") or "P",
                h.get("version", "2.5.1") or "2.5.1",
            ]
        )
        segments = [
            msh,
            f"MSA|{self.code}|{escape(self.control_id)}|{escape(self.text)}",
        ]
        if self.code != "AA":
            seg, _, num = self.location.partition("-")
            erl = f"{seg}^1^{num}" if num else seg
            label = {
                "100": "Segment sequence error",
                "101": "Required field missing",
                "102": "Data type error",
                "103": "Table value not found",
                "200": "Unsupported message type",
                "204": "Unknown key identifier",
                "207": "Application internal error",
            }.get(self.error_code or "207", "")
            segments.append(
                f"ERR||{erl}|{self.error_code or '207'}^{label}^HL70357|E||||"
                f"{escape(self.text)}"
            )
        return ("\r".join(segments) + "\r").encode()


def _header(msg: Message | None) -> dict[str, str]:
    if msg is None:
        return {}
    msh = msg.msh
    return {
        "sending_app": msh.raw(3),
        "sending_facility": msh.raw(4),
        "receiving_app": msh.raw(5) or "RECORDROOM",
        "receiving_facility": msh.raw(6),
        "trigger": msh.comp(9, 2),
        "processing_id": msh.comp(11),
        "version": msh.comp(12),
    }


def handle(raw: bytes) -> Ack:
    """Store, apply and acknowledge one message; never raises."""
    stored = default_store().put(raw)
    row = InterfaceMessage(raw_sha256=stored.sha256, raw_size=len(raw))
    msg: Message | None = None
    try:
        msg = parse(raw)
        msh = msg.msh
        row.sending_app = msh.comp(3)[:180]
        row.sending_facility = msh.comp(4)[:180]
        row.control_id = msh.raw(10)[:199]
        row.message_type = "^".join(p for p in (msh.comp(9), msh.comp(9, 2)) if p)[:40]
    except Hl7Error as exc:
        row.status, row.error, row.ack_code = MessageStatus.REJECTED, exc.message, "AR"
        row.save()
        return Ack("AR", "", exc.message, exc.location, exc.code, row, {})
    row.save()
    return _process(row, msg)


def reprocess(message_id: Any) -> Ack:
    """Apply again a message that ended in error (after its cause was fixed)."""
    try:
        row = InterfaceMessage.objects.get(pk=message_id)
    except (InterfaceMessage.DoesNotExist, ValueError, ValidationError):
        raise NotFound(f"no interface message {message_id}") from None
    if row.status not in (MessageStatus.ERROR, MessageStatus.RECEIVED):
        raise Conflict(
            f"message {row.pk} is {row.status}; only messages in error are reprocessed"
        )
    msg = parse(default_store().get(row.raw_sha256))
    return _process(row, msg)


def _process(row: InterfaceMessage, msg: Message) -> Ack:
    header = _header(msg)
    msh = msg.msh

    original = (
        InterfaceMessage.objects.filter(
            sending_facility=row.sending_facility,
            control_id=row.control_id,
            status=MessageStatus.PROCESSED,
        )
        .exclude(pk=row.pk)
        .order_by("received_at")
        .first()
        if row.control_id
        else None
    )
    if original is not None:
        note = (
            f"duplicate of message {row.control_id} received "
            f"{original.received_at:%Y-%m-%d %H:%M:%S} UTC; not applied again"
        )
        _finish(row, MessageStatus.DUPLICATE, original.ack_code or "AA", note)
        row.patient = original.patient
        InterfaceMessage.objects.filter(pk=row.pk).update(patient=original.patient)
        return Ack(original.ack_code or "AA", row.control_id, note, "", "", row, header)

    if row.message_type.split("^")[0] != "ADT" or msh.comp(9, 2) not in ADT_EVENTS:
        text = (
            f"message type {row.message_type or '(empty)'} is not supported; "
            f"accepted: ADT^{', ADT^'.join(sorted(ADT_EVENTS))}"
        )
        _finish(row, MessageStatus.REJECTED, "AR", text)
        return Ack("AR", row.control_id, text, "MSH-9", "200", row, header)

    actor = Actor(channel="hl7", name=f"hl7:{row.sending_app or '?'}"[:150])
    try:
        with transaction.atomic():
            patient = apply_adt(actor, msg)
            InterfaceMessage.objects.filter(pk=row.pk).update(
                status=MessageStatus.PROCESSED, ack_code="AA", patient=patient, error=""
            )
            record(
                actor=actor,
                action=actions.INTERFACE_MESSAGE.name,
                patient=patient,
                obj=row,
                detail={
                    "type": row.message_type,
                    "control_id": row.control_id,
                    "sender": f"{row.sending_app}/{row.sending_facility}",
                },
            )
    except Hl7Error as exc:
        _finish(row, MessageStatus.ERROR, "AE", f"{exc.location}: {exc.message}")
        return Ack(
            "AE", row.control_id, exc.message, exc.location, exc.code, row, header
        )
    except RecordroomError as exc:
        where = FIELD_LOCATION.get(exc.field or "", "")
        text = str(exc.message)
        _finish(row, MessageStatus.ERROR, "AE", f"{where}: {text}" if where else text)
        return Ack("AE", row.control_id, text, where, "102", row, header)
    except Exception as exc:  # never let one message bring the listener down
        log.exception("HL7 message %s failed", row.pk)
        text = f"internal error ({type(exc).__name__}); message kept as {row.pk}"
        _finish(row, MessageStatus.ERROR, "AE", text)
        return Ack("AE", row.control_id, text, "", "207", row, header)
    row.status, row.ack_code, row.patient = MessageStatus.PROCESSED, "AA", patient
    row.error = ""
    return Ack("AA", row.control_id, "", "", "", row, header)


def _finish(row: InterfaceMessage, status: str, ack: str, error: str) -> None:
    row.status, row.ack_code, row.error = status, ack, error
    InterfaceMessage.objects.filter(pk=row.pk).update(
        status=status, ack_code=ack, error=error
    )


# --- ADT ------------------------------------------------------------------------------


def _facility(msg: Message, pid: Segment) -> Facility:
    """The MRN's facility: PID-3's assigning authority when it is a facility code,
    else the sending facility (MSH-4)."""
    for rep in pid.reps(3):
        authority = component(rep, 4, pid.enc)
        if component(rep, 5, pid.enc) == "MR" and authority:
            found = Facility.objects.filter(code__iexact=authority).first()
            if found is not None:
                return found
            break
    code = msg.msh.comp(4)
    if not code:
        raise Hl7Error("MSH-4 (sending facility) is empty", "MSH-4", "101")
    facility = Facility.objects.filter(code__iexact=code).first()
    if facility is None:
        raise Hl7Error(
            f"unknown sending facility {code!r} in MSH-4; no facility has that code",
            "MSH-4",
            "204",
        )
    return facility


def _mrn(pid: Segment) -> str:
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


def _names(pid: Segment) -> list[NameIn]:
    enc: Encoding = pid.enc
    names: list[NameIn] = []
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
        names.append(
            NameIn(
                family=family[:100],
                given=component(rep, 2, enc)[:100],
                middle=component(rep, 3, enc)[:100],
                suffix=component(rep, 4, enc)[:20],
                prefix=component(rep, 5, enc)[:20],
                use=use,
            )
        )
    if not names:
        raise Hl7Error("PID-5 (patient name) is empty", "PID-5", "101")
    if not legal_seen:
        names[0].use = NameUse.LEGAL
    names.sort(key=lambda n: n.use != NameUse.LEGAL)
    return names


def _sex(pid: Segment) -> str:
    code = pid.comp(8).upper()
    if code not in SEX and code:
        raise Hl7Error(f"PID-8 {code!r} is not a sex code (M, F, O, U)", "PID-8", "103")
    return SEX.get(code, Sex.UNKNOWN)


def _addresses(pid: Segment) -> list[dict[str, Any]]:
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


def _telecoms(pid: Segment) -> list[dict[str, Any]]:
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


def _find_patient(facility: Facility, mrn: str) -> Patient | None:
    ident = (
        PatientIdentifier.objects.filter(
            kind=IdentifierKind.MRN,
            system=facility.mrn_system,
            lookup=identifier_lookup(mrn),
        )
        .select_related("patient")
        .first()
    )
    return ident.patient if ident else None


def apply_adt(actor: Actor, msg: Message) -> Patient:
    """Register or update the patient in PID (and record the visit in PV1)."""
    event = msg.msh.comp(9, 2)
    pid = msg.segment("PID")
    if pid is None:
        raise Hl7Error(f"ADT^{event} needs a PID segment", "PID", "100")
    facility = _facility(msg, pid)
    mrn = _mrn(pid)
    names = _names(pid)
    birth_date = parse_date(pid.comp(7), "PID-7")
    if birth_date and birth_date > date.today():
        raise Hl7Error(f"PID-7 birth date {birth_date} is in the future", "PID-7")
    sex = _sex(pid)
    patient = _find_patient(facility, mrn)
    if patient is None:
        identifiers = [
            IdentifierIn(kind=IdentifierKind.MRN, value=mrn, facility=facility)
        ]
        ssn = pid.comp(19)
        if _SSN.fullmatch(ssn):  # senders fill PID-19 with other things; skip those
            identifiers.append(IdentifierIn(kind=IdentifierKind.SSN, value=ssn))
        try:
            patient = register_patient(
                actor=actor,
                data=PatientIn(
                    names=names,
                    birth_date=birth_date,
                    sex=sex,
                    identifiers=identifiers,
                    addresses=_addresses(pid),
                    telecoms=_telecoms(pid),
                ),
            )
        except RecordroomError as exc:
            if exc.field == "identifiers.value" and ssn and "SSN" in str(exc.message):
                raise Hl7Error(str(exc.message), "PID-19") from exc
            raise
    else:
        _update(actor, patient, names[0], birth_date, sex)
    pv1 = msg.segment("PV1")
    if event in ENCOUNTER_EVENTS and pv1 is not None:
        _encounter(actor, msg, patient, facility, pid, pv1, event)
    return patient


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
