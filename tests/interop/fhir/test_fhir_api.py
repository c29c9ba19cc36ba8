"""FHIR R4 read/search: real values, scope, paging, errors, audit, and structure
checked with the fhir.resources R4B models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.encounter import Encounter as FhirEncounter
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient

from recordroom.accounts.services import create_token
from recordroom.audit.models import AuditEvent
from recordroom.mpi.models import PatientIdentifier
from recordroom.mpi.services import identifier_lookup
from tests import factories

BASE = "/fhir/R4/"


class Fhir:
    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any):
        url = path if path.startswith("http") else BASE + path
        return self.client.get(url, data=params,
                               headers={**self.headers, **(headers or {})})  # fmt: skip


def fhir_for(user) -> Fhir:
    _, token = create_token(actor=factories.SYSTEM, username=user.username)
    return Fhir(token)


@pytest.fixture
def api(him) -> Fhir:
    return fhir_for(him)


@pytest.fixture
def document(db, chart_patient, facility, encounter):
    return factories.document(
        patient=chart_patient, facility=facility, encounter=encounter,
        text="Discharge summary", sensitivity=["HIV"],
    )  # fmt: skip


def test_patient_read_maps_names_identifiers_and_history(api, chart_patient):
    resp = api.get(f"Patient/{chart_patient.pk}")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/fhir+json")
    body = resp.json()
    FhirPatient.model_validate(body)
    assert body["id"] == str(chart_patient.pk)
    assert body["gender"] == "female" and body["birthDate"] == "1990-01-01"
    uses = {n["use"]: n for n in body["name"]}
    assert uses["official"]["family"] == "Okafor"
    assert uses["official"]["given"] == ["Adaeze", "N"]
    assert uses["old"]["family"] == "Eze"
    assert uses["old"]["period"] == {"start": "1990-01-01", "end": "2015-06-20"}
    values = {i["value"]: i for i in body["identifier"]}
    assert values["N200777"]["system"] == "urn:recordroom:facility:north:mrn"
    assert values["N200777"]["type"]["coding"][0]["code"] == "MR"
    assert "***-**-6789" in values and "123-45-6789" not in str(body)
    old = [a for a in body["address"] if a["city"] == "Lowell"][0]
    assert old["period"] == {"start": "2010-01-01", "end": "2019-03-31"}
    assert body["telecom"][0]["value"] == "978-555-0142"
    event = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert json.loads(event.detail) == {"fhir": f"Patient/{chart_patient.pk}"}


def test_other_facilitys_patient_and_mrn_are_hidden(api, db, other_facility):
    stranger = factories.patient(facility=other_facility, family="Hidden")
    resp = api.get(f"Patient/{stranger.pk}")
    assert resp.status_code == 404
    OperationOutcome.model_validate(resp.json())
    assert resp.json()["issue"][0]["code"] == "not-found"
    assert api.get("Patient", family="Hidden").json()["total"] == 0
    visit = factories.encounter(patient=stranger, facility=other_facility)
    assert api.get(f"Encounter/{visit.pk}").status_code == 404
    assert api.get("Encounter", patient=str(stranger.pk)).json()["total"] == 0
    note = factories.document(patient=stranger, facility=other_facility)
    assert api.get(f"DocumentReference/{note.pk}").status_code == 404
    assert api.get("DocumentReference").json()["total"] == 0


def test_patient_seen_at_both_facilities_shows_only_our_mrn(
    api, patient, other_facility
):
    PatientIdentifier.objects.create(
        patient=patient, kind="MR", system=other_facility.mrn_system,
        facility=other_facility, value="S555", lookup=identifier_lookup("S555"),
    )  # fmt: skip
    body = api.get(f"Patient/{patient.pk}").json()
    assert [i["value"] for i in body["identifier"]] == ["N100001"]
    found = api.get("Patient", _id=str(patient.pk)).json()
    assert "S555" not in json.dumps(found)
    assert api.get("Patient", identifier="S555").json()["total"] == 0
    assert api.get("Patient", identifier="N100001").json()["total"] == 1


def test_role_without_capability_gets_403(db, facility, chart_patient, encounter):
    auditor = factories.user("audit1", "auditor", facilities=[facility])
    api = fhir_for(auditor)
    assert api.get("Patient", family="Okafor").status_code == 200
    resp = api.get(f"Patient/{chart_patient.pk}")
    assert resp.status_code == 403
    OperationOutcome.model_validate(resp.json())
    assert resp.json()["issue"][0]["code"] == "forbidden"
    assert api.get("Encounter").status_code == 403
    assert api.get("DocumentReference").status_code == 403


def test_repeated_bad_tokens_are_throttled(db, settings):
    settings.LOGIN_MAX_FAILURES = 1
    bad = Fhir("rr_bad_token")
    codes = [bad.get("Patient").status_code for _ in range(5)]
    assert codes[:4] == [401] * 4 and codes[4] == 429
    last = bad.get("Patient")
    assert last.json()["issue"][0]["code"] == "throttled" and last["Retry-After"]
    assert AuditEvent.objects.filter(action="auth.login_failed").count() >= 5


def test_patient_search_with_real_values_and_audit(api, patient, chart_patient):
    body = api.get("Patient", family="okaf", birthdate="ge1989-12-31").json()
    Bundle.model_validate(body)
    assert body["type"] == "searchset" and body["total"] == 1
    assert body["entry"][0]["resource"]["id"] == str(chart_patient.pk)
    assert api.get("Patient", identifier="N100001").json()["total"] == 1
    assert api.get("Patient", family="NUNEZ", given="jose").json()["total"] == 1
    assert api.get("Patient", name="Adaeze").json()["total"] == 1
    assert api.get("Patient", name="Eze").json()["total"] == 1  # a former name
    ident = "urn:recordroom:facility:north:mrn|N100001"
    hit = api.get("Patient", identifier=ident).json()
    assert hit["entry"][0]["resource"]["id"] == str(patient.pk)
    assert api.get("Patient", gender="male").json()["total"] == 0
    assert api.get("Patient", **{"address-postalcode": "62701"}).json()["total"] == 1
    assert api.get("Patient", birthdate="1990-01-01").json()["total"] == 1
    event = AuditEvent.objects.filter(action="patient.search").latest("id")
    assert json.loads(event.detail)["params"] == {"birthdate": "1990-01-01"}


def test_paging_follows_next_links(api, facility):
    ids = {str(factories.patient(facility=facility, family="Pager").pk)
           for _ in range(5)}  # fmt: skip
    seen: list[str] = []
    body = api.get("Patient", family="Pager", _count="2").json()
    assert body["total"] == 5
    while True:
        seen += [e["resource"]["id"] for e in body["entry"]]
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if not nxt:
            break
        body = api.get(nxt[0]).json()
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    only_total = api.get("Patient", family="Pager", _count="0").json()
    assert only_total["total"] == 5 and only_total["entry"] == []
    assert api.get("Patient", _count="-1").status_code == 400
    assert len(api.get("Patient", _count="500").json()["entry"]) == 5


def test_encounter_read_and_search(api, encounter, chart_patient):
    body = api.get(f"Encounter/{encounter.pk}").json()
    FhirEncounter.model_validate(body)
    assert body["class"]["code"] == "IMP"
    assert body["identifier"][0]["value"] == "V900123"
    assert body["subject"]["reference"] == f"Patient/{chart_patient.pk}"
    found = api.get("Encounter", patient=str(chart_patient.pk), **{"class": "IMP"})
    assert found.json()["total"] == 1
    assert api.get("Encounter", identifier="V900123").json()["total"] == 1
    assert api.get("Encounter", **{"class": "AMB"}).json()["total"] == 0
    opened = AuditEvent.objects.filter(action="chart.open")
    assert {"fhir": f"Encounter/{encounter.pk}"} in [json.loads(e.detail)
                                                      for e in opened]  # fmt: skip
    api.get("Encounter", identifier="V900123")
    listed = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert listed.patient_id == str(chart_patient.pk)
    assert json.loads(listed.detail) == {"fhir": "Encounter", "search": True}
    unknown = api.get("MedicationRequest")
    assert unknown.status_code == 404
    assert unknown.json()["issue"][0]["expression"] == ["MedicationRequest"]


def test_document_reference_and_binary(api, document, encounter):
    body = api.get(f"DocumentReference/{document.pk}").json()
    DocumentReference.model_validate(body)
    assert body["type"]["coding"][0] == {
        "system": "http://loinc.org", "code": "18842-5",
        "display": body["type"]["coding"][0]["display"],
    }  # fmt: skip
    assert body["securityLabel"][0]["coding"][0]["code"] == "HIV"
    assert body["context"]["encounter"][0]["reference"] == f"Encounter/{encounter.pk}"
    attachment = body["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    found = api.get("DocumentReference", type="http://loinc.org|18842-5").json()
    Bundle.model_validate(found)
    assert found["total"] == 1
    resp = api.get(attachment["url"])
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="document.view").exists()


def test_unknown_params_strict_and_lenient(api, patient):
    lenient = api.get("Patient", headers={"Prefer": "handling=lenient"},
                      bogus="1").json()  # fmt: skip
    Bundle.model_validate(lenient)
    outcomes = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert "bogus" in outcomes[0]["resource"]["issue"][0]["diagnostics"]
    assert "bogus" not in lenient["link"][0]["url"]
    assert api.get("Patient", bogus="1").status_code == 400  # strict by default
    strict = api.get("Patient", headers={"Prefer": "handling=strict"}, bogus="1")
    assert strict.status_code == 400
    issue = strict.json()["issue"][0]
    assert issue["code"] == "invalid" and issue["expression"] == ["bogus"]


def test_errors_are_operation_outcomes(db, api, facility):
    anonymous = Fhir(None).get("Patient")
    assert anonymous.status_code == 401
    OperationOutcome.model_validate(anonymous.json())
    assert anonymous.json()["issue"][0]["code"] == "login"
    assert Fhir("rr_bad_token").get("Patient").status_code == 401
    missing = api.get("Patient/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"
    delete = api.client.delete(BASE + "Patient/x", headers=api.headers)
    assert delete.status_code == 405
    assert delete.json()["issue"][0]["code"] == "not-supported"
    assert delete["Allow"] == "GET, HEAD, PUT"
    bad_date = api.get("Patient", birthdate="yesterday")
    assert bad_date.status_code == 400
    assert bad_date.json()["issue"][0]["expression"] == ["birthdate"]
    clerk = factories.user("nobody1", "coder", facilities=[facility])
    assert fhir_for(clerk).get("Patient").status_code == 200


def test_capability_statement_lists_what_is_implemented(db):
    body = Client().get(BASE + "metadata").json()
    CapabilityStatement.model_validate(body)
    assert body["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    assert set(resources) == {
        "Patient", "Encounter", "DocumentReference", "Binary", "Condition", "Procedure",
        "Practitioner", "Organization", "AuditEvent", "Provenance",
        "DiagnosticReport", "Observation"}  # fmt: skip
    assert {i["code"] for i in resources["Condition"]["interaction"]} == {
        "read", "vread", "history-instance", "search-type", "create", "update"}  # fmt: skip
    assert {i["code"] for i in resources["AuditEvent"]["interaction"]} == {
        "read", "vread", "history-instance", "search-type"}  # fmt: skip
    assert {i["code"] for i in body["rest"][0]["interaction"]} == {
        "transaction",
        "batch",
    }
    names = {p["name"] for p in resources["Patient"]["searchParam"]}
    assert {"identifier", "family", "birthdate", "address-postalcode"} <= names
