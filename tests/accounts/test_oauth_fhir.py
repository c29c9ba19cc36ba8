"""A system client at the real FHIR API: its scopes narrow reads, searches, writes,
_include, $everything and $export; expiry is a 401; the audit names the client."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from recordroom.accounts.models import AccessToken
from recordroom.audit.models import AuditEvent
from recordroom.interop.models import ExportJob
from tests import factories

from .oauth_helpers import get_token, make_client

BASE = "/fhir/R4/"


class Fhir:
    def __init__(self, token: str) -> None:
        self.client = Client(REMOTE_ADDR="192.0.2.7")
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, headers=None, **params):
        return self.client.get(BASE + path, params,
                               headers={**self.headers, **(headers or {})})  # fmt: skip

    def post(self, path: str, body):
        return self.client.post(BASE + path, json.dumps(body),
                                content_type="application/fhir+json",
                                headers=self.headers)  # fmt: skip


def _client(facility, scopes: str) -> Fhir:
    new = make_client(facilities=[facility], scopes=scopes)
    return Fhir(get_token(new))


def _diagnostics(resp) -> str:
    return resp.json()["issue"][0]["diagnostics"]


def test_a_client_with_patient_read_searches_patients(db, facility, patient):
    fhir = _client(facility, "system/Patient.read")
    resp = fhir.get("Patient", identifier="N100001")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["total"] == 1
    assert body["entry"][0]["resource"]["name"][0]["family"] == "Núñez"
    assert fhir.get(f"Patient/{patient.pk}").status_code == 200
    search = AuditEvent.objects.filter(action="patient.search").latest("id")
    assert (search.username, search.channel) == ("client:lab-feed", "fhir")
    assert json.loads(search.detail)["client_id"].startswith("rrc_")
    # Encounter is outside its scope: a 403 saying what would allow it.
    refused = fhir.get("Encounter", patient=str(patient.pk))
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert "needs system/Encounter.read" in _diagnostics(refused)
    # Nor may it write.
    post = fhir.post("Patient", {"resourceType": "Patient"})
    assert post.status_code == 403
    assert "do not allow create of Patient" in _diagnostics(post)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient"},
         "request": {"method": "PUT", "url": "Patient/x1"}}]}  # fmt: skip
    assert "do not allow update of Patient" in _diagnostics(fhir.post("", bundle))


def test_an_expired_token_is_a_401_saying_so(db, facility):
    fhir = _client(facility, "system/*.read")
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = fhir.get("Patient", identifier="N1")
    assert expired.status_code == 401
    assert "the access token expired at" in _diagnostics(expired)


def test_everything_and_include_keep_to_the_scopes(db, facility, chart_patient):
    factories.encounter(patient=chart_patient, facility=facility, account="V1")
    factories.document(patient=chart_patient, facility=facility, text="Note")
    new = make_client(facilities=[facility],
                      scopes="system/Patient.read system/Encounter.read")  # fmt: skip
    fhir = Fhir(get_token(new))
    everything = fhir.get(f"Patient/{chart_patient.pk}/$everything")
    assert everything.status_code == 403  # a VIP's chart: labels before scopes
    assert "VIP chart" in _diagnostics(everything)
    factories.grant_labels(new.client.user, "VIP")  # its service user, as the admin
    body = fhir.get(f"Patient/{chart_patient.pk}/$everything").json()
    kinds = sorted(e["resource"]["resourceType"] for e in body["entry"])
    assert kinds == ["Encounter", "Patient"]  # no DocumentReference
    included = fhir.get("Encounter", patient=str(chart_patient.pk),
                        _include="Encounter:patient")  # fmt: skip
    assert included.status_code == 200
    practitioner = fhir.get("Encounter", patient=str(chart_patient.pk),
                            _include="Encounter:practitioner")  # fmt: skip
    assert practitioner.status_code == 403
    assert "read of Practitioner" in _diagnostics(practitioner)


def test_export_keeps_to_the_scopes(db, facility, chart_patient):
    fhir = _client(facility, "system/Patient.read system/Encounter.rs")
    asynchronous = {"Prefer": "respond-async"}
    kick = fhir.get("$export", headers=asynchronous)
    assert kick.status_code == 202, kick.content
    assert ExportJob.objects.get().types == ["Patient", "Encounter"]
    asked = fhir.get("$export", headers=asynchronous, _type="Patient,Condition")
    assert asked.status_code == 403
    assert "read of Condition" in _diagnostics(asked)
