"""Release of information over the JSON API: intake, the aging worklist, one
request, and its workflow (status, identity verification, the one extension).

Thin adapters: parse, call one service, render. Reads of PHI are audited here
(`open_request`, `audit_listed`, shared with the web pages and the CLI); writes are
audited by the services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict, Field

from recordroom.kernel import clock
from recordroom.kernel.errors import ValidationFailed

from . import api_accounts, api_legal, api_packet
from . import requests as rq
from .api_common import (
    RELEASE,
    actor_of,
    audit_listed,
    open_request,
    patient_name,
    request_for_write,
)
from .models import OPEN_STATUSES, ReleaseRequest

router = Router(tags=["release"])


# --- schemas -------------------------------------------------------------------------------


class RequestFieldsIn(BaseModel):
    """What intake asks that may also change later (release.requests.EDITABLE)."""

    requester_organization: str = Field("", max_length=200)
    requester_address: str = Field("", max_length=1000)
    requester_email: str = Field("", max_length=200)
    requester_phone: str = Field("", max_length=40)
    purpose: str = Field("", max_length=300)
    entire_record: bool = False
    entire_record_reason: str = Field(
        "", max_length=300, description="why a third party needs it all (R-MIN-6)"
    )
    date_from: date | None = None
    date_to: date | None = None
    encounter_ids: list[UUID] = []
    document_types: list[str] = []
    legal_basis: str = ""
    legal_detail: dict[str, Any] = {}


class RequestCreate(RequestFieldsIn):
    patient_id: UUID = Field(description="found with GET /patients first")
    facility: str = Field(description="facility code: whose records, and whose desk")
    requester_type: str = Field(description="patient, representative, directive, "
                                "authorized, provider, payer, attorney, court-order, "
                                "subpoena, law-enforcement, public-health, research")  # fmt: skip
    requester_name: str
    received_on: date
    channel: str = Field(
        description="mail, fax, email, portal, in-person, phone, interface"
    )
    format: str = Field(description="paper, pdf, electronic")
    delivery: str = Field(description="download, mail, fax, pickup")
    representative_authority: str = ""
    state: str = ""
    identity_verified: bool = False
    verification_method: str = ""

    def to_service(self) -> rq.RequestIn:
        data = self.model_dump()
        data["facility_code"] = data.pop("facility")
        return rq.RequestIn(**data)


class RequestChange(RequestFieldsIn):
    """Only the fields sent change. Any other field is passed on, for the service
    to refuse by name (pydantic models, as ninja's Schema drops extra fields)."""

    model_config = ConfigDict(extra="allow")

    format: str = Field("", description="paper, pdf, electronic")
    delivery: str = Field("", description="download, mail, fax, pickup")
    legal_detail: dict[str, Any] = Field(
        {}, description="the papers, merged key by key into those on file (e.g. a "
        "subpoena's assurances as they arrive); a key set to null is removed",
    )  # fmt: skip


class RequestOut(Schema):
    id: UUID
    number: str
    patient_id: UUID
    patient_name: str
    facility: str
    requester_type: str
    requester_name: str
    requester_organization: str
    requester_address: str
    requester_email: str
    requester_phone: str
    representative_authority: str
    state: str
    received_on: date
    channel: str
    identity_verified: bool
    verification_method: str
    verified_by: str
    purpose: str
    entire_record: bool
    entire_record_reason: str
    date_from: date | None
    date_to: date | None
    encounter_ids: list[UUID]
    document_types: list[str]
    format: str
    delivery: str
    legal_basis: str
    legal_detail: dict[str, Any]
    status: str
    status_note: str
    due_on: date
    extended_to: date | None
    extension_reason: str
    deadline_rule: str
    days_left: int
    overdue: bool
    created_at: datetime
    created_by: str
    closed_at: datetime | None
    release_number: str


class WorkItemOut(Schema):
    id: UUID
    number: str
    patient_id: UUID
    patient_name: str
    requester_type: str
    requester_name: str
    status: str
    received_on: date
    due_on: date
    extended_to: date | None
    age_days: int
    days_left: int
    overdue: bool


class WorklistOut(Schema):
    items: list[WorkItemOut]
    count: int


class WorklistFilter(Schema):
    status: str = Field("", description="one status; default: every open one")
    overdue: bool = Field(False, description="only requests past their deadline")
    limit: int = Field(200, ge=1, le=1000)


class StatusIn(Schema):
    status: str = Field(description="pending, in-progress or cancelled by hand")
    note: str = ""


class VerifyIn(Schema):
    method: str = Field(description="how the requester's identity and authority "
                        "were verified (R-DISC-7)")  # fmt: skip


class ExtensionIn(Schema):
    reason: str = Field(
        description="the reason for the delay, for the notice (R-ACC-2)"
    )


def request_out(req: ReleaseRequest) -> dict[str, Any]:
    today = clock.today(req.facility)
    deadline = req.extended_to or req.due_on
    fields = {f: getattr(req, f) for f in RequestOut.model_fields if hasattr(req, f)}
    return {
        **fields,
        "patient_name": patient_name(req),
        "facility": req.facility.code,
        "encounter_ids": [e.pk for e in req.encounters.all()],
        "days_left": (deadline - today).days,
        "overdue": deadline < today and req.status in OPEN_STATUSES,
    }


# --- routes --------------------------------------------------------------------------------


@router.post("/release-requests", response={201: RequestOut}, openapi_extra=RELEASE)
def create_request(request: HttpRequest, data: RequestCreate) -> Status[dict[str, Any]]:
    """Log a request with its due date by the rule that applies (R-ACC-2 for the
    right of access). The patient is found with GET /patients first; a request for
    a patient who cannot be identified is refused (and the attempt audited)."""
    req = rq.log_request(actor=actor_of(request), data=data.to_service())
    return Status(201, request_out(req))


@router.get("/release-requests", response=WorklistOut, openapi_extra=RELEASE)
def list_requests(
    request: HttpRequest, filters: Query[WorklistFilter]
) -> dict[str, Any]:
    """The aging worklist: open requests at your facilities, nearest deadline first;
    each listed patient's access log shows the read."""
    actor = actor_of(request)
    items = rq.worklist(user=actor.user, status=filters.status,
                        overdue_only=filters.overdue, limit=filters.limit)  # fmt: skip
    audit_listed(actor, "release", [i.request.patient_id for i in items])
    rows = [
        {**{f: getattr(i.request, f) for f in ("id", "number", "patient_id",
            "requester_type", "requester_name", "status", "received_on", "due_on",
            "extended_to")},
         "patient_name": patient_name(i.request), "age_days": i.age_days,
         "days_left": i.days_left, "overdue": i.overdue}
        for i in items
    ]  # fmt: skip
    return {"items": rows, "count": len(rows)}


@router.get(
    "/release-requests/{request_id}", response=RequestOut, openapi_extra=RELEASE
)
def read_request(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    """One request: requester, scope, status and deadline."""
    return request_out(open_request(actor_of(request), request_id, part="request"))


@router.patch(
    "/release-requests/{request_id}", response=RequestOut, openapi_extra=RELEASE
)
def change_request(
    request: HttpRequest, request_id: UUID, data: RequestChange
) -> dict[str, Any]:
    """Change an open request: what it asks for, its legal papers (merged key by
    key), the requester's contact, format and delivery. Checked as at intake (a
    refusal names its field, is audited, and nothing is written); a change to what
    is asked for or to the basis sends a built packet back to work."""
    req = request_for_write(request, request_id)
    changes = {**data.model_dump(exclude_unset=True), **(data.model_extra or {})}
    if not changes:
        raise ValidationFailed("send at least one field to change")
    return request_out(rq.update_request(actor=actor_of(request), req=req,
                                         changes=changes))  # fmt: skip


@router.post(
    "/release-requests/{request_id}/status", response=RequestOut, openapi_extra=RELEASE
)
def change_status(
    request: HttpRequest, request_id: UUID, data: StatusIn
) -> dict[str, Any]:
    """Pend (with a note for the requester), take up, or cancel (with a note)."""
    req = request_for_write(request, request_id)
    return request_out(rq.set_status(actor=actor_of(request), req=req,
                                     status=data.status, note=data.note))  # fmt: skip


@router.post(
    "/release-requests/{request_id}/verify", response=RequestOut, openapi_extra=RELEASE
)
def verify(request: HttpRequest, request_id: UUID, data: VerifyIn) -> dict[str, Any]:
    """Record how the requester's identity and authority were verified (R-DISC-7)."""
    req = request_for_write(request, request_id)
    return request_out(
        rq.verify_identity(actor=actor_of(request), req=req, method=data.method)
    )


@router.post(
    "/release-requests/{request_id}/extension", response=RequestOut,
    openapi_extra=RELEASE,
)  # fmt: skip
def extension(
    request: HttpRequest, request_id: UUID, data: ExtensionIn
) -> dict[str, Any]:
    """Take the one extension (R-ACC-2: within the first period, with the reason)."""
    req = request_for_write(request, request_id)
    return request_out(rq.extend(actor=actor_of(request), req=req, reason=data.reason))


router.add_router("", api_legal.router)
router.add_router("", api_accounts.router)
router.add_router("", api_packet.router)
