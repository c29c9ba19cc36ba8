"""US Core 6.1 demographics and reasons kept on import and returned on read (R-INT-4):
race, ethnicity, birth sex, marital status, language, multiple birth, death;
Encounter.reasonCode and Procedure.reasonReference; shown in the chart."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.procedure import Procedure as FhirProcedure

from recordroom.interop.bulk.importer import import_fhir
from recordroom.mpi.models import Patient
from recordroom.records.models import Condition, Encounter, Procedure
from tests import factories
from tests.interop.conformance import folder
from tests.interop.fhir.test_fhir_api import fhir_for
from tests.interop.fhir.test_fhir_facility import post
from tests.web.conftest import signed_in

RIOJAS = "Alejandro_Riojas_a9fcc685-c7a2-4474-bf25-26c8fe4b48f9.json"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                  "code": "MR"}]}  # fmt: skip
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


@pytest.fixture
def riojas(db, facility):
    user = factories.user("interface", "administrator", all_facilities=True)
    path = folder("synthea-r4") / RIOJAS
    import_fhir(actor=factories.actor(user, channel="cli"), paths=[path],
                source="synthea", facility=facility)  # fmt: skip
    bundle = json.loads(path.read_text())
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    return Patient.objects.get(identifiers__value="a9fcc685-c7a2-4474-bf25-26c8fe4b48f9",
                               identifiers__kind="MR"), bundle, by_url  # fmt: skip


def _us_core(ext: list[dict]) -> dict[str, dict]:
    return {e["url"]: e for e in ext if e["url"].startswith(US_CORE)}


def test_r_int_4_a_synthea_patient_reads_back_with_its_us_core_demographics(
    riojas, him
):
    patient, bundle, _ = riojas
    sent = bundle["entry"][0]["resource"]
    body = fhir_for(him).get(f"Patient/{patient.pk}").json()
    FhirPatient.model_validate(body)
    assert _us_core(body["extension"]) == _us_core(sent["extension"])
    race = _us_core(body["extension"])[US_CORE + "us-core-race"]["extension"]
    assert race[0]["valueCoding"]["code"] == "2054-5"
    for element in ("maritalStatus", "communication", "multipleBirthBoolean",
                    "deceasedDateTime", "birthDate", "gender"):  # fmt: skip
        assert body[element] == sent[element], element
    assert body["deceasedDateTime"] == "2008-12-14T03:11:33+00:00"
    assert body["communication"][0]["language"]["coding"][0]["code"] == "es"


def test_r_int_4_every_synthea_patient_keeps_what_us_core_carries(db, facility, him):
    user = factories.user("interface", "administrator", all_facilities=True)
    import_fhir(actor=factories.actor(user), paths=[folder("synthea-r4")],
                source="synthea", facility=facility)  # fmt: skip
    patients = Patient.objects.all()
    assert patients.count() == 19
    assert all(p.race and p.ethnicity and p.birth_sex in ("F", "M")
               and p.marital_status and p.communication
               and p.multiple_birth is not None for p in patients)  # fmt: skip
    assert patients.filter(deceased=True, deceased_at__isnull=False).count() == 3


def test_r_int_4_encounter_reasons_and_procedure_reason_references_round_trip(
    riojas, him
):
    patient, _, by_url = riojas
    api = fhir_for(him)
    with_reason = Encounter.objects.filter(patient=patient).exclude(reasons=[])
    assert with_reason.count() == 3
    visit = with_reason.first()
    body = api.get(f"Encounter/{visit.pk}").json()
    FhirEncounter.model_validate(body)
    sent = [r for r in by_url.values() if r["resourceType"] == "Encounter"
            and r.get("reasonCode") == body["reasonCode"]]  # fmt: skip
    assert len(sent) >= 1
    procedures = Procedure.objects.filter(patient=patient).exclude(reason_references=[])
    assert procedures.count() == 2
    for proc in procedures:
        read = api.get(f"Procedure/{proc.pk}").json()
        FhirProcedure.model_validate(read)
        ref = read["reasonReference"][0]["reference"]
        assert ref.startswith("Condition/")
        # Our condition is the one the sender's reference named (same code, onset).
        ours = Condition.objects.get(pk=ref.split("/")[1], patient=patient)
        original = next(r for r in by_url.values() if r["resourceType"] == "Procedure"
                        and r["code"]["coding"][0]["code"] == proc.code
                        and r.get("reasonReference"))  # fmt: skip
        theirs = by_url[original["reasonReference"][0]["reference"]]
        assert ours.code == theirs["code"]["coding"][0]["code"]
        assert api.get(ref).status_code == 200


def _patient(facility, **extra) -> dict:
    return {"resourceType": "Patient", "gender": "female", "birthDate": "2020-05-01",
            "name": [{"use": "official", "family": "Mensah", "given": ["Ama"]}],
            "identifier": [{"type": MR, "system": facility.mrn_system,
                            "value": "T2"}], **extra}  # fmt: skip


def test_r_int_4_birth_order_and_deceased_boolean_round_trip(him, facility):
    api = fhir_for(him)
    resp = post(api, "Patient", _patient(facility, multipleBirthInteger=2,
                                          deceasedBoolean=True))  # fmt: skip
    assert resp.status_code == 201, resp.content
    body = api.get(f"Patient/{resp.json()['id']}").json()
    assert body["multipleBirthInteger"] == 2
    assert body["deceasedBoolean"] is True and "deceasedDateTime" not in body
    row = Patient.objects.get()
    assert (row.multiple_birth, row.birth_order, row.deceased) == (True, 2, True)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"extension": [{"url": US_CORE + "us-core-birthsex", "valueCode": "X"}]},
         "'X' is not a US Core birth sex"),
        ({"extension": [{"url": US_CORE + "us-core-race", "extension": [
            {"url": "ombCategory", "valueCoding": {"system": "urn:example",
                                                    "code": "W"}}]}]},
         "urn:example|W is not a code of urn:oid:2.16.840.1.113883.6.238"),
        ({"multipleBirthInteger": "two"}, "'two' is not a birth order"),
        ({"communication": [{"preferred": True}]}, "a communication needs its language"),
    ],
)  # fmt: skip
def test_r_int_4_demographics_we_cannot_keep_are_refused_by_name(
    him, facility, extra, words
):
    resp = post(fhir_for(him), "Patient", _patient(facility, **extra))
    assert resp.status_code == 400
    assert words in resp.json()["issue"][0]["diagnostics"]
    assert not Patient.objects.exists()


def test_the_chart_shows_the_us_core_demographics(riojas, him):
    patient, _, _ = riojas
    page = signed_in(him).get(f"/patients/{patient.pk}").content.decode()
    for words in ("<dt>Race</dt><dd>Black or African American</dd>",
                  "<dt>Ethnicity</dt><dd>Not Hispanic or Latino</dd>",
                  "<dt>Birth sex</dt><dd>Male</dd>",
                  "<dt>Marital status</dt><dd>Married</dd>",
                  "<dt>Language</dt><dd>Spanish</dd>",
                  "<dt>Multiple birth</dt><dd>no</dd>",
                  "<dt>Deceased</dt><dd>2008-12-14 03:11 UTC</dd>"):  # fmt: skip
        assert words in page, words
