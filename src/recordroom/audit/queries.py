"""Reading the audit trail: filters, keyset pages (chain order or newest first), a
patient's access log, and the FHIR AuditEvent NDJSON stream of an export.

Who may read what is the adapter's to check (capability, the patient's scope), and the
adapter audits the read (audit.view, audit.export, chart.access_log).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from recordroom.kernel import actions
from recordroom.kernel.errors import ValidationFailed

from .fhir import iter_ndjson
from .models import AuditEvent

MAX_PAGE = 1000  # events per page at most
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class EventFilters:
    """Which events: all of them when every field is empty. Times without a zone are
    UTC; `until` is exclusive."""

    action: str = ""
    user: str = ""  # user name
    patient: Any = None  # patient id
    since: datetime | None = None
    until: datetime | None = None

    def as_audit(self) -> dict[str, str]:
        """The filters that were set, as strings, for the event auditing the read."""
        return {k: str(v) for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class Page:
    """One keyset page; `next` is the `after` that fetches the following page, or None
    at the end."""

    items: list[AuditEvent]
    next: int | None


def matching_events(filters: EventFilters) -> QuerySet[AuditEvent]:
    """The events the filters select, unordered.

    Raises:
        ValidationFailed: the action filter names no declared audit action.
    """
    events = AuditEvent.objects.all()
    if filters.action:
        try:
            actions.get(filters.action)
        except KeyError:
            raise ValidationFailed(
                f"unknown audit action {filters.action!r}; e.g. "
                + ", ".join(a.name for a in actions.all_actions()[:5]),
                field="action",
            ) from None
        events = events.filter(action=filters.action)
    if filters.user:
        events = events.filter(username=filters.user)
    if filters.patient:
        events = events.filter(patient_id=str(filters.patient))
    if filters.since:
        events = events.filter(ts__gte=_micros(filters.since))
    if filters.until:
        events = events.filter(ts__lt=_micros(filters.until))
    return events


def event_page(
    *, filters: EventFilters, after: int | None = None, limit: int = 100
) -> Page:
    """Events in chain order (oldest first), filtered; `after` is the last id of the
    page before.

    Raises:
        ValidationFailed: an unknown action filter, or `limit` not 1 to MAX_PAGE.
    """
    return _keyset(matching_events(filters), after=after, limit=limit, newest=False)


def patient_events(
    patient_id: Any, *, facility_ids: list[Any] | None = None
) -> QuerySet[AuditEvent]:
    """Every event about one patient, in chain order (for an export).

    With `facility_ids` (a scoped reader), events about records at other facilities
    are left out; events about the patient as a whole (no facility) stay.
    """
    events = AuditEvent.objects.filter(patient_id=str(patient_id))
    if facility_ids is not None:
        events = events.filter(
            Q(facility_id="") | Q(facility_id__in=[str(f) for f in facility_ids])
        )
    return events.order_by("id")


def patient_access_log(
    *,
    patient_id: Any,
    after: int | None = None,
    limit: int = 100,
    facility_ids: list[Any] | None = None,
) -> Page:
    """Who accessed or changed one patient's record: newest first, keyset paged.

    Raises:
        ValidationFailed: `limit` not 1 to MAX_PAGE.
    """
    events = patient_events(patient_id, facility_ids=facility_ids)
    return _keyset(events, after=after, limit=limit, newest=True)


def stream_ndjson(
    events: QuerySet[AuditEvent], *, on_end: Callable[[int, bool], None]
) -> Iterator[str]:
    """FHIR AuditEvent NDJSON lines of the events in chain order, in bounded memory.

    `on_end(count, complete)` runs once the stream ends or is closed early (the client
    went away), with the number of lines actually sent: the adapter audits the export
    there.
    """
    count, complete = 0, False
    source = iter_ndjson(events.order_by("id"))
    try:
        for line in source:
            count += 1
            yield line
        complete = True
    finally:
        source.close()  # release the database cursor before writing the event
        on_end(count, complete)


def _keyset(
    events: QuerySet[AuditEvent], *, after: int | None, limit: int, newest: bool
) -> Page:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationFailed(
            f"limit {limit} is out of range; ask for 1 to {MAX_PAGE} events",
            field="limit",
        )
    if after is not None:
        events = events.filter(id__lt=after) if newest else events.filter(id__gt=after)
    rows = list(events.order_by("-id" if newest else "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # times without a zone are UTC
    return (moment - _EPOCH) // timedelta(microseconds=1)
