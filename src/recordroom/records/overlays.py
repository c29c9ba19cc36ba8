"""Overlay signs only the record knows: care after a recorded death."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db.models import F

from recordroom.mpi.overlay import Signal

from .models import Encounter


class CareAfterDeath:
    """A visit that began more than a day after the patient's recorded death:
    either the death or the visit belongs to someone else."""

    kind = "care-after-death"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        rows = Encounter.objects.filter(
            patient__deceased_date__isnull=False,
            admit_at__date__gt=F("patient__deceased_date") + timedelta(days=1),
        )
        if patient_ids is not None:
            rows = rows.filter(patient_id__in=patient_ids)
        found: dict[Any, list[str]] = {}
        deaths: dict[Any, Any] = {}
        for e in rows.values("patient_id", "account_number", "admit_at",
                             "patient__deceased_date"):  # fmt: skip
            deaths[e["patient_id"]] = e["patient__deceased_date"]
            found.setdefault(e["patient_id"], []).append(
                f"{e['account_number'] or 'visit'} on {e['admit_at']:%Y-%m-%d}"
            )
        for pid, visits in found.items():
            yield Signal(pid, self.kind,
                         f"recorded dead on {deaths[pid]}, seen after: {', '.join(visits)}"[:500],
                         {"deceased": str(deaths[pid]), "visits": visits})  # fmt: skip
