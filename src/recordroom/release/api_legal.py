"""The release desk's legal side over the JSON API: the basis check, authorizations
(recorded element by element, corrected, revoked), letters and their PDFs, denials
and their review. Thin adapters over authorizations, letters and denials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from recordroom.kernel import clock
from recordroom.kernel.errors import NotFound
from recordroom.release.elements import auth_zone

from . import authorizations as authz
from . import denials, letters
from .api_common import (
    RELEASE,
    actor_of,
    letter_response,
    open_request,
    request_for_write,
)
from .models import Authorization, Denial, Letter, ReleaseRequest

router = Router(tags=["release"])
R = "/release-requests/{request_id}"


class DefectOut(Schema):
    rule: str
    element: str
    message: str


class BasisOut(Schema):
    ok: bool
    basis: str
    rule: str
    part2_notice: bool
    authorization_id: UUID | None
    defects: list[DefectOut]


class ElementIn(Schema):
    present: bool
    note: str = ""


class AuthorizationFields(Schema):
    recipient: str = ""
    purpose: str = ""
    description: str = ""
    signed_on: date | None = None
    signed_by: str = ""
    representative_signed: bool = False
    tpo: bool = False
    expires_on: date | None = None
    expiration_event: str = ""
    expiration_event_occurred: bool = False
    covers: list[str] = Field([], description="sensitivity labels the form names: "
                              "SUD, PSYTHPN, HIV ...")  # fmt: skip
    compound_with: str = Field("", description="authorization, psychotherapy, "
                               "research, part2-notes or other (optionally 'code: note')")  # fmt: skip
    conditions_treatment: bool = False
    conditioning_exception: str = ""
    known_false: bool = False


class AuthorizationIn(AuthorizationFields):
    kind: str = Field(description="hipaa, psychotherapy, part2, part2-notes, directive")
    elements: dict[str, bool | ElementIn] = Field(
        description="checklist code -> present (or {present, note}); a code not "
        "given is missing"
    )


class AuthorizationUpdate(AuthorizationFields):
    """Only the fields sent are changed; `elements` are merged over what is there."""

    elements: dict[str, bool | ElementIn] = {}


class AuthorizationOut(AuthorizationFields):
    id: UUID
    kind: str
    elements: dict[str, ElementIn]
    revoked_at: datetime | None
    revocation_note: str
    recorded_at: datetime
    recorded_by: str
    defects: list[DefectOut]


class RevokeIn(Schema):
    at: datetime | None = Field(None, description="when revoked (default: now)")
    note: str = Field(description="how the written revocation was received")


class LetterIn(Schema):
    kind: str = Field(description="acknowledgment or extension (the defect letter: "
                      "POST .../defect-letter; denial: POST .../denials)")  # fmt: skip


class LetterOut(Schema):
    id: UUID
    kind: str
    created_at: datetime
    created_by: str
    size: int
    sha256: str


class DenialIn(Schema):
    ground: str = Field(description="a ground code of release.grounds (R-ACC-7/8)")
    basis: str = Field(description="why, in plain words, for the letter (R-ACC-9)")
    partial: bool = False
    professional: str = ""


class DenialOut(Schema):
    id: UUID
    ground: str
    reviewable: bool
    basis: str
    partial: bool
    denied_by: str
    professional: str
    denied_at: datetime
    review_requested_at: datetime | None
    reviewer: str
    review_outcome: str
    reviewed_at: datetime | None


class ReviewIn(Schema):
    reviewer: str = Field(description="the reviewing licensed professional")
    outcome: str = Field(description="upheld or reversed")


def _elements(given: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.model_dump() if isinstance(v, ElementIn) else v for k, v in given.items()
    }


def auth_out(auth: Authorization) -> dict[str, Any]:
    fields = {
        f: getattr(auth, f) for f in AuthorizationOut.model_fields if f != "defects"
    }
    return {
        **fields,
        "defects": authz.check_authorization(auth, on=clock.today(auth_zone(auth))),
    }


def _authorization(req: ReleaseRequest, auth_id: UUID) -> Authorization:
    auth = req.authorizations.filter(pk=auth_id).first()
    if auth is None:
        raise NotFound(f"request {req.number} has no authorization {auth_id}")
    return auth


def _denial(req: ReleaseRequest, denial_id: UUID) -> Denial:
    denial = req.denials.filter(pk=denial_id).first()
    if denial is None:
        raise NotFound(f"request {req.number} has no denial {denial_id}")
    return denial


@router.get(R + "/basis", response=BasisOut, openapi_extra=RELEASE)
def basis(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    """Whether the request may be released today, and every defect by its rule."""
    req = open_request(actor_of(request), request_id, part="basis")
    check = authz.check_basis(req)
    auth = check.authorization
    return {**check.__dict__, "authorization_id": auth.pk if auth else None}


@router.get(
    R + "/authorizations", response=list[AuthorizationOut], openapi_extra=RELEASE
)
def list_authorizations(request: HttpRequest, request_id: UUID) -> list[dict[str, Any]]:
    """The forms recorded for the request, newest first, each with its defects today."""
    req = open_request(actor_of(request), request_id, part="authorizations")
    return [auth_out(a) for a in req.authorizations.all()]


@router.post(
    R + "/authorizations", response={201: AuthorizationOut}, openapi_extra=RELEASE
)
def record_authorization(
    request: HttpRequest, request_id: UUID, data: AuthorizationIn
) -> Status[dict[str, Any]]:
    """Record a signed form as received, each element of its checklist present or
    missing; the answer lists its defects (R-AUTH-5)."""
    req = request_for_write(request, request_id)
    values = data.model_dump(exclude={"kind", "elements"})
    auth = authz.record_authorization(
        actor=actor_of(request), patient=req.patient, request=req, kind=data.kind,
        elements=_elements(data.elements), **values,
    )  # fmt: skip
    return Status(201, auth_out(auth))


@router.post(
    R + "/authorizations/{auth_id}", response=AuthorizationOut, openapi_extra=RELEASE
)
def correct_authorization(
    request: HttpRequest, request_id: UUID, auth_id: UUID, data: AuthorizationUpdate
) -> dict[str, Any]:
    """Correct what was recorded: elements (merged over what is there) and fields."""
    auth = _authorization(request_for_write(request, request_id), auth_id)
    changes = data.model_dump(exclude_unset=True, exclude={"elements"})
    authz.update_authorization(actor=actor_of(request), auth=auth,
                               elements=_elements(data.elements), **changes)  # fmt: skip
    return auth_out(auth)


@router.post(
    R + "/authorizations/{auth_id}/revoke", response=AuthorizationOut,
    openapi_extra=RELEASE,
)  # fmt: skip
def revoke(
    request: HttpRequest, request_id: UUID, auth_id: UUID, data: RevokeIn
) -> dict[str, Any]:
    """Record the patient's written revocation (R-AUTH-8)."""
    auth = _authorization(request_for_write(request, request_id), auth_id)
    authz.revoke(actor=actor_of(request), auth=auth, at=data.at or timezone.now(),
                 note=data.note)  # fmt: skip
    return auth_out(auth)


