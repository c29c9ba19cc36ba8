"""The release-of-information desk's measures for a manager, over the user's
facilities: open requests by status and age, turnaround, overdue, releases by
requester type and revenue, each from one set-based query."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Case, CharField, Count, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from recordroom.kernel import clock
from recordroom.mpi.zones import user_zone

from .accounting import start_of, years_before
from .models import OPEN_STATUSES, Payment, ReleaseRequest, Status

TURNAROUND_DAYS = 90
# (label, youngest age in days): a request received `age` days ago
AGE_BUCKETS = (
    ("0-10 days", 0),
    ("11-20 days", 11),
    ("21-30 days", 21),
    ("31-60 days", 31),
    ("over 60 days", 61),
)


@dataclass
class Measures:
    today: date
    open_by_status: dict[str, dict[str, int]] = field(default_factory=dict)
    open_total: int = 0
    overdue: int = 0
    released: int = 0  # in the last 90 days
    median_days: float | None = None
    p90_days: float | None = None
    releases_by_requester_type: dict[str, int] = field(default_factory=dict)
    revenue_month_cents: int = 0
    revenue_12_months_cents: int = 0
    buckets: tuple[str, ...] = tuple(label for label, _ in AGE_BUCKETS)


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL percentile_cont)."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * p
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _scoped(user: Any) -> QuerySet[ReleaseRequest]:
    qs = ReleaseRequest.objects.all()
    scope = user.facility_ids() if user is not None else None
    return qs if scope is None else qs.filter(facility_id__in=scope)


def measures(user: Any, *, today: date | None = None) -> Measures:
    """The desk's measures at the user's facilities as of `today` (default today):
    turnaround is received to released, over requests released in the last 90
    days; revenue is payments received this month and in the last twelve."""
    zone = user_zone(user)
    today = today or clock.today(zone)
    m = Measures(today=today)
    requests = _scoped(user)
    _open(m, requests, today)
    since = start_of(today - timedelta(days=TURNAROUND_DAYS), zone)
    released = requests.filter(status=Status.RELEASED, closed_at__gte=since)
    days = [
        float((clock.local(closed, fac).date() - received).days)  # type: ignore[union-attr]
        for received, closed, fac in released.values_list(
            "received_on", "closed_at", "facility__timezone"
        )
        if closed is not None
    ]
    m.released, m.median_days, m.p90_days = (
        len(days),
        percentile(days, 0.5),
        percentile(days, 0.9),
    )
    m.releases_by_requester_type = dict(
        released.values_list("requester_type")
        .annotate(n=Count("pk"))
        .order_by("-n", "requester_type")
    )
    _revenue(m, user, today, zone)
    return m


def _open(m: Measures, requests: QuerySet[ReleaseRequest], today: date) -> None:
    whens = [
        When(received_on__gt=today - timedelta(days=young), then=Value(prev))
        for (prev, _), (_, young) in zip(AGE_BUCKETS, AGE_BUCKETS[1:], strict=False)
    ]
    bucket = Case(*whens, default=Value(AGE_BUCKETS[-1][0]), output_field=CharField())
    rows = (
        requests.filter(status__in=OPEN_STATUSES)
        .annotate(bucket=bucket, last_day=Coalesce("extended_to", "due_on"))
        .values("status", "bucket")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(last_day__lt=today)))
        .order_by()
    )
    for row in rows:
        by_age = m.open_by_status.setdefault(row["status"], dict.fromkeys(m.buckets, 0))
        by_age[row["bucket"]] = row["n"]
        m.open_total += row["n"]
        m.overdue += row["late"]


def _revenue(m: Measures, user: Any, today: date, zone: str) -> None:
    payments = Payment.objects.all()
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        payments = payments.filter(invoice__request__facility_id__in=scope)
    month = start_of(today.replace(day=1), zone)
    year = start_of(years_before(today, 1), zone)
    sums = payments.filter(received_at__gte=year).aggregate(
        month=Sum("amount_cents", filter=Q(received_at__gte=month)),
        year=Sum("amount_cents"),
    )
    m.revenue_month_cents = sums["month"] or 0
    m.revenue_12_months_cents = sums["year"] or 0
