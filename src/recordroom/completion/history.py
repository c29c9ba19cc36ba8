"""The delinquency rate's history (R-RC-7), month by month, and the rate per
facility and service, for the chart-completion dashboard and its API twin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from recordroom.mpi.models import Facility

from .delinquency import (
    MONTHLY,
    Rate,
    _encounters,
    _q,
    delinquency_rate,
    delinquent_records,
    periods,
)


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
    encounters = _encounters(facility, service)
    out = []
    for start, end in spans:
        discharges = encounters.filter(discharge_at__gte=start,
                                       discharge_at__lt=end).count()  # fmt: skip
        late = delinquent_records(at=end, facility=facility, service=service).count()
        rate = _q(Decimal(late) / discharges * 100) if discharges else None
        out.append(Month(start, end, discharges, late, rate))
    return out


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