@router.post(R + "/defect-letter", response={201: LetterOut}, openapi_extra=RELEASE)
def defect_letter(request: HttpRequest, request_id: UUID) -> Status[Letter]:
    """Pend the request on its defects and write the letter naming each."""
    req = request_for_write(request, request_id)
    return Status(201, letters.pend_with_defects(actor=actor_of(request), req=req))


@router.get(R + "/letters", response=list[LetterOut], openapi_extra=RELEASE)
def list_letters(request: HttpRequest, request_id: UUID) -> list[Letter]:
    """The letters written for the request, newest first."""
    return list(
        open_request(actor_of(request), request_id, part="letters").letters.all()
    )


@router.post(R + "/letters", response={201: LetterOut}, openapi_extra=RELEASE)
def write_letter(
    request: HttpRequest, request_id: UUID, data: LetterIn
) -> Status[Letter]:
    """Write an acknowledgment or an extension notice (as a PDF, kept)."""
    req = request_for_write(request, request_id)
    return Status(
        201, letters.render_letter(actor=actor_of(request), req=req, kind=data.kind)
    )


@router.get("/release-letters/{letter_id}/content", openapi_extra=RELEASE)
def letter_content(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """A letter's PDF (a read of the request, audited)."""
    return letter_response(actor_of(request), letter_id, attachment=True)


@router.post(R + "/denials", response={201: DenialOut}, openapi_extra=RELEASE)
def deny(request: HttpRequest, request_id: UUID, data: DenialIn) -> Status[Denial]:
    """Deny in whole or part on a ground, with the denial letter (R-ACC-7/8/9)."""
    req = request_for_write(request, request_id)
    return Status(
        201, denials.deny(actor=actor_of(request), req=req, **data.model_dump())
    )


@router.post(
    R + "/denials/{denial_id}/review-request", response=DenialOut, openapi_extra=RELEASE
)
def review_requested(request: HttpRequest, request_id: UUID, denial_id: UUID) -> Denial:
    """The requester asked for a review of a reviewable denial (R-ACC-8)."""
    denial = _denial(request_for_write(request, request_id), denial_id)
    return denials.request_review(actor=actor_of(request), denial=denial)


@router.post(
    R + "/denials/{denial_id}/review", response=DenialOut, openapi_extra=RELEASE
)
def review(
    request: HttpRequest, request_id: UUID, denial_id: UUID, data: ReviewIn
) -> Denial:
    """The reviewing professional's decision: a different professional (R-ACC-8)."""
    denial = _denial(request_for_write(request, request_id), denial_id)
    return denials.record_review(actor=actor_of(request), denial=denial,
                                 reviewer=data.reviewer, outcome=data.outcome)  # fmt: skip
