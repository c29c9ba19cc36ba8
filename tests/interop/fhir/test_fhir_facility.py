"""An API client of several facilities creates visits: the facility comes from the
resource (serviceProvider, location, visit number system) or from the
X-Recordroom-Facility header the CapabilityStatement documents; when it cannot be
decided, a 400 OperationOutcome that tells an HTTP client what to send."""

from __future__ import annotations

import json
from json import dumps
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhirpy import SyncFHIRClient
from fhirpy.base import lib_sync
from fhirpy.base.exceptions import OperationOutcome as OperationOutcomeError

from recordroom.audit.models import AuditEvent
from recordroom.records.models import Encounter
from tests import factories
from tests.accounts.oauth_helpers import get_token, make_client
from tests.interop.fhir.test_fhir_api import BASE, Fhir
from tests.interop.fhir.test_fhirpy_client import URL

SCOPES = "system/Patient.cru system/Encounter.cru"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                  "code": "MR"}]}  # fmt: skip


@pytest.fixture
def client_of_two(db, facility, other_facility):
    return Fhir(get_token(make_client("adt-feed", facilities=[facility, other_facility],
                                      scopes=SCOPES)))  # fmt: skip


@pytest.fixture
def patient_id(facility, client_of_two):
    body = {"resourceType": "Patient", "gender": "male", "birthDate": "1960-01-02",
            "name": [{"use": "official", "family": "Okafor", "given": ["Chidi"]}],
            "identifier": [{"type": MR, "system": facility.mrn_system,
                            "value": "K100"}]}  # fmt: skip
    resp = post(client_of_two, "Patient", body)
    assert resp.status_code == 201, resp.content
    return resp.json()["id"]


def post(api: Fhir, path: str, body, **headers):
    """POST a FHIR JSON body with the client's token (and any other headers)."""
    return api.client.post(BASE + path, data=json.dumps(body),
                           content_type="application/fhir+json",
                           headers={**api.headers, **headers})  # fmt: skip


def _visit(patient_id: str, **extra) -> dict:
    return {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
            "subject": {"reference": f"Patient/{patient_id}"},
            "period": {"start": "2026-11-02T09:00:00Z", "end": "2026-11-02T09:30:00Z"},
            **extra}  # fmt: skip


def test_a_visit_that_names_no_facility_is_refused_with_http_advice(
    client_of_two, patient_id
):
    resp = post(client_of_two, "Encounter", _visit(patient_id))
    assert resp.status_code == 400
    body = resp.json()
    OperationOutcome.model_validate(body)
    text = body["issue"][0]["diagnostics"]
    assert "--facility" not in text
    assert "X-Recordroom-Facility" in text and "serviceProvider" in text
    assert body["issue"][0]["expression"] == ["Encounter.serviceProvider"]
    assert not Encounter.objects.exists()


@pytest.mark.parametrize("where", ["serviceProvider", "location", "identifier"])
def test_the_visit_names_its_facility(client_of_two, patient_id, other_facility, where):
    named = {"identifier": {"system": "urn:recordroom:facility",
                            "value": other_facility.code}}  # fmt: skip
    extra = {
        "serviceProvider": {"serviceProvider": named},
        "location": {"location": [{"location": named}]},
        "identifier": {"identifier": [{"system": other_facility.mrn_system + "/account",
                                       "value": "S-1"}]},
    }[where]  # fmt: skip
    resp = post(client_of_two, "Encounter", _visit(patient_id, **extra))
    assert resp.status_code == 201, resp.content
    visit = Encounter.objects.get()
    assert visit.facility == other_facility
    assert resp.json()["location"][0]["location"]["identifier"]["value"] == "SOUTH"


def test_the_request_header_names_the_facility(client_of_two, patient_id, facility,
                                               other_facility):  # fmt: skip
    resp = post(client_of_two, "Encounter", _visit(patient_id),
                 **{"X-Recordroom-Facility": other_facility.code})  # fmt: skip
    assert resp.status_code == 201, resp.content
    assert Encounter.objects.get().facility == other_facility
    # The resource's own facility wins over the header's.
    named = _visit(patient_id, serviceProvider={"identifier": {
        "system": "urn:recordroom:facility", "value": facility.code}})  # fmt: skip
    named["period"]["start"] = "2026-11-03T09:00:00Z"
    named["period"]["end"] = "2026-11-03T09:30:00Z"
    resp = post(client_of_two, "Encounter", named,
                 **{"X-Recordroom-Facility": other_facility.code})  # fmt: skip
    assert resp.status_code == 201, resp.content
    assert Encounter.objects.get(pk=resp.json()["id"]).facility == facility


