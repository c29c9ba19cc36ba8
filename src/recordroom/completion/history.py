"""The delinquency rate's history (R-RC-7), month by month, and the rate per
facility and service, for the chart-completion dashboard and its API twin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from recordroom.mpi.models import Facility
from recordroom.records.models import EncounterStatus

from .delinquency import (
    MONTHLY,
    Rate,
    _encounters,
    _q,
    delinquency_rate,
    periods,
)
from .models import Deficiency


@dataclass(frozen=True)
class Month:
    start: datetime
    end: datetime
    discharges: int
    delinquent: int  # records delinquent at the month's end
    rate_pct: Decimal | None  # delinquent at the end ÷ the month's discharges × 100


def monthly_history(
    *,
    facility: Facility | None = None,
    service: str = "",
    months: int | None = None,
    as_of: datetime | None = None,
) -> list[Month]:
    """The last `months` complete months, oldest first: each one's discharges, the
    records delinquent at its end, and the rate measured on that one month (the
    Joint Commission's method with a single monthly period)."""
    months = months or settings.COMPLETION_HISTORY_MONTHS
    if not 1 <= months <= 120:
        raise ValueError(f"months {months}: give 1 to 120")
    spans = periods(as_of=as_of or timezone.now(), frequency=MONTHLY, count=months)
    # two queries for the whole history: discharges per month, and the records
    # delinquent at each month's end (as delinquent_records counts them)
    discharges = _encounters(facility, service).aggregate(**{
        f"m{i}": Count("id", filter=Q(discharge_at__gte=start, discharge_at__lt=end))
        for i, (start, end) in enumerate(spans)})  # fmt: skip
    late = _deficiencies(facility, service).filter(
        opened_at__lte=spans[-1][1]).aggregate(**{
        f"m{i}": Count("encounter_id", distinct=True, filter=_delinquent_at(end))
        for i, (_, end) in enumerate(spans)})  # fmt: skip
    out = []
    for i, (start, end) in enumerate(spans):
        n, d = discharges[f"m{i}"], late[f"m{i}"]
        rate = _q(Decimal(d) / n * 100) if n else None
        out.append(Month(start, end, n, d, rate))
    return out


def _deficiencies(facility: Facility | None, service: str) -> QuerySet[Deficiency]:
    qs = Deficiency.objects.filter(encounter__status=EncounterStatus.FINISHED,
                                   encounter__discharge_at__isnull=False)  # fmt: skip
    if facility is not None:
        qs = qs.filter(encounter__facility=facility)
    if service:
        qs = qs.filter(encounter__attending__specialty__iexact=service)
    return qs


def _delinquent_at(at: datetime) -> Q:
    cutoff = at - timedelta(days=settings.COMPLETION_DELINQUENCY_DAYS)
    return (Q(opened_at__lte=at, encounter__discharge_at__lte=cutoff)
            & (Q(closed_at__isnull=True) | Q(closed_at__gt=at)))  # fmt: skip


@dataclass(frozen=True)
class Breakdown:
    facility: Facility
    service: str  # "" for the facility as a whole
    rate: Rate


def services_of(facility: Facility) -> list[str]:
    """The services (attendings' specialties) with discharges at the facility."""
    names = (
        _encounters(facility)
        .exclude(attending__specialty="")
        .values_list("attending__specialty", flat=True)
        .distinct()
    )
    return sorted({n for n in names if n}, key=str.lower)


def rate_breakdown(
    *, facilities: list[Facility], as_of: datetime | None = None, **kwargs: Any
) -> list[Breakdown]:
    """Each facility's rate, then each of its services', by the configured method."""
    as_of = as_of or timezone.now()
    rows = []
    for facility in facilities:
        for service in ["", *services_of(facility)]:
            rate = delinquency_rate(facility=facility, service=service, as_of=as_of,
                                    **kwargs)  # fmt: skip
            rows.append(Breakdown(facility, service, rate))
    return rows
