"""The real fhirpy client against our FHIR API, its HTTP calls routed in-process
to Django's test client (so the test database and its rollback still apply)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from fhirpy import SyncFHIRClient
from fhirpy.base import lib_sync
from fhirpy.base.exceptions import AuthorizationError, ResourceNotFound

from recordroom.accounts.services import create_token
from tests import factories

URL = "http://testserver/fhir/R4"


@pytest.fixture
def routed(monkeypatch):
    client = Client()

    def request(method: str, url: str, json=None, headers=None, **_: Any):  # noqa: ANN001
        assert method.lower() == "get", "the FHIR API is read-only"
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        resp = client.get(path, headers=headers or {})
        return SimpleNamespace(status_code=resp.status_code, content=resp.content)

    monkeypatch.setattr(lib_sync.requests, "request", request)


def test_fhirpy_reads_searches_and_pages(routed, him, facility, chart_patient):
    for _ in range(3):
        factories.patient(facility=facility, family="Okafor")
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    fhir = SyncFHIRClient(URL, authorization=f"Bearer {token}")
    found = fhir.resources("Patient").search(family="Okafor").limit(2)
    assert found.count() == 4
    everyone = found.fetch_all()
    assert len(everyone) == 4 and str(chart_patient.pk) in {p.id for p in everyone}
    one = fhir.reference("Patient", str(chart_patient.pk)).to_resource()
    assert one["birthDate"] == "1990-01-01"
    with pytest.raises(ResourceNotFound):
        fhir.reference("Patient", "00000000-0000-0000-0000-000000000000").to_resource()
    with pytest.raises(AuthorizationError):
        SyncFHIRClient(URL, authorization="Bearer rr_nope").resources("Patient").fetch()
