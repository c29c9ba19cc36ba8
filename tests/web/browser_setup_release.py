"""More data for the release desk's browser test, added to the browser test's data
folder: two ROI specialists at NORTH and a patient whose discharge summary has an
SSN on page 1 and billing notes on page 3. Run as `python -m
tests.web.browser_setup_release` (prints the patient's id)."""

from __future__ import annotations

import json

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from tests import factories
    from tests.release.makers import file_doc

    north = Facility.objects.get(code="NORTH")
    for username in ("roi.web", "roi2.web"):
        factories.user(username, "roi_specialist", facilities=[north])
    patient = factories.patient(facility=north, family="Quintero", given="Lucía",
                                mrn="N300300")  # fmt: skip
    file_doc(patient=patient, facility=north, title="Discharge summary",
             pages=[["Discharge summary: Lucia Quintero", "SSN 123-45-6789 on file"],
                    ["Follow-up in two weeks"], ["Billing notes: account 5551"]])  # fmt: skip
    print(json.dumps({"patient": str(patient.pk)}))


if __name__ == "__main__":
    main()
