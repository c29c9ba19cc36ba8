"""What the release desk's adapters share (API, web, CLI): the request's Actor, a
request opened with its read audited, a worklist's reads audited per patient."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header

from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound

from . import requests as rq
from .letters import letter_bytes
from .models import Letter, ReleaseRequest

RELEASE = {"x-capability": "release_records"}


def actor_of(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def request_for_write(request: HttpRequest, request_id: Any) -> ReleaseRequest:
    """For a write: the service audits it (a read would be a second event)."""
    return rq.get_request(user=actor_of(request).user, request_id=request_id)


def open_request(actor: Actor, request_id: Any, *, part: str) -> ReleaseRequest:
    """The request, if at one of the actor's facilities, its read audited as a look at
    the patient's record (chart.open naming the request and the part shown)."""
    req = rq.get_request(user=actor.user, request_id=request_id)
    record(actor=actor, action=actions.CHART_OPEN.name, patient=req.patient, obj=req,
           detail={"release_request": req.number, "part": part})  # fmt: skip
    return req


def audit_listed(actor: Actor, worklist: str, patient_ids: list[Any]) -> None:
    """A worklist shows names: each listed patient finds the read in their access log
    (as web.views_identity does for the identity worklists)."""
    record_many([EventSpec(actor, actions.PATIENT_SEARCH.name,
                           detail={"worklist": worklist, "results": len(patient_ids)})]
                + [EventSpec(actor, actions.CHART_OPEN.name, pid,
                             detail={"worklist": worklist, "listed": True})
                   for pid in dict.fromkeys(patient_ids)])  # fmt: skip


def patient_name(req: ReleaseRequest) -> str:
    name = req.patient.legal_name()
    return name.display if name else "(no name)"


def pdf_response(data: bytes, name: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(attachment, name) or ""
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = "no-store, private"
    return response


def letter_response(actor: Actor, letter_id: Any, *, attachment: bool) -> HttpResponse:
    """A request's letter as a PDF, if the request is at one of the actor's
    facilities; the read is audited (chart.open naming the letter)."""
    letter = Letter.objects.filter(pk=letter_id, request__isnull=False).first()
    if letter is None:
        raise NotFound(f"no letter {letter_id}")
    req = rq.get_request(user=actor.user, request_id=letter.request_id)
    data = letter_bytes(letter)
    record(actor=actor, action=actions.CHART_OPEN.name, patient=req.patient, obj=letter,
           detail={"release_request": req.number, "part": f"{letter.kind} letter"})  # fmt: skip
    name = f"{req.number}-{letter.kind}-{letter.created_at:%Y%m%d-%H%M%S}.pdf"
    return pdf_response(data, name, attachment=attachment)
