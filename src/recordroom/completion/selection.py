"""Which visits an analysis run looks at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from recordroom.records.models import Encounter, EncounterStatus

from .models import Deficiency, Status


def _query(since: datetime | None, facility: Any) -> QuerySet[Encounter]:
    """Visits discharged since `since` (every one without it), those in house, and
    those still holding open deficiencies."""
    still_open = Deficiency.objects.filter(encounter=OuterRef("pk"), status=Status.OPEN)
    wanted: Q = Q(status=EncounterStatus.IN_PROGRESS) | Q(Exists(still_open))
    wanted |= (
        Q(status=EncounterStatus.FINISHED, discharge_at__gte=since)
        if since is not None
        else Q(status=EncounterStatus.FINISHED)
    )
    qs = Encounter.objects.filter(wanted)
    return qs.filter(facility=facility) if facility is not None else qs


def to_analyze(
    *, since: datetime | None = None, facility: Any = None
) -> Iterator[Encounter]:
    """The visits to analyse, oldest discharge first, read in chunks."""
    return (
        _query(since, facility).order_by("discharge_at", "id").iterator(chunk_size=500)
    )


def count_to_analyze(*, since: datetime | None = None, facility: Any = None) -> int:
    return _query(since, facility).count()
