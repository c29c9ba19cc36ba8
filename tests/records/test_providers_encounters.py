from datetime import UTC, datetime, timedelta

import pytest

from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.kernel.npi import npi_problem
from recordroom.mpi.search import PatientQuery
from recordroom.records import services
from recordroom.records.chart import find_patients, get_chart
from tests import factories


def test_npi_check_digit():
    assert npi_problem("1234567893") is None  # the CMS worked example
    assert "check digit" in npi_problem("1234567890")
    assert "10 digits" in npi_problem("12345")
    with pytest.raises(ValidationFailed, match="fails its check digit"):
        services.create_provider(npi="1234567890", family="Doe", given="J")


def test_encounter_account_is_unique_per_facility(patient, facility):
    factories.encounter(patient=patient, facility=facility, account="V1001")
    with pytest.raises(Conflict, match="account V1001 already exists at NORTH"):
        factories.encounter(patient=patient, facility=facility, account="V1001")


def test_discharge_before_admission_is_refused(patient, facility):
    now = datetime.now(UTC)
    with pytest.raises(ValidationFailed, match="is before admission"):
        services.record_encounter(
            actor=factories.SYSTEM,
            patient=patient,
            facility=facility,
            account_number="X1",
            encounter_class="IMP",
            admit_at=now,
            discharge_at=now - timedelta(days=1),
        )


def test_search_by_account_number_and_chart(patient, facility, him):
    enc = factories.encounter(patient=patient, facility=facility, account="V2002")
    factories.document(patient=patient, facility=facility, encounter=enc)
    factories.document(patient=patient, facility=facility, code="11506-3")
    hits = find_patients(user=him, query=PatientQuery(), account="V2002")
    assert [h.patient.pk for h in hits] == [patient.pk]
    chart = get_chart(user=him, patient_id=patient.pk)
    assert [e.account_number for e in chart.encounters] == ["V2002"]
    assert [t for t, _ in chart.documents_by_type()] == [
        "Discharge summary",
        "Progress note",
    ]
