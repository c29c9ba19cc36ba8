"""The audit trail over the JSON API: pages of events and FHIR AuditEvent NDJSON export.

Also the event schema, filters, keyset paging and streamed export that the patient
access log (mpi.api) shares. Every read of the trail is itself audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

from .fhir import MEDIA_TYPE, iter_ndjson
from .models import AuditEvent, Outcome
from .services import record

router = Router(tags=["audit"])

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


class EventFilters(Schema):
    action: str = Field("", description="Only this action, e.g. chart.open")
    user: str = Field("", description="Only events by this user name")
    patient: UUID | None = Field(None, description="Only events about this patient id")
    since: datetime | None = Field(None, description="Events at or after this time")
    until: datetime | None = Field(None, description="Events before this time")

    def apply(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        if self.action:
            try:
                actions.get(self.action)
            except KeyError:
                raise ValidationFailed(
                    f"unknown audit action {self.action!r}; e.g. "
                    + ", ".join(a.name for a in actions.all_actions()[:5]),
                    field="action",
                ) from None
            events = events.filter(action=self.action)
        if self.user:
            events = events.filter(username=self.user)
        if self.patient:
            events = events.filter(patient_id=str(self.patient))
        if self.since:
            events = events.filter(ts__gte=_micros(self.since))
        if self.until:
            events = events.filter(ts__lt=_micros(self.until))
        return events

    def as_audit(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump().items() if v}


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # times without a zone are UTC
    return (moment - _EPOCH) // timedelta(microseconds=1)


def event_page(
    events: QuerySet[AuditEvent], *, after: int | None, limit: int, newest_first: bool
) -> tuple[list[AuditEvent], int | None]:
    """One keyset page by id (the chain order, or newest first) and the next cursor."""
    if after is not None:
        events = (
            events.filter(id__lt=after) if newest_first else events.filter(id__gt=after)
        )
    rows = list(events.order_by("-id" if newest_first else "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def ndjson_export(
    events: QuerySet[AuditEvent], *, audit: Callable[[int, bool], None]
) -> StreamingHttpResponse:
    """Stream events as FHIR AuditEvent NDJSON; `audit(count, complete)` runs at the end.

    The export is audited once the stream ends (or is cut off), with the number of
    events actually sent.
    """

    def lines() -> Iterator[str]:
        count, complete = 0, False
        source = iter_ndjson(events.order_by("id"))
        try:
            for line in source:
                count += 1
                yield line
            complete = True
        finally:
            source.close()  # release the database cursor before writing the event
            audit(count, complete)

    response = StreamingHttpResponse(lines(), content_type=MEDIA_TYPE)
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/audit/events", response=EventPage, openapi_extra={"x-capability": "view_audit"}
)
def list_events(
    request: HttpRequest,
    filters: Query[EventFilters],
    after: int | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """Audit events in chain order (oldest first), filtered, one keyset page at a time."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    rows, nxt = event_page(
        filters.apply(AuditEvent.objects.all()),
        after=after,
        limit=limit,
        newest_first=False,
    )
    record(
        actor=actor, action=actions.AUDIT_EXPORT.name,
        detail={"format": "json", "filters": filters.as_audit(), "after": after,
                "count": len(rows)},
    )  # fmt: skip
    return {"items": rows, "next": nxt}


NDJSON_RESPONSE = {
    "responses": {
        "200": {
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
    request: HttpRequest, filters: Query[EventFilters]
) -> StreamingHttpResponse:
    """The whole trail, or the filtered range, as FHIR R4 AuditEvent NDJSON (streamed)."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    wanted = filters.as_audit()

    def audit(count: int, complete: bool) -> None:
        record(
            actor=actor, action=actions.AUDIT_EXPORT.name,
            outcome=Outcome.SUCCESS if complete else Outcome.FAILURE,
            detail={"format": "fhir-ndjson", "filters": wanted, "count": count,
                    **({} if complete else {"error": "the stream was cut off"})},
        )  # fmt: skip

    return ndjson_export(filters.apply(AuditEvent.objects.all()), audit=audit)
