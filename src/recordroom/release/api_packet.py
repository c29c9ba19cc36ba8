"""The release desk's packet side over the JSON API: the documents selected, pages
withheld and redactions, the packet (built, read by staff), the quality review, the
release, download links (the passcode in the answer only) and logged deliveries.

Thin adapters over scope, redaction, packets, review, releasing and delivery."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.errors import NotFound

from . import delivery, packets, redaction, releasing, review, scope
from .api_accounts import DisclosureOut
from .api_common import RELEASE, actor_of, open_request, pdf_response, request_for_write
from .models import (
    DeliveryRecord,
    Disclosure,
    DownloadLink,
    Packet,
    QualityReview,
    Redaction,
    ReleaseItem,
    ReleaseRequest,
)

router = Router(tags=["release"])
R = "/release-requests/{request_id}"
I = R + "/items/{item_id}"  # noqa: E741 (a path, read as "item")
REVIEW = {"x-capability": "review_releases"}


class RedactionOut(Schema):
    id: int
    page: int
    x: float | None
    y: float | None
    width: float | None
    height: float | None
    text: str
    reason: str
    created_at: datetime
    created_by: str


class ItemOut(Schema):
    id: int
    document_id: UUID
    version_id: UUID
    included: bool
    reason: str
    rule: str
    labels: list[str]
    pages: int
    excluded_pages: list[int]
    position: int
    redactions: list[RedactionOut]


class PagesIn(Schema):
    pages: list[int] = Field(description="1-based pages left out; [] puts all back")
    reason: str = ""


class RedactionIn(Schema):
    reason: str
    page: int | None = Field(None, description="a text without a page: every page")
    x: float | None = Field(None, description="PDF points from the bottom left")
    y: float | None = None
    width: float | None = None
    height: float | None = None
    text: str = ""


class InclusionIn(Schema):
    included: bool
    reason: str


class PacketOut(Schema):
    id: UUID
    release_number: str
    media_type: str
    pages: int
    size: int
    sha256: str
    built_at: datetime
    built_by: str
    contents: list[dict[str, Any]]


class ReviewIn(Schema):
    passed: bool
    checks: dict[str, bool] = Field(
        {}, description="confirmed: " + ", ".join(review.REQUIRED_CHECKS)
    )
    note: str = ""


class ReviewOut(Schema):
    id: UUID
    reviewed_at: datetime
    reviewed_by: str
    passed: bool
    checks: dict[str, Any]
    note: str
    packet_sha256: str


class ProblemsOut(Schema):
    problems: list[str]


class LinkIn(Schema):
    max_downloads: int = 5


class LinkOut(Schema):
    id: UUID
    created_at: datetime
    created_by: str
    expires_at: datetime
    max_downloads: int
    downloads: int
    failed_attempts: int
    revoked_at: datetime | None


class NewLinkOut(LinkOut):
    url: str = Field(description="for the requester (shown once, not kept)")
    passcode: str = Field(description="give it separately (shown once, not kept)")


class ReasonIn(Schema):
    reason: str


class DeliveryIn(Schema):
    method: str = Field(description="mail, fax or pickup")
    detail: str = Field(description="carrier and tracking; fax number and "
                        "confirmation; who picked it up and how identified")  # fmt: skip


class DeliveryOut(Schema):
    id: UUID
    method: str
    detail: str
    delivered_at: datetime
    recorded_by: str


def item_out(item: ReleaseItem) -> dict[str, Any]:
    fields = {f: getattr(item, f) for f in ItemOut.model_fields if f != "redactions"}
    return {**fields, "redactions": list(item.redactions.order_by("page", "pk"))}


def _item(request: HttpRequest, request_id: UUID, item_id: int) -> ReleaseItem:
    return redaction.get_item(
        req=request_for_write(request, request_id), item_id=item_id
    )


def _packet(req: ReleaseRequest) -> Packet:
    packet = packets.current_packet(req)
    if packet is None:
        raise NotFound(f"request {req.number} has no packet yet")
    return packet


def _links(req: ReleaseRequest) -> Any:
    return DownloadLink.objects.filter(packet__request=req)


@router.post(R + "/scope", response=list[ItemOut], openapi_extra=RELEASE)
def select(request: HttpRequest, request_id: UUID) -> list[dict[str, Any]]:
    """Select the documents asked for; a sensitive one is left out with its rule and
    reason unless the basis covers it (R-PN, R-P2, R-STATE-2, R-MIN)."""
    req = request_for_write(request, request_id)
    return [
        item_out(i) for i in scope.select_documents(actor=actor_of(request), req=req)
    ]


@router.get(R + "/items", response=list[ItemOut], openapi_extra=RELEASE)
def items(request: HttpRequest, request_id: UUID) -> list[dict[str, Any]]:
    """The documents considered: included, or left out and why."""
    req = open_request(actor_of(request), request_id, part="documents")
    return [item_out(i) for i in req.items.order_by("position")]


@router.post(I + "/excluded-pages", response=ItemOut, openapi_extra=RELEASE)
def exclude(
    request: HttpRequest, request_id: UUID, item_id: int, data: PagesIn
) -> dict[str, Any]:
    """Withhold pages of a document from the packet."""
    item = _item(request, request_id, item_id)
    redaction.exclude_pages(actor=actor_of(request), item=item, pages=data.pages,
                            reason=data.reason)  # fmt: skip
    return item_out(item)


@router.post(
    I + "/redactions", response={201: list[RedactionOut]}, openapi_extra=RELEASE
)
def redact(
    request: HttpRequest, request_id: UUID, item_id: int, data: RedactionIn
) -> Status[list[Redaction]]:
    """Redact a region (PDF points) or a text; removed from the file, not covered."""
    item = _item(request, request_id, item_id)
    rows = redaction.add_redaction(
        actor=actor_of(request), item=item, **data.model_dump()
    )
    return Status(201, rows)


@router.post(
    I + "/redactions/{redaction_id}/remove", response=ItemOut, openapi_extra=RELEASE
)
def unredact(
    request: HttpRequest, request_id: UUID, item_id: int, redaction_id: int
) -> dict[str, Any]:
    """Take a redaction back."""
    item = _item(request, request_id, item_id)
    found = item.redactions.filter(pk=redaction_id).first()
    if found is None:
        raise NotFound(f"no redaction {redaction_id} on item {item_id}")
    redaction.remove_redaction(actor=actor_of(request), redaction=found)
    return item_out(item)


@router.post(I + "/inclusion", response=ItemOut, openapi_extra=RELEASE)
def include(
    request: HttpRequest, request_id: UUID, item_id: int, data: InclusionIn
) -> dict[str, Any]:
    """Leave a document out by hand, or put one left out by hand back."""
    item = _item(request, request_id, item_id)
    redaction.set_included(actor=actor_of(request), item=item, **data.model_dump())
    return item_out(item)


@router.post(R + "/packet", response={201: PacketOut}, openapi_extra=RELEASE)
def build(request: HttpRequest, request_id: UUID) -> Status[Packet]:
    """Build the stamped packet (PDF, or a zip for an electronic copy); it goes to
    quality review. Over RECORDROOM_ROI_MAX_PACKET_MB: 413, nothing kept."""
    req = request_for_write(request, request_id)
    return Status(201, packets.build_packet(actor=actor_of(request), req=req))


@router.get(R + "/packet", response=PacketOut, openapi_extra=RELEASE)
def current(request: HttpRequest, request_id: UUID) -> Packet:
    """The packet built last."""
    return _packet(open_request(actor_of(request), request_id, part="packet"))


@router.get(R + "/packet/content", openapi_extra=RELEASE)
def content(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """The packet itself, for staff to check (the read is audited)."""
    actor = actor_of(request)
    req = request_for_write(request, request_id)
    packet = _packet(req)
    data = packets.packet_bytes(packet)
    record(actor=actor, action=actions.CHART_OPEN.name, patient=req.patient, obj=packet,
           detail={"release_request": req.number, "part": f"packet {packet.release_number}"})  # fmt: skip
    if packet.media_type == "application/pdf":
        return pdf_response(data, f"{packet.release_number}.pdf", attachment=True)
    response = HttpResponse(data, content_type=packet.media_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{packet.release_number}.zip"'
    )
    return response


@router.post(R + "/review", response={201: ReviewOut}, openapi_extra=REVIEW)
def quality_review(
    request: HttpRequest, request_id: UUID, data: ReviewIn
) -> Status[QualityReview]:
    """Pass (every check confirmed) or fail (with a note) the current packet; a
    second person unless RECORDROOM_ROI_SAME_PERSON_QA."""
    req = request_for_write(request, request_id)
    return Status(201, review.quality_review(actor=actor_of(request), req=req,
                                             **data.model_dump()))  # fmt: skip


@router.get(R + "/release-problems", response=ProblemsOut, openapi_extra=RELEASE)
def release_problems(request: HttpRequest, request_id: UUID) -> dict[str, Any]:
    """What stops the release now (empty: it may go)."""
    req = open_request(actor_of(request), request_id, part="release check")
    return {"problems": releasing.release_problems(req)}


@router.post(R + "/release", response=list[DisclosureOut], openapi_extra=RELEASE)
def release(request: HttpRequest, request_id: UUID) -> list[Disclosure]:
    """Release the reviewed packet and enter the disclosure (refused, naming every
    problem, when one stands)."""
    req = request_for_write(request, request_id)
    return releasing.release(actor=actor_of(request), req=req)


@router.get(R + "/links", response=list[LinkOut], openapi_extra=RELEASE)
def links(request: HttpRequest, request_id: UUID) -> list[DownloadLink]:
    """The download links of the released packet, newest first."""
    req = open_request(actor_of(request), request_id, part="links")
    return list(_links(req).order_by("-created_at"))


@router.post(R + "/links", response={201: NewLinkOut}, openapi_extra=RELEASE)
def create_link(request: HttpRequest, request_id: UUID, data: LinkIn) -> Status[Any]:
    """A download link for the released packet: its address and passcode are in this
    answer only (neither is kept)."""
    req = request_for_write(request, request_id)
    packet = req.packets.filter(release_number=req.release_number).first() or _packet(
        req
    )
    link, token, passcode = delivery.create_link(
        actor=actor_of(request), packet=packet, max_downloads=data.max_downloads
    )
    url = request.build_absolute_uri(reverse("web:release_download", args=[token]))
    fields = {f: getattr(link, f) for f in LinkOut.model_fields}
    return Status(201, {**fields, "url": url, "passcode": passcode})


@router.post(R + "/links/{link_id}/revoke", response=LinkOut, openapi_extra=RELEASE)
def revoke_link(
    request: HttpRequest, request_id: UUID, link_id: UUID, data: ReasonIn
) -> DownloadLink:
    """Stop a link working."""
    link = _links(request_for_write(request, request_id)).filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"no link {link_id} on request {request_id}")
    return delivery.revoke_link(actor=actor_of(request), link=link, reason=data.reason)


@router.post(R + "/deliveries", response={201: DeliveryOut}, openapi_extra=RELEASE)
def log_delivery(
    request: HttpRequest, request_id: UUID, data: DeliveryIn
) -> Status[DeliveryRecord]:
    """Record the released packet mailed, faxed or picked up."""
    req = request_for_write(request, request_id)
    return Status(201, delivery.log_delivery(actor=actor_of(request), req=req,
                                             **data.model_dump()))  # fmt: skip
