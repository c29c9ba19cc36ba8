"""The patient in PID applied to the index: registered (search before create) or
updated. Every field is kept or refused: an empty field leaves the stored value as
it is, the HL7 null `""` deletes it (dates, addresses, phones, the SSN)."""

from __future__ import annotations

from datetime import date
from typing import Any

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError
from recordroom.mpi.contacts import (
    end_ssn,
    keep_identifiers,
    replace_addresses,
    replace_ssn,
    replace_telecoms,
)
from recordroom.mpi.linkage import registration
from recordroom.mpi.models import (
    Facility,
    IdentifierKind,
    Patient,
    PatientIdentifier,
    Sex,
)
from recordroom.mpi.services import (
    IdentifierIn,
    NameIn,
    PatientIn,
    change_legal_name,
    current_legal_names,
    update_patient,
)

from . import contacts
from . import pid as pidf
from .nulls import NULL, date_field, is_null
from .parser import Hl7Error, Message, Segment

CONTACT_EVENTS = {"A08", "A31"}  # also update addresses, phones and the SSN
HOME_USES = {"home", "mobile", "temp", "old"}  # what PID-13 holds; PID-14 work


def apply_patient(
    actor: Actor, msg: Message, pid: Segment, facility: Facility, mrn: str,
    warnings: list[str] | None = None,
) -> Patient:  # fmt: skip
    """Register the patient PID names, or update the one holding the MRN. An empty
    `mrn` registers with the facility's next MRN (said in `warnings`)."""
    names = pidf.names(pid)
    birth, death = date_field(pid, 7), date_field(pid, 29)
    _check_dates(birth, death)
    idents = pidf.identifiers(msg, pid, facility, has_mrn=bool(mrn))
    ssn = _ssn(pid, idents)
    others = [i for i in idents if i.kind != IdentifierKind.SSN]
    patient = pidf.find_patient(facility, mrn) if mrn else None
    if patient is None:
        mine = IdentifierIn(kind=IdentifierKind.MRN, value=mrn, facility=facility)
        data = PatientIn(
            names=names,
            birth_date=birth if isinstance(birth, date) else None,
            deceased_date=death if isinstance(death, date) else None,
            sex=pidf.sex(pid),
            identifiers=[mine, *others],
            addresses=contacts.addresses(pid),
            telecoms=contacts.telecoms(pid, 13) + contacts.telecoms(pid, 14),
        )
        if ssn:
            data.identifiers.append(IdentifierIn(kind=IdentifierKind.SSN, value=ssn))
        done = _register(actor, data, ssn)
        if not mrn and warnings is not None:
            warnings.append(_assigned_warning(done, facility))
        return done.patient
    _update(actor, patient, pid, names[0], birth, death)
    try:
        keep_identifiers(actor=actor, patient=patient, identifiers=others)
    except RecordroomError as exc:
        raise Hl7Error(str(exc.message), "PID-3", "204") from exc
    if msg.msh.comp(9, 2) in CONTACT_EVENTS:
        _update_contacts(actor, patient, pid, ssn)
    return patient


def _check_dates(birth: date | str | None, death: date | str | None) -> None:
    if isinstance(birth, date) and birth > date.today():
        raise Hl7Error(f"PID-7 birth date {birth} is in the future", "PID-7")
    if isinstance(death, date) and death > date.today():
        raise Hl7Error(f"PID-29 death date {death} is in the future", "PID-29")
    if isinstance(birth, date) and isinstance(death, date) and death < birth:
        raise Hl7Error(f"PID-29 death date {death} is before the birth date "
                       f"{birth} (PID-7)", "PID-29")  # fmt: skip


def _ssn(pid: Segment, idents: list[IdentifierIn]) -> str:
    """The SSN of PID-19 or of a PID-3 repetition of type SS; two that differ are
    refused (senders fill PID-19 with other things too: those are skipped)."""
    field = pid.comp(19)
    ssn = field if pidf.SSN.fullmatch(field) else ""
    digits = {"".join(c for c in i.value if c.isdigit()): i.value for i in idents
              if i.kind == IdentifierKind.SSN}  # fmt: skip
    if ssn and digits.keys() - {"".join(c for c in ssn if c.isdigit())}:
        raise Hl7Error("PID-3 holds another SSN than PID-19; send one SSN", "PID-3")
    if len(digits) > 1:
        raise Hl7Error("PID-3 holds two different SSNs; send one", "PID-3")
    return ssn or next(iter(digits.values()), "")


