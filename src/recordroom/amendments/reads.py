"""What the amendments desk's adapters share (API and web pages): a request opened
with its read audited, a worklist's reads audited per patient, the clock in days."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound

from . import services
from .models import AmendmentLetter, AmendmentRequest

# The capability the desk's routes and pages need: deciding appends new versions
# of documents, so whoever may file documents and versions works the desk.
CAPABILITY = "add_document"


def open_request(actor: Actor, request_id: Any, *, part: str) -> AmendmentRequest:
    """The request, if at one of the actor's facilities, its read audited as a look
    at the patient's record (chart.open naming the request and the part shown)."""
    req = services.get_request(user=actor.user, request_id=request_id)
    record(actor=actor, action=actions.CHART_OPEN.name, patient=req.patient, obj=req,
           detail={"amendment_request": req.number, "part": part})  # fmt: skip
    return req


def audit_listed(actor: Actor, worklist: str, patient_ids: list[Any]) -> None:
    """A worklist shows names: each listed patient finds the read in their log."""
    record_many([EventSpec(actor, actions.PATIENT_SEARCH.name,
                           detail={"worklist": worklist, "results": len(patient_ids)})]
                + [EventSpec(actor, actions.CHART_OPEN.name, pid,
                             detail={"worklist": worklist, "listed": True})
                   for pid in dict.fromkeys(patient_ids)])  # fmt: skip


@dataclass(frozen=True)
class Clock:
    deadline: Any
    days_left: int
    overdue: bool
    can_extend: bool


def clock_of(req: AmendmentRequest) -> Clock:
    today = clock.today(req.facility)
    left = (req.deadline - today).days
    return Clock(req.deadline, left, req.is_open and left < 0,
                 req.is_open and req.extended_to is None and today <= req.due_on)  # fmt: skip


def patient_name(req: AmendmentRequest) -> str:
    name = req.patient.legal_name()
    return name.display if name else "(no name)"


def open_letter(actor: Actor, letter_id: Any) -> tuple[AmendmentLetter, bytes]:
    """A letter's PDF, if its request is at one of the actor's facilities; the read
    audited (chart.open naming the letter)."""
    letter = AmendmentLetter.objects.filter(pk=letter_id).first()
    if letter is None:
        raise NotFound(f"no amendment letter {letter_id}")
    req = services.get_request(user=actor.user, request_id=letter.request_id)
    data = services.letter_bytes(letter)
    record(actor=actor, action=actions.CHART_OPEN.name, patient=req.patient, obj=letter,
           detail={"amendment_request": req.number, "part": f"{letter.kind} letter"})  # fmt: skip
    return letter, data
