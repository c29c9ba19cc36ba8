"""Aging and delinquency (R-RC-7): a discharged record still deficient past
COMPLETION_DELINQUENCY_DAYS is delinquent; the rate by the Joint Commission's
historical method (average delinquent records over the last measurement counts ÷
average monthly discharges, against a threshold of 50 %) or the textbook one
(delinquent ÷ discharges of the period × 100)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from recordroom.records.models import Encounter, EncounterStatus, Provider

from .models import Deficiency, Status

TJC, TEXTBOOK = "tjc", "textbook"
QUARTERLY, MONTHLY = "quarterly", "monthly"
METHODS = (TJC, TEXTBOOK)
FREQUENCIES = (QUARTERLY, MONTHLY)


@dataclass(frozen=True)
class Aging:
    days_since_discharge: int | None
    days_since_assignment: int
    level: int  # 0 below the first level, 1 past it, 2 past the second, ...


def aging(deficiency: Deficiency, *, now: datetime | None = None) -> Aging:
    now = now or timezone.now()
    discharge = deficiency.encounter.discharge_at
    since = (now - discharge).days if discharge is not None else None
    level = sum(1 for days in settings.COMPLETION_AGING_LEVELS
                if since is not None and since >= days)  # fmt: skip
    return Aging(since, (now - deficiency.assigned_at).days, level)


def _encounters(facility: Any = None, service: str = "") -> QuerySet[Encounter]:
    qs = Encounter.objects.filter(status=EncounterStatus.FINISHED,
                                  discharge_at__isnull=False)  # fmt: skip
    if facility is not None:
        qs = qs.filter(facility=facility)
    if service:
        qs = qs.filter(attending__specialty__iexact=service)
    return qs


def _deficient_at(at: datetime) -> Q:
    """Deficiencies open at `at`: opened by then, not closed, waived or refused yet."""
    return Q(deficiencies__opened_at__lte=at) & (
        Q(deficiencies__closed_at__isnull=True) | Q(deficiencies__closed_at__gt=at)
    )


def delinquent_records(
    *, at: datetime, facility: Any = None, service: str = ""
) -> QuerySet[Encounter]:
    """Records delinquent at `at`: discharged more than the policy's days before it
    and holding a deficiency open at that moment."""
    cutoff = at - timedelta(days=settings.COMPLETION_DELINQUENCY_DAYS)
    return (
        _encounters(facility, service)
        .filter(discharge_at__lte=cutoff)
        .filter(_deficient_at(at))
        .distinct()
    )


def _month_start(at: datetime, back: int = 0) -> datetime:
    months = at.year * 12 + at.month - 1 - back
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=UTC)


def periods(
    *, as_of: datetime, frequency: str, count: int
) -> list[tuple[datetime, datetime]]:
    """The last `count` complete periods before `as_of`, oldest first, as [start, end)."""
    step = 3 if frequency == QUARTERLY else 1
    current = _month_start(as_of)
    if frequency == QUARTERLY:
        current = _month_start(as_of, (as_of.month - 1) % 3)
    ends = [_month_start(current, step * i) for i in range(count)]
    return sorted((_month_start(end, step), end) for end in ends)


@dataclass
class Period:
    start: datetime
    end: datetime
    delinquent: int
    discharges: int


@dataclass
class Rate:
    method: str
    frequency: str
    periods: list[Period]
    average_delinquent: Decimal
    average_monthly_discharges: Decimal
    rate_pct: Decimal | None
    threshold_pct: Decimal
    over_threshold: bool
    notes: list[str] = field(default_factory=list)


def _q(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def delinquency_rate(
    *,
    facility: Any = None,
    service: str = "",
    as_of: datetime | None = None,
    method: str = "",
    frequency: str = "",
    count: int | None = None,
) -> Rate:
    """The delinquency rate at `as_of` (default now), by the configured method."""
    method = method or settings.COMPLETION_RATE_METHOD
    frequency = frequency or settings.COMPLETION_MEASURE_FREQUENCY
    count = count or settings.COMPLETION_MEASURE_PERIODS
    if method not in METHODS or frequency not in FREQUENCIES:
        raise ValueError(f"method {method!r} / frequency {frequency!r}")
    as_of = as_of or timezone.now()
    spans = periods(as_of=as_of, frequency=frequency,
                    count=count if method == TJC else 1)  # fmt: skip
    encounters = _encounters(facility, service)
    rows = [
        Period(start, end,
               delinquent_records(at=end, facility=facility, service=service).count(),
               encounters.filter(discharge_at__gte=start, discharge_at__lt=end).count())
        for start, end in spans
    ]  # fmt: skip
    months = Decimal(len(rows) * (3 if frequency == QUARTERLY else 1))
    average = Decimal(sum(r.delinquent for r in rows)) / len(rows)
    amd = Decimal(sum(r.discharges for r in rows)) / months
    threshold = _q(Decimal(str(settings.COMPLETION_THRESHOLD_PCT)))
    notes = []
    if method == TJC:
        rate = average / amd * 100 if amd else None
    else:
        last = rows[-1]
        rate = (
            Decimal(last.delinquent) / last.discharges * 100
            if last.discharges
            else None
        )
    if rate is None:
        notes.append("no discharges in the measured periods")
    return Rate(method, frequency, rows, _q(average), _q(amd),
                _q(rate) if rate is not None else None, threshold,
                rate is not None and rate > threshold, notes)  # fmt: skip


@dataclass
class DelinquentProvider:
    provider: Provider
    deficiencies: int
    records: int
    oldest_discharge: datetime


def delinquent_providers(
    *, facility: Any = None, service: str = "", as_of: datetime | None = None
) -> list[DelinquentProvider]:
    """Providers with open deficiencies on delinquent records, most records first
    (the medical staff office's suspension list starts here)."""
    as_of = as_of or timezone.now()
    cutoff = as_of - timedelta(days=settings.COMPLETION_DELINQUENCY_DAYS)
    qs = Deficiency.objects.filter(status=Status.OPEN, provider__isnull=False,
                                   encounter__status=EncounterStatus.FINISHED,
                                   encounter__discharge_at__lte=cutoff)  # fmt: skip
    if facility is not None:
        qs = qs.filter(facility=facility)
    if service:
        qs = qs.filter(encounter__attending__specialty__iexact=service)
    rows = (
        qs.values("provider_id")
        .annotate(n=Count("id"), records=Count("encounter_id", distinct=True),
                  oldest=Min("encounter__discharge_at"))
        .order_by("-records", "oldest")
    )  # fmt: skip
    providers = Provider.objects.in_bulk([r["provider_id"] for r in rows])
    return [DelinquentProvider(providers[r["provider_id"]], r["n"], r["records"],
                               r["oldest"]) for r in rows]  # fmt: skip
