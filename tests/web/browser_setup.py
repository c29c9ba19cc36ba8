"""Data for the browser test, run in its own process against a fresh data folder:
`python -m tests.web.browser_setup` prints the ids it created as JSON."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from tests import factories

    facility = factories.facility("NORTH")
    south = factories.facility("SOUTH")  # a second facility: registering there links
    factories.user("him.web", "him_specialist", facilities=[facility, south])
    patient = factories.patient(
        facility=facility, family="Núñez", given="José", mrn="N100001"
    )
    encounter = factories.encounter(patient=patient, facility=facility, account="V1001")
    document = factories.document(
        patient=patient, facility=facility, encounter=encounter,
        text="Discharge summary: José Núñez, synthetic test patient",
    )  # fmt: skip
    print(json.dumps({"patient": str(patient.pk), "document": str(document.pk)}))


if __name__ == "__main__":
    main()
