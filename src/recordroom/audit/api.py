"""The audit trail over the JSON API: pages of events and the FHIR AuditEvent NDJSON
export, plus the event schema and streamed response the patient access log (mpi.api)
shares. The queries are audit.queries; every read of the trail is itself audited here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from recordroom.kernel import actions
from recordroom.kernel.actor import Actor

from . import queries
from .fhir import MEDIA_TYPE
from .models import AuditEvent, Outcome
from .services import record

router = Router(tags=["audit"])


class EventOut(Schema):
    id: int
    at: datetime
    user_id: str
    username: str
    role: str
    facility_id: str
    action: str
    outcome: str
    patient_id: str
    object_type: str
    object_id: str
    purpose: str
    channel: str
    client_address: str
    request_id: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    @staticmethod
    def resolve_detail(obj: AuditEvent) -> dict[str, Any]:
        return json.loads(obj.detail or "{}")  # type: ignore[no-any-return]


class EventPage(Schema):
    items: list[EventOut]
    next: int | None = Field(
        description="Pass as `after` for the next page; null at the end"
    )


class EventQuery(Schema):
    """The filters as query parameters (audit.queries.EventFilters)."""

    action: str = Field("", description="Only this action, e.g. chart.open")
    user: str = Field("", description="Only events by this user name")
    patient: UUID | None = Field(None, description="Only events about this patient id")
    since: datetime | None = Field(None, description="Events at or after this time")
    until: datetime | None = Field(None, description="Events before this time")

    def to_filters(self) -> queries.EventFilters:
        return queries.EventFilters(**self.model_dump())


def page_out(page: queries.Page) -> dict[str, Any]:
    return {"items": page.items, "next": page.next}


def ndjson_export(
    events: QuerySet[AuditEvent], *, audit: Callable[[int, bool], None]
) -> StreamingHttpResponse:
    """Stream events as FHIR AuditEvent NDJSON; `audit(count, complete)` runs at the end.

    The export is audited once the stream ends (or is cut off), with the number of
    events actually sent.
    """
    response = StreamingHttpResponse(
        queries.stream_ndjson(events, on_end=audit), content_type=MEDIA_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/audit/events", response=EventPage, openapi_extra={"x-capability": "view_audit"}
)
def list_events(
    request: HttpRequest,
    filters: Query[EventQuery],
    after: int | None = None,
    limit: int = Query(100, ge=1, le=queries.MAX_PAGE),
) -> dict[str, Any]:
    """Audit events in chain order (oldest first), filtered, one keyset page at a time;
    audited as audit.view."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    wanted = filters.to_filters()
    page = queries.event_page(filters=wanted, after=after, limit=limit)
    record(
        actor=actor, action=actions.AUDIT_VIEW.name,
        detail={"format": "json", "filters": wanted.as_audit(), "after": after,
                "count": len(page.items)},
    )  # fmt: skip
    return page_out(page)


NDJSON_RESPONSE = {
    "responses": {
        # An int, as ninja keys its own: "200" beside 200 is a duplicate key in the
        # JSON, which Swagger UI refuses to render.
        200: {
            "description": "One FHIR R4 AuditEvent per line",
            "content": {MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    }
}


@router.get(
    "/audit/events.ndjson",
    openapi_extra={"x-capability": "view_audit", **NDJSON_RESPONSE},
)
def export_events(
    request: HttpRequest, filters: Query[EventQuery]
) -> StreamingHttpResponse:
    """The whole trail, or the filtered range, as FHIR R4 AuditEvent NDJSON (streamed);
    audited as audit.export."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    wanted = filters.to_filters()
    events = queries.matching_events(wanted)

    def audit(count: int, complete: bool) -> None:
        record(
            actor=actor, action=actions.AUDIT_EXPORT.name,
            outcome=Outcome.SUCCESS if complete else Outcome.FAILURE,
            detail={"format": "fhir-ndjson", "filters": wanted.as_audit(),
                    "count": count,
                    **({} if complete else {"error": "the stream was cut off"})},
        )  # fmt: skip

    return ndjson_export(events, audit=audit)
