"""ADT events: register or update the patient in PID, apply the visit in PV1
(visits.py), and merge (A40) through the MPI's merge rules and service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from recordroom.kernel.actor import Actor
from recordroom.mpi.held_merges import Inbound, hold_merge, inbound_reasons
from recordroom.mpi.merge import merge_patients
from recordroom.mpi.models import Facility, Patient
from recordroom.records.encounters import update_encounter
from recordroom.records.models import Encounter

from . import pid as pidf
from . import visits
from .ack import Applied
from .demographics import apply_patient
from .parser import Hl7Error, Message, Segment

PATIENT_EVENTS = {"A01", "A04", "A05", "A08", "A28", "A31"}  # register or update
VISIT_EVENTS = {"A02", "A03", "A11", "A13"}  # change a known visit
ASSIGN_EVENTS = {"A01", "A04", "A28"}  # registrations that may arrive without an MRN
MERGE_EVENTS = {"A40"}  # merge patient: PID the survivor, MRG-1 the prior MRN
NOT_YET = {
    "A34": "merge patient information",
    "A39": "merge person",
    "A41": "merge account",
}


def apply_adt(actor: Actor, msg: Message) -> Applied:
    """Apply one ADT event (those in processed.PROCESSED) in the caller's transaction."""
    event = msg.msh.comp(9, 2)
    pid = pidf.require_pid(msg)
    facility = pidf.facility_of(msg, pid)
    if event in MERGE_EVENTS:
        return _merge_all(actor, msg)
    # a registration without an MR at a facility that assigns its own gets the next
    # number of its sequence (mpi.mrn); elsewhere an MRN is required
    assign = event in ASSIGN_EVENTS and pidf.assigns_mrn(facility, pid)
    mrn = "" if assign else pidf.mrn(pid)
    pv1 = msg.segment("PV1")
    warnings: list[str] = []
    if event in VISIT_EVENTS:
        patient = pidf.find_patient(facility, mrn)
        encounter = visits.find_visit(facility, pid, pv1, patient, mrn)
        owner = encounter.patient  # loaded with it; an update reloads the encounter
        _visit_event(actor, msg, event, encounter, pv1, warnings)
        return _applied(owner, warnings, {"visit": encounter.account_number})
    patient = apply_patient(actor, msg, pid, facility, mrn, warnings)
    if pv1 is None:
        return _applied(patient, warnings)
    if event in {"A01", "A04", "A05"}:
        visits.record_visit(actor, msg, patient, facility, pid, pv1, warnings)
    elif event == "A08" and visits.visit_number(pid, pv1):
        _update_visit_if_known(actor, facility, pid, pv1, patient, mrn, warnings)
    return _applied(patient, warnings)


def _applied(
    patient: Patient, warnings: list[str], detail: dict[str, Any] | None = None
) -> Applied:
    """What was applied; the warnings (what was kept otherwise than sent) go to the
    audit event, the ACK's MSA-3 and the message's row."""
    detail = dict(detail or {})
    if warnings:
        detail["warnings"] = warnings
    return Applied(patient, detail, "; ".join(warnings))


def _visit_event(
    actor: Actor,
    msg: Message,
    event: str,
    encounter: Encounter,
    pv1: Segment | None,
    warnings: list[str],
) -> None:
    if event == "A11":
        visits.cancel_admit(actor, encounter)
    elif event == "A13":
        visits.cancel_discharge(actor, encounter)
    elif pv1 is None:
        raise Hl7Error(f"ADT^{event} needs a PV1 segment", "PV1", "100")
    elif event == "A02":
        visits.transfer(actor, encounter, pv1, warnings)
    else:
        visits.discharge(actor, msg, encounter, pv1)


def _update_visit_if_known(
    actor: Actor,
    facility: Facility,
    pid: Segment,
    pv1: Segment,
    patient: Patient,
    mrn: str,
    warnings: list[str],
) -> None:
    """A08 with a visit: update it when it is known (an unknown one is left for the
    admission message that will record it) and PV1 changes something."""
    encounter = visits.known_visit(facility, visits.visit_number(pid, pv1))
    if encounter is None:
        return
    visits.check_owner(encounter, patient, mrn)
    changes = visits.visit_changes(pv1, encounter, warnings)
    changes.update(visits.visit_times(pv1, encounter))
    changes = visits.differing(encounter, changes)
    if changes:
        update_encounter(actor=actor, encounter=encounter, changes=changes)


