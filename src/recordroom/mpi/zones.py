"""Whose calendar a date is on: the patient's facility, or the user's facility for
work lists and forms not yet tied to a patient (kernel.clock does the counting)."""

from __future__ import annotations

from typing import Any

from recordroom.kernel import clock

from .models import Facility, Patient


def user_facility(user: Any) -> Facility | None:
    """The user's home facility: the first of their facilities by code, or, for a
    user of every facility, the only facility there is (None when there are
    several)."""
    if user is not None and getattr(user, "is_authenticated", False):
        mine = Facility.objects.filter(members=user).order_by("code").first()
        if mine is not None:
            return mine
    zones = list(Facility.objects.order_by("code")[:2])
    return zones[0] if len(zones) == 1 else None


def user_zone(user: Any) -> str:
    """The zone name the user's work lists and new forms count in: their home
    facility's; for a user of every facility, the zone all facilities share, else
    the fallback (UTC)."""
    facility = user_facility(user)
    if facility is not None:
        return clock.zone_name(facility)
    names = set(Facility.objects.values_list("timezone", flat=True).distinct()[:2])
    return clock.zone_name(names.pop() if len(names) == 1 else None)


def patient_facility(patient: Patient, user: Any = None) -> Facility | None:
    """The facility of the patient's record: the facility of their MRN (in the
    user's scope when a user is given), the first by code."""
    qs = Facility.objects.filter(patientidentifier__patient=patient).order_by("code")
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        qs = qs.filter(pk__in=scope)
    return qs.first()
