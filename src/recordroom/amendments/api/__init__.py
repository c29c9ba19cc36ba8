"""Amendments over the JSON API: log a request, the worklist, one request with its
clock, the extension, routing and the author's review, the decision, the statement
of disagreement, the rebuttal, an amendment from another covered entity, letters.

Thin adapters: parse, call one service, render. Reads of PHI are audited here
(amendments.reads); writes by the services."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Query, Router, Schema, Status
from pydantic import Field

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.mpi.models import Facility, Patient
from recordroom.records.models import Provider

from .. import decisions, reads, services
from ..models import AmendmentRequest

router = Router(tags=["amendments"])
CAP = {"x-capability": reads.CAPABILITY}


def _actor(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class PersonIn(Schema):
    name: str = Field(max_length=200)
    address: str = Field("", max_length=500)
    why: str = Field("named by the patient", max_length=200)


class RequestIn(Schema):
    patient_id: UUID
    facility: str = Field(description="facility code")
    received_on: date
    received_how: str = Field(description="mail, portal, in-person, fax, email")
    requested_by: str = Field(max_length=200)
    address: str = Field("", max_length=1000)
    change: str = Field(description="what the patient asks to change, as written")
    reason: str = Field(description="why, as written")
    document_ids: list[UUID] = Field(description="the entries the request concerns")
    notify: list[PersonIn] = []


class ExternalIn(Schema):
    patient_id: UUID
    facility: str
    source_entity: str = Field(max_length=200)
    received_on: date
    document_ids: list[UUID]
    amendment_text: str
    notify: list[PersonIn] = []


class EntryOut(Schema):
    document_id: UUID
    title: str
    version: int
    outcome: str
    amended_version: int | None


class LetterOut(Schema):
    id: UUID
    kind: str
    recipient: str
    created_at: datetime


class RequestOut(Schema):
    id: UUID
    number: str
    patient_id: UUID
    patient_name: str
    facility: str
    status: str
    received_on: date
    received_how: str
    requested_by: str
    change: str
    reason: str
    notify: list[dict[str, str]]
    source_entity: str
    due_on: date
    extended_to: date | None
    extension_reason: str
    deadline: date
    days_left: int
    overdue: bool
    author: str
    author_agrees: bool | None
    author_comment: str
    amendment_text: str
    ground: str
    basis: str
    disagreement: str
    rebuttal: str
    include_with_disclosures: bool
    entries: list[EntryOut]
    letters: list[LetterOut]


class WorkItemOut(Schema):
    id: UUID
    number: str
    patient_id: UUID
    patient_name: str
    status: str
    received_on: date
    deadline: date
    days_left: int
    overdue: bool
    author: str


class WorklistOut(Schema):
    items: list[WorkItemOut]
    count: int


class WorklistFilter(Schema):
    status: str = Field("", description="one status; default: every open one")
    overdue: bool = False
    limit: int = Field(200, ge=1, le=1000)


class TextIn(Schema):
    text: str


class ExtendIn(Schema):
    reason: str = Field(description="the reason for the delay, printed in the notice")


class RouteIn(Schema):
    author_id: UUID | None = None


class ReviewIn(Schema):
    agrees: bool
    comment: str


class DecideIn(Schema):
    accept: list[UUID] = []
    deny: list[UUID] = []
    amendment_text: str = ""
    ground: str = Field("", description="not-created-here, not-in-record-set, "
                        "not-available, accurate")  # fmt: skip
    basis: str = ""
    originator_available: bool = True


class DisagreementIn(Schema):
    text: str
    received_on: date | None = None


def request_out(req: AmendmentRequest) -> dict[str, Any]:
    c = reads.clock_of(req)
    entries = req.entries.select_related("document__doc_type", "version",
                                         "amended_version").order_by("pk")  # fmt: skip
    return {
        **{f: getattr(req, f) for f in RequestOut.model_fields if hasattr(req, f)
           and f not in ("entries", "letters", "author", "deadline")},
        "patient_name": reads.patient_name(req), "facility": req.facility.code,
        "deadline": c.deadline, "days_left": c.days_left, "overdue": c.overdue,
        "author": str(req.author) if req.author else "",
        "entries": [{"document_id": e.document_id,
                     "title": e.document.title or e.document.doc_type.display,
                     "version": e.version.number, "outcome": e.outcome,
                     "amended_version": e.amended_version.number
                     if e.amended_version else None} for e in entries],
        "letters": list(req.letters.values("id", "kind", "recipient", "created_at")),
    }  # fmt: skip


def _where(actor: Actor, patient_id: UUID, code: str) -> tuple[Patient, Facility]:
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        raise NotFound(f"no patient {patient_id}", field="patient_id")
    facility = Facility.objects.filter(code=code).first()
    if facility is None:
        raise ValidationFailed(f"unknown facility {code!r}", field="facility")
    return patient, facility


def _for_write(request: HttpRequest, request_id: UUID) -> AmendmentRequest:
    return services.get_request(user=_actor(request).user, request_id=request_id)


@router.post("/amendment-requests", response={201: RequestOut}, openapi_extra=CAP)
def create(request: HttpRequest, data: RequestIn) -> Status[dict[str, Any]]:
    """Log a written request to amend, with its 60-day clock."""
    actor = _actor(request)
    patient, facility = _where(actor, data.patient_id, data.facility)
    req = services.log_request(
        actor=actor, patient=patient, facility=facility, received_on=data.received_on,
        received_how=data.received_how, requested_by=data.requested_by,
        address=data.address, change=data.change, reason=data.reason,
        document_ids=data.document_ids, notify=[p.dict() for p in data.notify])  # fmt: skip
    return Status(201, request_out(req))


@router.post("/amendment-requests/external", response={201: RequestOut},
             openapi_extra=CAP)  # fmt: skip
def external(request: HttpRequest, data: ExternalIn) -> Status[dict[str, Any]]:
    """Apply an amendment another covered entity sent us."""
    actor = _actor(request)
    patient, facility = _where(actor, data.patient_id, data.facility)
    req = decisions.apply_external_amendment(
        actor=actor, patient=patient, facility=facility,
        source_entity=data.source_entity, received_on=data.received_on,
        document_ids=data.document_ids, amendment_text=data.amendment_text,
        notify=[p.dict() for p in data.notify])  # fmt: skip
    return Status(201, request_out(req))


@router.get("/amendment-requests", response=WorklistOut, openapi_extra=CAP)
def worklist(request: HttpRequest, filters: Query[WorklistFilter]) -> dict[str, Any]:
    """Open requests at your facilities, nearest deadline first (or one status)."""
    actor = _actor(request)
    rows = list(services.worklist(user=actor.user, status=filters.status,
                                  overdue=filters.overdue)[: filters.limit])  # fmt: skip
    reads.audit_listed(actor, "amendments", [r.patient_id for r in rows])
    items = []
    for r in rows:
        c = reads.clock_of(r)
        items.append({"id": r.pk, "number": r.number, "patient_id": r.patient_id,
                      "patient_name": reads.patient_name(r), "status": r.status,
                      "received_on": r.received_on, "deadline": c.deadline,
                      "days_left": c.days_left, "overdue": c.overdue,
                      "author": str(r.author) if r.author else ""})  # fmt: skip
    return {"items": items, "count": len(items)}


@router.get("/amendment-requests/{request_id}", response=RequestOut, openapi_extra=CAP)
def read(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    """One request with its clock, entries, decision and letters."""
    return request_out(reads.open_request(_actor(request), request_id, part="request"))


@router.post("/amendment-requests/{request_id}/extension", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def extend(request: HttpRequest, request_id: UUID, data: ExtendIn) -> dict[str, Any]:
    """The one 30-day extension, within the 60 days, with its notice."""
    req = _for_write(request, request_id)
    services.extend(actor=_actor(request), req=req, reason=data.reason)
    return request_out(req)


@router.post("/amendment-requests/{request_id}/route", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def route(request: HttpRequest, request_id: UUID, data: RouteIn) -> dict[str, Any]:
    """Send the request to the entries' author (or the provider named)."""
    req = _for_write(request, request_id)
    author = None
    if data.author_id is not None:
        author = Provider.objects.filter(pk=data.author_id).first()
        if author is None:
            raise NotFound(f"no provider {data.author_id}", field="author_id")
    services.route_to_author(actor=_actor(request), req=req, author=author)
    return request_out(req)


