"""Aging of open deficiencies (by days since discharge and since assignment, in the
configured levels) and the medical staff office's suspension list (R-RC-7): the
providers holding records open past COMPLETION_SUSPENSION_DAYS after discharge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from recordroom.kernel.errors import NotFound, PermissionDenied
from recordroom.mpi.models import Facility
from recordroom.records.models import EncounterStatus, Provider

from .models import Deficiency, ProviderLetter, Status


def facility_in_scope(user: Any, code: str) -> Facility | None:
    """The facility a page or route asked for, refused outside the user's scope;
    none asked: every facility for an unscoped user, else their first."""
    scope = user.facility_ids() if user is not None else None
    if code:
        found = Facility.objects.filter(code=code.strip().upper()).first()
        if found is None:
            raise NotFound(f"no facility {code!r}; give a facility's code")
        if scope is not None and found.pk not in scope:
            raise PermissionDenied(f"facility {found.code} is outside your facilities")
        return found
    if scope is None:
        return None
    first = Facility.objects.filter(pk__in=scope).order_by("code").first()
    if first is None:
        raise PermissionDenied("your account has no facility")
    return first


def open_on_discharged(facility: Facility | None) -> QuerySet[Deficiency]:
    qs = Deficiency.objects.filter(status=Status.OPEN,
                                   encounter__status=EncounterStatus.FINISHED,
                                   encounter__discharge_at__isnull=False)  # fmt: skip
    return qs if facility is None else qs.filter(facility=facility)


@dataclass(frozen=True)
class Bucket:
    label: str
    since_discharge: int
    since_assignment: int


def aging_buckets(
    *, facility: Facility | None = None, as_of: datetime | None = None
) -> list[Bucket]:
    """Open deficiencies on discharged records counted by age, in the configured
    levels (e.g. under 15 days, 15 to 29, 30 and more): by days since discharge
    and by days since they were assigned to their provider."""
    as_of = as_of or timezone.now()
    levels = settings.COMPLETION_AGING_LEVELS
    edges = [0, *levels]
    counts: dict[str, Any] = {}
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        for key, field in (("d", "encounter__discharge_at"), ("a", "assigned_at")):
            q = Q(**{f"{field}__lte": as_of - timedelta(days=low)})
            if high is not None:
                q &= Q(**{f"{field}__gt": as_of - timedelta(days=high)})
            counts[f"{key}{i}"] = Count("id", filter=q)
    row = open_on_discharged(facility).aggregate(**counts)
    out = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        label = f"{low} to {high - 1} days" if high is not None else f"{low}+ days"
        out.append(Bucket(label, row[f"d{i}"], row[f"a{i}"]))
    return out


@dataclass
class Suspension:
    provider: Provider
    facility: Facility
    records: int
    deficiencies: int
    oldest_discharge: datetime
    days: int
    last_letter: datetime | None


def suspension_list(
    *, facility: Facility | None = None, as_of: datetime | None = None
) -> list[Suspension]:
    """Providers to suspend, per facility, most records first: open deficiencies on
    records discharged at least COMPLETION_SUSPENSION_DAYS ago and assigned to them
    at least COMPLETION_SUSPENSION_GRACE_DAYS ago."""
    as_of = as_of or timezone.now()
    qs = open_on_discharged(facility).filter(
        provider__isnull=False,
        encounter__discharge_at__lte=as_of
        - timedelta(days=settings.COMPLETION_SUSPENSION_DAYS),
        assigned_at__lte=as_of
        - timedelta(days=settings.COMPLETION_SUSPENSION_GRACE_DAYS),
    )
    rows = list(
        qs.values("provider_id", "facility_id")
        .annotate(n=Count("id"), records=Count("encounter_id", distinct=True),
                  oldest=Min("encounter__discharge_at"))
        .order_by("-records", "oldest", "provider_id")
    )  # fmt: skip
    providers = Provider.objects.in_bulk({r["provider_id"] for r in rows})
    facilities = Facility.objects.in_bulk({r["facility_id"] for r in rows})
    last_letter = {
        (r["provider_id"], r["facility_id"]): r["last"]
        for r in ProviderLetter.objects.filter(provider_id__in=providers)
        .values("provider_id", "facility_id")
        .annotate(last=Max("created_at"))
    }
    return [
        Suspension(providers[r["provider_id"]], facilities[r["facility_id"]],
                   r["records"], r["n"], r["oldest"], (as_of - r["oldest"]).days,
                   last_letter.get((r["provider_id"], r["facility_id"])))
        for r in rows
    ]  # fmt: skip

