"""A chart for the query browser test, in the browser test's data folder: a CDI
specialist (cdi.web), an attending with an account (dr.web), a visit at NORTH with a
progress note and a low hemoglobin. Run as `python -m tests.web.browser_setup_queries`
(prints the visit's id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import django


def main() -> None:
    django.setup()
    from recordroom.mpi.models import Facility
    from recordroom.records.results import ObservationIn, ResultIn, file_result
    from tests import factories
    from tests.release.makers import file_doc
    from tests.web.conftest import PASSWORD

    north = Facility.objects.get(code="NORTH")
    factories.user("cdi.web", "cdi_specialist", facilities=[north], password=PASSWORD)
    doctor = factories.provider(family="Okafor", given="Ngozi")
    doctor.user = factories.user("dr.web", "provider", facilities=[north],
                                 password=PASSWORD)  # fmt: skip
    doctor.save()
    patient = factories.patient(facility=north, family="Lindqvist", given="Maja",
                                mrn="N500500")  # fmt: skip
    visit = factories.encounter(patient=patient, facility=north, account="V500500")
    visit.attending = doctor
    visit.save()
    file_doc(patient=patient, facility=north, title="Progress note", code="11506-3",
             encounter=visit, days_ago=5,
             pages=[["Progress note", "Hemoglobin fell after the hip repair.",
                     "Transfused two units of packed red cells."]])  # fmt: skip
    at = datetime.now(UTC) - timedelta(days=5)
    file_result(actor=factories.SYSTEM, data=ResultIn(
        patient=patient, facility=north, encounter=visit, code="58410-2",
        display="CBC panel", effective_at=at, filler_number="B-1", source="LAB",
        observations=[ObservationIn(code="718-7", display="Hemoglobin",
                                    value_type="NM", value_number=Decimal("6.9"),
                                    units="g/dL", abnormal_flags=["L"],
                                    effective_at=at)]))  # fmt: skip
    print(json.dumps({"visit": str(visit.pk), "patient": str(patient.pk)}))


if __name__ == "__main__":
    main()