def _merge_all(actor: Actor, msg: Message) -> Applied:
    """A40 carries one or more PID/MRG pairs; all are applied or none (one
    transaction). A pair the merge rules would refuse, or whose records disagree on
    birth date and name, is held for review (mpi.held_merges): with
    RECORDROOM_HL7_MERGE_HOLD_ACK=AE nothing is merged and the message is answered
    AE naming why; with AA the other pairs merge and the held ones wait."""
    pairs = []
    segments = msg.segments
    for i, seg in enumerate(segments):
        if seg.name != "PID":
            continue
        following = segments[i + 1] if i + 1 < len(segments) else None
        mrg = following if following is not None and following.name == "MRG" else None
        pairs.append(_pair(msg, seg, mrg))
    assert pairs  # apply_adt required a PID
    inbound = Inbound("hl7", f"{msg.msh.comp(3)}/{msg.msh.comp(4)}", msg.msh.comp(10))
    held = [p for p in pairs if p.reasons]
    hold_ae = bool(held) and settings.HL7_MERGE_HOLD_ACK == "AE"
    merged, notes = [], []
    for p in pairs:
        if p.reasons:
            hold, new = hold_merge(actor=actor, survivor=p.survivor, retired=p.retired,
                                   reasons=p.reasons, inbound=inbound)  # fmt: skip
            merged.append({"held": str(hold.pk), "new_hold": new, "reasons": p.reasons})
            notes.append(f"merge of {p.prior} into {p.mrn} held for review"
                         f"{'' if new else ' (already held)'}: {'; '.join(p.reasons)}")  # fmt: skip
        elif p.retired.pk == p.survivor.pk:
            merged.append({"merge": f"{p.prior} already merged into {p.mrn}"})
        elif not hold_ae:
            merged.append(_merge(actor, msg, p))
    first = pairs[0].survivor
    if not held:
        return Applied(first, {"merges": merged})
    note = "; ".join(notes)
    if hold_ae:
        note = f"not merged: {note}" + (" (no pair of this message was merged)"
                                        if len(pairs) > 1 else "")  # fmt: skip
        return Applied(first, {"merges": merged}, note, "AE", "MRG-1")
    return Applied(first, {"merges": merged}, note)


@dataclass(frozen=True)
class _Pair:
    mrn: str
    prior: str
    survivor: Patient
    retired: Patient
    reasons: list[str]


def _pair(msg: Message, pid: Segment, mrg: Segment | None) -> _Pair:
    """The record of MRG-1 (the prior MRN) and the record of PID-3 it merges into,
    and why a person should review it (empty: apply it). A resend after the merge
    finds the prior MRN on the survivor: nothing to do."""
    facility = pidf.facility_of(msg, pid)
    mrn = pidf.mrn(pid)
    if mrg is None:
        raise Hl7Error("ADT^A40 needs an MRG segment after each PID, naming the "
                       "prior patient", "MRG", "100")  # fmt: skip
    prior = mrg.comp(1)
    if not prior:
        raise Hl7Error("MRG-1 (prior patient identifier) is empty", "MRG-1", "101")
    survivor = pidf.find_patient(facility, mrn)
    if survivor is None:
        raise Hl7Error(f"PID-3 {mrn} is not a patient at {facility.code}; send the "
                       "surviving patient's MRN", "PID-3", "204")  # fmt: skip
    retired = pidf.find_patient(facility, prior)
    if retired is None:
        raise Hl7Error(f"MRG-1 {prior} is not a patient at {facility.code}", "MRG-1",
                       "204")  # fmt: skip
    same = retired.pk == survivor.pk
    reasons = [] if same else inbound_reasons(survivor, retired)
    return _Pair(mrn, prior, survivor, retired, reasons)


def _merge(actor: Actor, msg: Message, p: _Pair) -> dict[str, Any]:
    control = msg.msh.comp(10)
    merge = merge_patients(
        actor=actor, survivor=p.survivor, retired=p.retired, source="hl7",
        reason=f"ADT^A40 {control} from {msg.msh.comp(4)}: {p.prior} merged into "
               f"{p.mrn}",
    )  # fmt: skip
    return {"merge": str(merge.pk), "retired": str(p.retired.pk)}


def unsupported_note(event: str) -> str:
    """What the ACK adds for an ADT event that is known but not applied yet."""
    if event in NOT_YET:
        return (
            f"ADT^{event} ({NOT_YET[event]}) is not applied: merges are not applied "
            "from interfaces yet; merge the charts in Recordroom when the merge "
            "workflow is available. "
        )
    return ""
