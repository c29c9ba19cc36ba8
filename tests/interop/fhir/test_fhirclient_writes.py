"""The real fhirclient (SMART on FHIR's Python client) against our FHIR API
(R-INT-4): it parses our CapabilityStatement, creates, reads the version, updates,
and is refused (405) a PUT to an id of its own choosing. Its requests.Session is
routed in-process to Django's test client."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from fhirclient.models.patient import Patient as FcPatient
from fhirclient.server import FHIRServer

from recordroom.accounts.services import create_token
from recordroom.mpi.models import Patient
from tests import factories

URL = "http://testserver/fhir/R4/"


class RoutedSession:
    """What fhirclient calls on its requests.Session, answered by Django."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.auth = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, url: str, headers=None, data=None) -> Any:  # noqa: ANN001
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {**(headers or {}), **self.auth}
        kwargs: dict[str, Any] = {"headers": headers}
        if data is not None:
            kwargs |= {"data": data, "content_type": headers.get("Content-type", "")}
        resp = getattr(self.client, method)(path, **kwargs)
        out = requests.Response()
        out.status_code, out._content, out.url = resp.status_code, resp.content, url
        out.headers.update(dict(resp.headers))
        return out

    def get(self, url: str, headers=None) -> Any:  # noqa: ANN001
        return self._call("get", url, headers)

    def put(self, url: str, headers=None, data=None) -> Any:  # noqa: ANN001
        return self._call("put", url, headers, data)

    def post(self, url: str, headers=None, data=None) -> Any:  # noqa: ANN001
        return self._call("post", url, headers, data)


@pytest.fixture
def server(him):
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    srv = FHIRServer(None, base_uri=URL)
    srv.session = RoutedSession(token)
    return srv


def _patient(facility, family: str) -> FcPatient:
    return FcPatient({"resourceType": "Patient", "gender": "female",
                      "birthDate": "1979-03-14",
                      "name": [{"use": "official", "family": family, "given": ["Ada"]}],
                      "identifier": [{"system": facility.mrn_system, "value": "C-1"}]})  # fmt: skip


def test_r_int_4_fhirclient_reads_the_capability_statement_and_versions(
    server, facility
):
    server.get_capability()
    rest = server.capabilityStatement.rest[0]
    entry = next(r for r in rest.resource if r.type == "Patient")
    assert (entry.versioning, entry.readHistory, entry.updateCreate) == (
        "versioned-update", False, False)  # fmt: skip
    created = _patient(facility, "Okafor").create(server)
    pid, v1 = created["id"], created["meta"]["versionId"]
    read = FcPatient.read(pid, server)
    assert read.meta.versionId == v1
    official = next(n for n in read.name if n.use == "official")
    official.family = "Okafor-Ben"
    updated = read.update(server)
    assert int(updated["meta"]["versionId"]) > int(v1)
    names = FcPatient.read(pid, server).name
    assert {(n.use, n.family) for n in names} == {
        ("official", "Okafor-Ben"), ("old", "Okafor")}  # fmt: skip
    mine = _patient(facility, "Chosen")
    mine.id = "my-own-id"
    with pytest.raises(requests.HTTPError) as refused:
        mine.update(server)
    assert refused.value.response.status_code == 405
    assert Patient.objects.count() == 1
