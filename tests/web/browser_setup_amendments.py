"""A chart for the amendments desk's browser test, in the browser test's data
folder: a patient at NORTH with a progress note. Run as `python -m
tests.web.browser_setup_amendments` (prints the patient's id)."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from tests import factories
    from tests.release.makers import file_doc

    north = Facility.objects.get(code="NORTH")
    patient = factories.patient(facility=north, family="Bergström", given="Ingrid",
                                mrn="N400400")  # fmt: skip
    file_doc(patient=patient, facility=north, title="Progress note", code="11506-3",
             pages=[["Progress note: Ingrid Bergstrom", "Smokes one pack a day."]])  # fmt: skip
    print(json.dumps({"patient": str(patient.pk)}))


if __name__ == "__main__":
    main()
