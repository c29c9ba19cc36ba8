"""Provider inboxes as a demo finds them: the charts attended by the demo's provider
accounts (the first hospitalists of the roster) are analysed, so each signs in to
deficiencies of their own: notes to sign, discharge summaries and H&Ps missing.
Deterministic: the same charts for the same seed."""

from __future__ import annotations

from recordroom.completion.engine import analyze_many
from recordroom.completion.models import Deficiency, Status
from recordroom.kernel.actor import Actor
from recordroom.records.models import Encounter, EncounterStatus

from .places import roster

# demo-provider, demo-provider-2 and demo-provider-3 are roster()[0], [1] and [2]
INBOX_PROVIDERS = 3


def seed_provider_inboxes(*, actor: Actor) -> int:
    """Analyse the discharged charts of the demo providers; their open deficiencies."""
    npis = [p.npi for p in roster()[:INBOX_PROVIDERS]]
    charts = Encounter.objects.filter(
        attending__npi__in=npis, status=EncounterStatus.FINISHED,
        discharge_at__isnull=False,
    ).order_by("discharge_at", "id")  # fmt: skip
    analyze_many(actor=actor, encounters=charts.iterator(chunk_size=500))
    return Deficiency.objects.filter(provider__npi__in=npis, status=Status.OPEN).count()
