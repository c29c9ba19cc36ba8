"""The SMART on FHIR Python client (`fhirclient`) against our FHIR API: it reads the
token endpoint from the CapabilityStatement's oauth-uris, gets a token (SMART Backend
Services assertion, or a client secret) and reads a Patient. Its HTTP calls go through
a real requests Session whose transport is Django's test client, so the test database
and its rollback still apply."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from fhirclient import client as smart_client
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRUnauthorizedException
from requests.structures import CaseInsensitiveDict

from recordroom.accounts.oauth import create_client
from recordroom.audit.models import AuditEvent
from tests import factories
from tests.accounts.oauth_helpers import make_client
from tests.accounts.smart_keys import assertion, jwks, make_key

BASE = "http://testserver/fhir/R4/"
KEY = make_key("ES384")


class DjangoTransport(requests.adapters.BaseAdapter):
    """A requests transport that hands each request to Django's test client."""

    def __init__(self) -> None:
        super().__init__()
        self.web = Client(REMOTE_ADDR="192.0.2.30")

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body or b""
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in {"content-type", "content-length"}}  # fmt: skip
        answer = self.web.generic(
            request.method or "GET",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            data=body.encode() if isinstance(body, str) else body,
            content_type=request.headers.get("Content-Type", ""),
            headers=headers,
        )
        resp = requests.Response()
        resp.status_code = answer.status_code
        resp._content = answer.content
        resp.headers = CaseInsensitiveDict(answer.items())
        resp.url, resp.request, resp.encoding = request.url or "", request, "utf-8"
        return resp

    def close(self) -> None:
        pass


def _connect(settings: dict[str, Any]) -> smart_client.FHIRClient:
    smart = smart_client.FHIRClient(settings={"api_base": BASE, **settings})
    smart.server.session.mount("http://testserver/", DjangoTransport())
    # A system client has no patient to pick: without this fhirclient asks for
    # launch/patient too, a launch scope the server refuses (invalid_scope).
    smart.wants_patient = False
    return smart


def test_fhirclient_discovers_the_token_endpoint_and_reads_with_an_assertion(
    db, facility, patient
):
    new = create_client(actor=factories.SYSTEM, name="registry", role="him_specialist",
                        scopes="system/Patient.read", facility_codes=[facility.code],
                        jwks=jwks(KEY))  # fmt: skip
    client_id = new.client.client_id
    smart = _connect({"app_id": client_id, "scope": "system/Patient.read",
                      "jwt_token": assertion(KEY, client_id)})  # fmt: skip
    assert smart.prepare() is False  # the CapabilityStatement read; no token yet
    auth = smart.server.auth
    assert auth.auth_type == "oauth2"
    assert auth._token_uri == "http://testserver/oauth/token"
    conf = smart.server.request_json(".well-known/smart-configuration")
    assert conf["token_endpoint"] == auth._token_uri
    assert "private_key_jwt" in conf["token_endpoint_auth_methods_supported"]
    assert conf["token_endpoint_auth_signing_alg_values_supported"] == [
        "RS384", "ES384",
    ]  # fmt: skip
    assert "client-confidential-asymmetric" in conf["capabilities"]

    smart.authorize()
    assert smart.ready and auth.access_token.startswith("rrat_")
    found = Patient.read(str(patient.pk), smart.server)
    assert found.name[0].family == "Núñez" and found.birthDate.isostring == "1980-04-02"
    token = AuditEvent.objects.get(action="auth.client_token")
    assert token.username == "client:registry"
    assert AuditEvent.objects.filter(
        action="chart.open", username="client:registry", channel="fhir"
    ).exists()


def test_fhirclient_gets_a_token_with_a_client_secret(db, facility, patient):
    lab = make_client(facilities=[facility], scopes="system/Patient.read")
    smart = _connect({"app_id": lab.client.client_id, "app_secret": lab.secret,
                      "scope": "system/Patient.read"})  # fmt: skip
    smart.prepare()
    smart.authorize()
    assert Patient.read(str(patient.pk), smart.server).id == str(patient.pk)
    refused = _connect({"app_id": "rrc_nobody", "app_secret": "wrong",
                        "scope": "system/Patient.read"})  # fmt: skip
    refused.prepare()
    with pytest.raises(FHIRUnauthorizedException):
        refused.authorize()
