"""Data for the chart-completion browser test, added to the browser test's data
folder: Dr Lena Late (cardiology) with two records discharged 40 and 50 days ago, each
with an open deficiency. Run as `python -m tests.web.browser_setup_completion`."""

from __future__ import annotations

import json
from datetime import timedelta

import django


def main() -> None:
    django.setup()
    from django.utils import timezone

    from recordroom.completion import services
    from recordroom.completion.models import Deficiency, DeficiencyRule
    from recordroom.mpi.models import Facility
    from recordroom.records import services as records
    from tests import factories

    DeficiencyRule.objects.update(active=False)  # only the deficiencies made here
    north = Facility.objects.get(code="NORTH")
    late = factories.provider("Late", "Lena")
    late.specialty = "Cardiology"
    late.save()
    patient = factories.patient(facility=north, family="Okafor", given="Ada",
                                mrn="N700700")  # fmt: skip
    now = timezone.now()
    for days in (40, 50):
        enc = records.record_encounter(
            actor=factories.SYSTEM, patient=patient, facility=north,
            account_number=f"D{days:06d}", encounter_class="IMP",
            admit_at=now - timedelta(days=days + 3),
            discharge_at=now - timedelta(days=days), attending=late)  # fmt: skip
        d = services.add_deficiency(actor=factories.SYSTEM, encounter=enc,
                                    kind="signature", provider=late,
                                    description="Signature: discharge summary")  # fmt: skip
        at = now - timedelta(days=days - 1)
        Deficiency.objects.filter(pk=d.pk).update(opened_at=at, assigned_at=at)
    print(json.dumps({"provider": str(late.pk)}))


if __name__ == "__main__":
    main()
