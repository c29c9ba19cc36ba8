"""Interface messages over the JSON API: the twin of the web app's Interfaces page
(list with keyset paging, one message, reprocess). The raw text stays on the page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema

from recordroom.interop.models import InterfaceMessage

from .processed import PROCESSED, Processed
from .queries import get_message, message_page
from .services import reprocess

router = Router(tags=["interfaces"])


class MessageOut(Schema):
    id: UUID
    received_at: datetime
    message_type: str
    control_id: str
    sending_app: str
    sending_facility: str
    status: str
    ack_code: str
    error: str
    warnings: str
    raw_size: int
    patient_id: UUID | None


class MessagePage(Schema):
    items: list[MessageOut]
    next: UUID | None


class MessageFilter(Schema):
    status: str = ""
    type: str = ""
    after: UUID | None = None
    limit: int = 50


class ProcessedOut(Schema):
    message_type: str
    event: str
    description: str


class ReprocessOut(Schema):
    ack: str
    text: str
    message: MessageOut


@router.get(
    "/interface-messages", response=MessagePage,
    openapi_extra={"x-capability": "view_interfaces"},
)  # fmt: skip
def list_messages(
    request: HttpRequest, filters: Query[MessageFilter]
) -> dict[str, Any]:
    """Interface messages newest first; `next` is the `after` of the following page."""
    page = message_page(
        user=request.auth.user,  # type: ignore[attr-defined]
        status=filters.status, message_type=filters.type, after=filters.after,
        limit=filters.limit,
    )  # fmt: skip
    return {"items": page.items, "next": page.next}


@router.get(
    "/interface-types", response=list[ProcessedOut],
    openapi_extra={"x-capability": "view_interfaces"},
)  # fmt: skip
def processed_types(request: HttpRequest) -> tuple[Processed, ...]:
    """The HL7 v2 message types and trigger events Recordroom applies (tables 0076
    and 0003); any other is answered AR naming it."""
    return PROCESSED


@router.get(
    "/interface-messages/{message_id}", response=MessageOut,
    openapi_extra={"x-capability": "view_interfaces"},
)  # fmt: skip
def one_message(request: HttpRequest, message_id: UUID) -> InterfaceMessage:
    """One message: status, ACK code and error."""
    return get_message(user=request.auth.user, message_id=message_id)  # type: ignore[attr-defined]


@router.post(
    "/interface-messages/{message_id}/reprocess", response=ReprocessOut,
    openapi_extra={"x-capability": "reprocess_messages"},
)  # fmt: skip
def reprocess_message(request: HttpRequest, message_id: UUID) -> dict[str, Any]:
    """Apply again a message in error or rejected; answers the new ACK code and text
    (409 for a message already processed)."""
    actor = request.auth  # type: ignore[attr-defined]
    message = get_message(user=actor.user, message_id=message_id)
    ack = reprocess(message.pk, actor=actor)
    message.refresh_from_db()
    return {"ack": ack.code, "text": ack.text, "message": message}
