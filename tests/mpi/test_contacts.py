"""Address, phone and SSN replacement keeps history (ended rows, never overwritten)."""

from __future__ import annotations

from datetime import date

from recordroom.mpi.contacts import replace_telecoms
from tests import factories


def test_only_the_uses_a_sender_covers_are_ended(patient):
    patient.telecoms.create(system="phone", use="work", value="217-555-0999")
    ended, added = replace_telecoms(
        actor=factories.SYSTEM,
        patient=patient,
        telecoms=[{"system": "phone", "use": "home", "value": "(217) 555-0123"}],
        uses={"home", "mobile"},
    )
    assert (ended, added) == (1, 1)
    current = sorted(patient.telecoms.filter(period_end__isnull=True).values_list(
        "use", "value"
    ))  # fmt: skip
    assert current == [("home", "(217) 555-0123"), ("work", "217-555-0999")]
    old = patient.telecoms.get(period_end__isnull=False)
    assert (old.value, old.period_end) == ("217-555-0100", date.today())
    # the same number written another way is no change
    same = [{"system": "phone", "use": "home", "value": "217.555.0123"}]
    assert replace_telecoms(
        actor=factories.SYSTEM, patient=patient, telecoms=same, uses={"home"}
    ) == (0, 0)
