"""Nightly chart analysis (run by `recordroom worker`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_tasks import task

from recordroom.kernel.actor import Actor

from .engine import analyze_many
from .selection import to_analyze


@task()
def analyze_charts_task(days: int = 60) -> dict[str, Any]:
    """Re-analyse the visits discharged in the last `days` days, those in house, and
    those with deficiencies still open (a rule or a deadline may have changed)."""
    since = timezone.now() - timedelta(days=days)
    totals = analyze_many(actor=Actor(channel="worker"),
                          encounters=to_analyze(since=since))  # fmt: skip
    return {"open": dict(totals)}


@task()
def analyze_visit_task(encounter_id: str) -> int:
    """Analyse one visit whose chart changed over an interface (engine.on_chart_changed);
    how many of its deficiencies are open after it."""
    from recordroom.records.models import Encounter

    from .engine import analyze_encounter

    encounter = Encounter.objects.filter(pk=encounter_id).first()
    if encounter is None:
        return 0
    result = analyze_encounter(actor=Actor(channel="worker"), encounter=encounter)
    return sum(result.open_by_kind.values())
