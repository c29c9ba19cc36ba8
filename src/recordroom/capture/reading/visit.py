"""Which visit a document belongs to: the one its cover sheet or account number names,
else the patient's encounter at the facility whose admission covers the date of
service."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from recordroom.capture.types import Value
from recordroom.mpi.models import Facility
from recordroom.records.models import Encounter

from .match import mrn_variants


def service_date(values: list[Value]) -> date | None:
    """The date of service read most surely (a labelled one before a bare 'Date:')."""
    best = max((v for v in values if v.kind == "service_date"),
               key=lambda v: v.confidence, default=None)  # fmt: skip
    return date.fromisoformat(best.normalised) if best else None


def guess_visit(
    patient_id: Any, values: list[Value], *, facility: Facility | None, day: date | None
) -> tuple[Any, list[str]]:
    """(encounter id or None, evidence)."""
    if patient_id is None:
        return None, []
    mine = Encounter.objects.filter(patient_id=patient_id).exclude(
        status__in=["cancelled", "entered-in-error"]
    )
    for v in values:
        if v.kind == "account" and v.source == "barcode":
            enc = mine.filter(pk=v.normalised.removeprefix("id:")).first()
            if enc is not None:
                return enc.pk, ["the cover sheet names this visit"]
    for v in sorted(values, key=lambda v: -v.confidence):
        if v.kind == "account" and v.source == "text":
            enc = mine.filter(
                account_number__in=mrn_variants(v.normalised, None)
            ).first()
            if enc is not None:
                return enc.pk, [f"account {enc.account_number} is this visit's"]
    if day is None:
        return None, []
    if facility is not None:
        mine = mine.filter(facility=facility)
    covering = []
    for enc in mine.exclude(admit_at=None).select_related("facility"):
        zone = ZoneInfo(enc.facility.timezone)
        start = timezone.localtime(enc.admit_at, zone).date()
        end = timezone.localtime(enc.discharge_at, zone).date() if enc.discharge_at else (
            date.max if enc.status == "in-progress" else start)  # fmt: skip
        if start <= day <= end:
            covering.append((abs((day - start).days), enc))
    if not covering:
        return None, [f"no visit of this patient covers {day}"]
    covering.sort(key=lambda t: t[0])
    enc = covering[0][1]
    extra = " (the nearest of several)" if len(covering) > 1 else ""
    return enc.pk, [
        f"visit {enc.account_number} covers the date of service {day}{extra}"
    ]
