"""The real fhirpy client writing to our FHIR API (R-INT-4): conditional create
returns the existing patient unchanged, versions move with every change, and a
batch with reads; its HTTP calls are routed in-process to Django's test client."""

from __future__ import annotations

import json as jsonlib
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from fhirpy import SyncFHIRClient
from fhirpy.base import lib_sync
from fhirpy.base.exceptions import MultipleResourcesFound, ResourceNotFound

from recordroom.accounts.services import create_token
from recordroom.mpi.models import Patient
from tests import factories

URL = "http://testserver/fhir/R4"


@pytest.fixture
def fhir(monkeypatch, him):
    client = Client()

    def request(method: str, url: str, json=None, headers=None, **_: Any):  # noqa: ANN001
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        call = getattr(client, method.lower())
        kwargs: dict[str, Any] = {"headers": headers or {}}
        if json is not None:
            kwargs |= {"data": jsonlib.dumps(json), "content_type": "application/json"}
        resp = call(path, **kwargs)
        return SimpleNamespace(status_code=resp.status_code, content=resp.content,
                               headers=resp.headers)  # fmt: skip

    monkeypatch.setattr(lib_sync.requests, "request", request)
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    return SyncFHIRClient(URL, authorization=f"Bearer {token}")


def _patient(fhir, facility, family: str, mrn: str = "F-1"):
    return fhir.resource("Patient", gender="female", birthDate="1979-03-14",
                         name=[{"use": "official", "family": family, "given": ["Ada"]}],
                         identifier=[{"system": facility.mrn_system, "value": mrn,
                                      "type": {"coding": [{"code": "MR", "system":
                                      "http://terminology.hl7.org/CodeSystem/v2-0203"}]}}])  # fmt: skip


def test_r_int_4_fhirpy_get_or_create_never_overwrites_a_chart(fhir, facility):
    search = fhir.resources("Patient").search(identifier=f"{facility.mrn_system}|F-1")
    first, created = search.get_or_create(_patient(fhir, facility, "Okafor"))
    assert created is True
    again, created = search.get_or_create(_patient(fhir, facility, "Overwritten"))
    assert created is False and again.id == first.id
    assert [n["family"] for n in again["name"]] == ["Okafor"]
    assert Patient.objects.count() == 1
    fhir.resources("Patient").search(identifier="F-2").get_or_create(
        _patient(fhir, facility, "Twin", mrn="F-2"))  # fmt: skip
    fhir.resources("Patient").search(identifier="F-3").get_or_create(
        _patient(fhir, facility, "Twin", mrn="F-3"))  # fmt: skip
    with pytest.raises(MultipleResourcesFound):
        fhir.resources("Patient").search(family="Twin").get_or_create(
            _patient(fhir, facility, "Twin", mrn="F-4"))  # fmt: skip


def test_r_int_4_fhirpy_sees_versions_move_and_reads_in_a_batch(fhir, facility):
    made = _patient(fhir, facility, "Okafor")
    made.save()
    v1 = made["meta"]["versionId"]
    made["name"] = [{"use": "official", "family": "Okafor-Ben", "given": ["Ada"]}]
    made.save()  # PUT to our id
    assert int(made["meta"]["versionId"]) > int(v1)
    current = fhir.reference("Patient", made.id).to_resource()
    assert current["meta"]["versionId"] == made["meta"]["versionId"]
    with pytest.raises(ResourceNotFound):  # an older version is Gone
        fhir.execute(f"Patient/{made.id}/_history/{v1}", method="get")
    answer = fhir.execute("", method="post", data={
        "resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "GET", "url": f"Patient/{made.id}"}},
            {"request": {"method": "GET", "url": "Patient?family=Okafor-Ben"}}]})  # fmt: skip
    assert answer["entry"][0]["resource"]["id"] == made.id
    assert answer["entry"][1]["resource"]["total"] == 1