@router.post("/amendment-requests/{request_id}/review", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def review(request: HttpRequest, request_id: UUID, data: ReviewIn) -> dict[str, Any]:
    """The author's opinion on the request."""
    req = _for_write(request, request_id)
    services.author_review(actor=_actor(request), req=req, agrees=data.agrees,
                           comment=data.comment)  # fmt: skip
    return request_out(req)


@router.post("/amendment-requests/{request_id}/decision", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def decide(request: HttpRequest, request_id: UUID, data: DecideIn) -> dict[str, Any]:
    """Accept and/or deny each entry; the letters are written with the decision."""
    req = _for_write(request, request_id)
    decisions.decide(actor=_actor(request), req=req, accept=data.accept,
                     deny=data.deny, amendment_text=data.amendment_text,
                     ground=data.ground, basis=data.basis,
                     originator_available=data.originator_available)  # fmt: skip
    return request_out(req)


@router.post("/amendment-requests/{request_id}/disagreement", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def disagreement(
    request: HttpRequest, request_id: UUID, data: DisagreementIn
) -> dict[str, Any]:
    """Link the patient's statement of disagreement to the record."""
    req = _for_write(request, request_id)
    decisions.file_disagreement(actor=_actor(request), req=req, text=data.text,
                                received_on=data.received_on)  # fmt: skip
    return request_out(req)


@router.post("/amendment-requests/{request_id}/rebuttal", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def rebuttal(request: HttpRequest, request_id: UUID, data: TextIn) -> dict[str, Any]:
    """Our rebuttal, linked to the record; its copy goes to the patient."""
    req = _for_write(request, request_id)
    decisions.write_rebuttal(actor=_actor(request), req=req, text=data.text)
    return request_out(req)


@router.post("/amendment-requests/{request_id}/include", response=RequestOut,
             openapi_extra=CAP)  # fmt: skip
def include(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    """The patient asked that the request and the denial go with later disclosures."""
    req = _for_write(request, request_id)
    decisions.ask_to_include(actor=_actor(request), req=req)
    return request_out(req)


@router.get("/amendment-letters/{letter_id}", openapi_extra=CAP)
def letter(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """A letter's PDF (the read is audited)."""
    found, data = reads.open_letter(_actor(request), letter_id)
    response = HttpResponse(data, content_type="application/pdf")
    name = f"{found.request.number}-{found.kind}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    response["Cache-Control"] = "no-store, private"
    return response