def _assigned_warning(done: registration.Registration, facility: Facility) -> str:
    """What PID-3 without an MRN came to: a new MRN, or the one the record that
    search before create linked it to already holds."""
    if done.assigned_mrn:
        return f"PID-3 held no MRN: {facility.code} assigned MRN {done.assigned_mrn}"
    held = (
        PatientIdentifier.objects.filter(
            patient=done.patient, kind=IdentifierKind.MRN,
            system=facility.mrn_system, period_end=None,
        ).values_list("value", flat=True).first()
    )  # fmt: skip
    return (f"PID-3 held no MRN: matched to the record holding MRN {held} at "
            f"{facility.code}; no new MRN assigned")  # fmt: skip


def _register(actor: Actor, data: PatientIn, ssn: str) -> registration.Registration:
    try:
        # search before create (A04/A28 and every event that registers): by the
        # facility's thresholds linked to an existing record, created and sent to
        # review, or created
        return registration.register(actor=actor, data=data, source="hl7")
    except RecordroomError as exc:
        if exc.field == "identifiers.value" and ssn and "SSN" in str(exc.message):
            raise Hl7Error(str(exc.message), "PID-19") from exc
        raise


def _update(
    actor: Actor,
    patient: Patient,
    pid: Segment,
    legal: NameIn,
    birth: date | str | None,
    death: date | str | None,
) -> None:
    changes: dict[str, Any] = {}
    for key, value in (("birth_date", birth), ("deceased_date", death)):
        new = None if value == NULL else value
        if value is not None and getattr(patient, key) != new:
            changes[key] = new
    born, died = (changes.get(k, getattr(patient, k))
                  for k in ("birth_date", "deceased_date"))  # fmt: skip
    if "deceased_date" in changes and born and died and died < born:
        raise Hl7Error(f"PID-29 death date {died} is before the birth date {born}",
                       "PID-29")  # fmt: skip
    sex = pidf.sex(pid)
    if (sex != Sex.UNKNOWN or is_null(pid, 8)) and patient.sex != sex:
        changes["sex"] = sex
    if changes:
        update_patient(actor=actor, patient=patient, changes=changes)
    legal_now = current_legal_names(patient)
    current = legal_now[0] if legal_now else None
    same = current is not None and (
        current.family.casefold(),
        current.given.casefold(),
        current.middle.casefold(),
    ) == (legal.family.casefold(), legal.given.casefold(), legal.middle.casefold())
    if not same:
        change_legal_name(actor=actor, patient=patient, new=legal)


def _update_contacts(actor: Actor, patient: Patient, pid: Segment, ssn: str) -> None:
    """A08/A31: addresses (PID-11), home (PID-13) and business (PID-14) phones and
    the SSN (PID-19 or PID-3), each replaced with history; an empty field changes
    nothing, the null `""` ends what is on file."""
    replace_addresses(actor=actor, patient=patient, addresses=contacts.addresses(pid),
                      clear=is_null(pid, 11))  # fmt: skip
    phones: list[dict[str, Any]] = []
    uses: set[str] = set()
    for n, owned in ((13, HOME_USES), (14, {"work"})):
        found = contacts.telecoms(pid, n)
        if found or is_null(pid, n):
            phones += found
            uses |= owned | {t["use"] for t in found}
    if uses:
        replace_telecoms(actor=actor, patient=patient, telecoms=phones, uses=uses,
                         clear=True)  # fmt: skip
    try:
        if ssn:
            replace_ssn(actor=actor, patient=patient, ssn=ssn)
        elif is_null(pid, 19):
            end_ssn(actor=actor, patient=patient)
    except RecordroomError as exc:
        raise Hl7Error(str(exc.message), "PID-19") from exc
