"""Results over FHIR: DiagnosticReport and Observation read and searched (patient,
subject, code, date, category, status), the current version only, in
Patient/$everything and in bulk $export; every resource valid R4."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from recordroom.interop.hl7v2.services import handle
from recordroom.mpi.models import Patient
from recordroom.records.models import ResultReport
from tests import factories
from tests.interop.bulk.test_export import _export
from tests.interop.fhir.test_fhir_api import fhir_for
from tests.interop.hl7v2.messages import adt, pv1
from tests.interop.hl7v2.test_oru import CBC, bmp, obr, oru

RAD = (
    obr(3, "", "RAD-2001^RADNET", "36643-5^XR Chest 2 Views^LN", "F", section="RAD",
        when="20250105080000"),
    "OBX|1|TX|&GDT^Report Body||Lungs clear.||||||F",
    "OBX|2|TX|&IMP^Radiology Impression||No acute disease.||||||F",
)  # fmt: skip


@pytest.fixture
def resulted(facility, him):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    assert handle(oru("R1", bmp(), CBC, RAD)).code == "AA"
    return Patient.objects.get()


def entries(resp) -> list[dict]:
    assert resp.status_code == 200, resp.content
    body = resp.json()
    get_fhir_model_class("Bundle").model_validate(body)
    return [e["resource"] for e in body["entry"] if e["search"]["mode"] == "match"]


def valid(resource: dict) -> dict:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return resource


def test_diagnostic_report_read_names_its_values(resulted, him):
    api = fhir_for(him)
    report = ResultReport.objects.get(filler_number="LAB555")
    body = valid(api.get(f"DiagnosticReport/{report.pk}").json())
    assert body["status"] == "final" and body["meta"]["versionId"] == "1"
    assert body["code"]["coding"][0] == {"system": "http://loinc.org",
                                         "code": "24321-2",
                                         "display": "Basic metabolic panel"}  # fmt: skip
    assert body["code"]["coding"][1]["code"] == "80048"  # the lab's own code too
    assert body["category"][0]["coding"][0]["code"] == "LAB"
    assert body["subject"] == {"reference": f"Patient/{resulted.pk}"}
    assert body["encounter"] == {"reference": f"Encounter/{report.encounter_id}"}
    assert body["effectiveDateTime"] == "2025-01-04T11:30:00+00:00"
    assert {i["value"] for i in body["identifier"]} == {"ORD1001", "LAB555"}
    assert len(body["result"]) == 3
    first = valid(api.get(body["result"][0]["reference"]).json())
    assert first["valueQuantity"] == {"value": 182, "unit": "mg/dL",
                                      "system": "http://unitsofmeasure.org",
                                      "code": "mg/dL"}  # fmt: skip
    assert first["interpretation"][0]["coding"][0]["code"] == "H"
    assert first["referenceRange"] == [{"text": "70-99"}]
    assert first["performer"] == [{"display": "Beaker Core Lab"}]
    assert first["category"][0]["coding"][0]["code"] == "laboratory"


def test_searches_by_patient_subject_code_date_category_and_status(resulted, him):
    api = fhir_for(him)
    pid = str(resulted.pk)
    reports = entries(api.get("DiagnosticReport", patient=pid))
    assert sorted(valid(r)["code"]["coding"][0]["code"] for r in reports) == [
        "24321-2", "36643-5", "58410-2"]  # fmt: skip
    assert len(entries(api.get("DiagnosticReport", subject=f"Patient/{pid}"))) == 3
    rad = entries(api.get("DiagnosticReport", patient=pid, category="RAD"))
    assert [r["conclusion"] for r in rad] == ["No acute disease."]
    assert len(entries(api.get("DiagnosticReport", date="ge2025-01-05"))) == 1
    assert len(entries(api.get("DiagnosticReport", status="preliminary"))) == 0
    glucose = entries(api.get("Observation", patient=pid,
                              code="http://loinc.org|2345-7"))  # fmt: skip
    assert [valid(o)["valueQuantity"]["value"] for o in glucose] == [182]
    observations = entries(api.get("Observation", subject=pid, _count="50"))
    assert len(observations) == 7
    for o in observations:
        valid(o)
    imaging = entries(api.get("Observation", patient=pid, category="imaging"))
    assert sorted(o["valueString"] for o in imaging) == ["Lungs clear.",
                                                         "No acute disease."]  # fmt: skip
    labs = entries(api.get("Observation", patient=pid, category="laboratory"))
    assert len(labs) == 5
    assert entries(api.get("Observation", date="2025-01-05"))[0]["valueString"] in (
        "Lungs clear.", "No acute disease.")  # fmt: skip
    statement = api.get("metadata").json()
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {p["name"] for p in served["Observation"]["searchParam"]} >= {
        "patient", "subject", "code", "date", "category", "status"}  # fmt: skip
    assert [i["code"] for i in served["DiagnosticReport"]["interaction"]] == [
        "read", "search-type", "vread", "history-instance"]  # fmt: skip


def test_a_corrected_result_is_served_as_its_current_version_only(resulted, him):
    api = fhir_for(him)
    assert handle(oru("R2", bmp(status="C", obx="C", glucose="128"))).code == "AA"
    report = ResultReport.objects.get(filler_number="LAB555")
    body = valid(api.get(f"DiagnosticReport/{report.pk}").json())
    assert (body["status"], body["meta"]["versionId"]) == ("corrected", "2")
    glucose = entries(api.get("Observation", code="2345-7"))
    assert [(o["valueQuantity"]["value"], o["status"]) for o in glucose] == [
        (128, "corrected")]  # fmt: skip
    assert [r["reference"] for r in body["result"]][
        0
    ] == f"Observation/{glucose[0]['id']}"


def test_sn_values_map_to_quantity_ratio_and_range(facility, him):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    group = (
        obr(1, "", "SN1^LAB", "SERO^Serology^L", "F", section="SR"),
        "OBX|1|SN|5196-1^HBsAg^LN||<^0.5|IU/mL^^UCUM|<0.5|N|||F",
        "OBX|2|SN|5334-8^Rubella IgG titer^LN||^1^:^128||<1:8|A|||F",
        "OBX|3|SN|5811-5^Casts^LN||^10^-^20|/[HPF]^^UCUM|0-5|H|||F",
        "OBX|4|CWE|5195-3^HBsAg^LN||260385009^Negative^SCT||||||F",
    )
    assert handle(oru("S1", group)).code == "AA"
    found = {o["code"]["coding"][0]["code"]: valid(o)
             for o in entries(fhir_for(him).get("Observation"))}  # fmt: skip
    assert found["5196-1"]["valueQuantity"] == {
        "value": 0.5, "comparator": "<", "unit": "IU/mL",
        "system": "http://unitsofmeasure.org", "code": "IU/mL"}  # fmt: skip
    assert found["5334-8"]["valueRatio"] == {"numerator": {"value": 1},
                                             "denominator": {"value": 128}}  # fmt: skip
    assert found["5811-5"]["valueRange"]["low"]["value"] == 10
    assert found["5811-5"]["valueRange"]["high"]["code"] == "/[HPF]"
    assert found["5195-3"]["valueCodeableConcept"]["coding"] == [{
        "system": "http://snomed.info/sct", "code": "260385009",
        "display": "Negative"}]  # fmt: skip


def test_results_are_in_everything_and_scoped_to_the_readers_facilities(
    resulted, him, other_facility
):
    body = fhir_for(him).get(f"Patient/{resulted.pk}/$everything").json()
    get_fhir_model_class("Bundle").model_validate(body)
    kinds = [e["resource"]["resourceType"] for e in body["entry"]]
    assert kinds.count("DiagnosticReport") == 3 and kinds.count("Observation") == 7
    stranger = factories.user("south1", "him_specialist", facilities=[other_facility])
    assert entries(fhir_for(stranger).get("Observation")) == []
    report = ResultReport.objects.first()
    assert fhir_for(stranger).get(f"DiagnosticReport/{report.pk}").status_code == 404


def test_bulk_export_writes_reports_and_observations(resulted, him):
    files = _export(fhir_for(him), "Patient/$export")
    assert files["DiagnosticReport"].count("\n") == 3
    assert files["Observation"].count("\n") == 7
    for rtype in ("DiagnosticReport", "Observation"):
        for line in files[rtype].splitlines():
            valid(json.loads(line))
    assert '"value":6.9' in files["Observation"]


def test_a_result_with_a_label_the_reader_lacks_is_refused_by_name(resulted, facility):
    ResultReport.objects.filter(filler_number="LAB555").update(sensitivity=["STD"])
    report = ResultReport.objects.get(filler_number="LAB555")
    reader = fhir_for(factories.user("him7", "him_specialist", facilities=[facility]))
    refused = reader.get(f"DiagnosticReport/{report.pk}")
    assert refused.status_code == 403
    assert "Sexually transmitted disease" in refused.json()["issue"][0]["diagnostics"]
    value = report.observations.first()
    assert reader.get(f"Observation/{value.pk}").status_code == 403
    listed = entries(reader.get("DiagnosticReport", patient=str(resulted.pk)))
    assert len(listed) == 2 and str(report.pk) not in {r["id"] for r in listed}
    assert len(entries(reader.get("Observation", patient=str(resulted.pk)))) == 4