def test_a_header_naming_an_unknown_or_foreign_facility_is_refused(
    client_of_two, patient_id
):
    unknown = post(client_of_two, "Encounter", _visit(patient_id),
                    **{"X-Recordroom-Facility": "NOWHERE"})  # fmt: skip
    assert unknown.status_code == 400
    assert "'NOWHERE' is not a facility here" in unknown.json()["issue"][0]["diagnostics"]
    factories.facility("EAST")
    foreign = post(client_of_two, "Encounter", _visit(patient_id),
                    **{"X-Recordroom-Facility": "EAST"})  # fmt: skip
    assert foreign.status_code == 403
    assert "not one of your facilities" in foreign.json()["issue"][0]["diagnostics"]
    assert AuditEvent.objects.filter(action="access.denied").exists()
    assert not Encounter.objects.exists()


def test_the_capability_statement_documents_the_header(client_of_two):
    rest = client_of_two.get("metadata").json()["rest"][0]
    assert "X-Recordroom-Facility" in rest["documentation"]
    assert "serviceProvider" in rest["documentation"]


def test_a_patient_whose_mrn_names_no_facility_gets_http_advice(client_of_two, facility):
    body = {"resourceType": "Patient", "name": [{"family": "Bello"}],
            "identifier": [{"type": MR, "system": "urn:oid:9.9.9", "value": "X1"}]}  # fmt: skip
    refused = post(client_of_two, "Patient", body)
    assert refused.status_code == 400
    text = refused.json()["issue"][0]["diagnostics"]
    assert "--facility" not in text and "X-Recordroom-Facility" in text
    filed = post(client_of_two, "Patient", body, **{"X-Recordroom-Facility": "NORTH"})
    assert filed.status_code == 201, filed.content
    assert filed.json()["identifier"][0]["value"] == "X1"


@pytest.fixture
def routed_writes(monkeypatch):
    """fhirpy's HTTP calls, reads and writes, routed in-process to Django's client."""
    client = Client()

    def request(method: str, url: str, json=None, headers=None, **_: Any):  # noqa: ANN001
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        call = getattr(client, method.lower())
        resp = (call(path, headers=headers or {}) if json is None else
                call(path, data=dumps(json), content_type="application/fhir+json",
                     headers=headers or {}))  # fmt: skip
        return SimpleNamespace(status_code=resp.status_code, content=resp.content)

    monkeypatch.setattr(lib_sync.requests, "request", request)


def test_fhirpy_creates_a_visit_at_the_facility_its_header_names(
    routed_writes, client_of_two, patient_id, other_facility
):
    fhir = SyncFHIRClient(URL, authorization=client_of_two.headers["Authorization"],
                          extra_headers={"X-Recordroom-Facility": other_facility.code})  # fmt: skip
    visit = fhir.resource("Encounter", **_visit(patient_id, reasonCode=[
        {"coding": [{"system": "http://snomed.info/sct", "code": "195662009",
                     "display": "Acute viral pharyngitis"}]}]))  # fmt: skip
    visit.save()
    assert Encounter.objects.get(pk=visit.id).facility == other_facility
    read = fhir.reference("Encounter", visit.id).to_resource()
    assert read["reasonCode"][0]["coding"][0]["code"] == "195662009"
    assert read["serviceProvider"]["identifier"]["value"] == other_facility.code
    # Without the header, fhirpy's client gets the 400 and its OperationOutcome.
    plain = SyncFHIRClient(URL, authorization=client_of_two.headers["Authorization"])
    with pytest.raises(OperationOutcomeError) as refused:
        plain.resource("Encounter", **_visit(patient_id)).save()
    assert "X-Recordroom-Facility" in str(refused.value)
