"""HTTP hardening: CSP, no-store on PHI, cookies, HSTS and CSRF behind a TLS proxy,
allowed hosts, /healthz readiness, Swagger UI served offline (R-SEC-1, R-SEC-3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from recordroom.accounts.services import create_token
from tests import factories

from .conftest import PASSWORD, signed_in

PROXY = "10.0.0.5"
PUBLIC = "records.example.org"


def test_every_phi_response_is_no_store_and_pages_carry_a_csp(
    him, him_client, pdf_document, chart_patient
):
    page = him_client.get(reverse("web:chart", kwargs={"patient_id": chart_patient.pk}))
    download = him_client.get(
        reverse("web:document_content", kwargs={"document_id": pdf_document.pk})
    )
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    bearer = {"Authorization": f"Bearer {token}"}
    api = Client().get("/api/v1/me", headers=bearer)
    fhir = Client().get(f"/fhir/R4/Patient/{chart_patient.pk}", headers=bearer)
    login = Client().get(reverse("web:login"))
    for response in (page, download, api, fhir, login):
        assert response.status_code == 200, response
        assert "no-store" in response["Cache-Control"]
    csp = page["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "frame-ancestors 'self'" in csp and "unsafe-eval" not in csp
    assert login["Content-Security-Policy"] == csp
    assert "Content-Security-Policy" not in download  # a PDF, not a page


def test_static_files_may_be_cached(db):
    response = Client().get("/static/recordroom/app.css")
    assert response.status_code == 200
    assert response.get("Cache-Control") != "no-store"


def test_swagger_ui_is_served_from_the_app_not_a_cdn(him):
    client = signed_in(him)
    html = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    assert "cdn." not in html and "unpkg" not in html and "<script>" not in html
    assert finders.find("ninja/swagger-ui-bundle.js")
    assert client.get("/static/ninja/swagger-ui-init.js").status_code == 200


def test_the_openapi_document_has_no_duplicate_keys(him):
    """Swagger UI refuses a document with a key twice ("duplicated mapping key")."""

    def unique(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
        return dict(pairs)

    raw = signed_in(him).get("/api/v1/openapi.json").content
    schema = json.loads(raw, object_pairs_hook=unique)
    content = schema["paths"]["/api/v1/documents/{document_id}/content"]["get"]
    assert "application/octet-stream" in content["responses"]["200"]["content"]


# --- behind a TLS proxy ------------------------------------------------------------


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = ("10.0.0.0/8",)
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = [PUBLIC, "10.0.0.20"]
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    return settings


def _sign_in_through_proxy(peer: str, host: str, origin: str):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=peer,
                    HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="198.51.100.7",
                    HTTP_HOST=host)  # fmt: skip
    page = client.get(reverse("web:login"))
    token = page.cookies["csrftoken"].value
    return page, client.post(
        reverse("web:login"),
        {"username": "him1", "password": PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_ORIGIN=origin,
    )


def test_sign_in_works_through_a_tls_proxy_with_secure_cookies_and_hsts(
    him, behind_proxy
):
    page, response = _sign_in_through_proxy(PROXY, PUBLIC, f"https://{PUBLIC}")
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    assert page.cookies["csrftoken"]["secure"] is True
    assert page.cookies["csrftoken"]["samesite"] == "Strict"
    assert response.status_code == 302, response.content[:300]
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Strict"


def test_a_proxy_on_another_host_needs_its_origin_trusted(him, behind_proxy):
    # nginx passes its upstream's name as Host; the browser's Origin is the public one.
    _, refused = _sign_in_through_proxy(PROXY, "10.0.0.20", f"https://{PUBLIC}")
    assert refused.status_code == 403
    behind_proxy.CSRF_TRUSTED_ORIGINS = [f"https://{PUBLIC}"]
    _, accepted = _sign_in_through_proxy(PROXY, "10.0.0.20", f"https://{PUBLIC}")
    assert accepted.status_code == 302


def test_a_client_cannot_claim_https_or_an_address_without_the_proxy(him, behind_proxy):
    page, response = _sign_in_through_proxy("198.51.100.9", PUBLIC, f"https://{PUBLIC}")
    assert "Strict-Transport-Security" not in page  # plain HTTP, whatever it claims
    assert response.status_code == 403  # an https Origin on an http request


# --- settings from the environment --------------------------------------------------


def _settings_under(env: dict[str, str], tmp_path: Path) -> dict:
    code = (
        "import json; from recordroom import settings as s; print(json.dumps({k: "
        "getattr(s, k) for k in ('ALLOWED_HOSTS', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', "
        "'CSRF_TRUSTED_ORIGINS', 'TRUSTED_PROXIES', 'FILE_UPLOAD_TEMP_DIR')}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RECORDROOM_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False,
        env={**clean, "RECORDROOM_DATA_DIR": str(tmp_path), **env},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_testserver_is_never_an_allowed_host_and_plain_http_is_the_default(tmp_path):
    plain = _settings_under({}, tmp_path)
    assert plain["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert (plain["SESSION_COOKIE_SECURE"], plain["SECURE_HSTS_SECONDS"]) == (False, 0)
    assert plain["SECURE_PROXY_SSL_HEADER"] is None  # no proxy listed: never believed
    assert plain["FILE_UPLOAD_TEMP_DIR"] == str(tmp_path / "tmp")


def test_tls_and_proxy_settings_from_the_environment(tmp_path):
    tls = _settings_under({
        "RECORDROOM_TLS": "1", "RECORDROOM_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16",
        "RECORDROOM_CSRF_TRUSTED_ORIGINS": "https://records.example.org",
    }, tmp_path)  # fmt: skip
    assert tls["SESSION_COOKIE_SECURE"] and tls["CSRF_COOKIE_SECURE"]
    assert tls["SECURE_HSTS_SECONDS"] == 31536000
    assert tls["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert tls["TRUSTED_PROXIES"] == ["10.0.0.5", "10.1.0.0/16"]
    assert tls["CSRF_TRUSTED_ORIGINS"] == ["https://records.example.org"]


def test_a_mistyped_trusted_proxy_stops_the_start_naming_it(tmp_path):
    code = "import recordroom.settings"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False,
        env={**os.environ, "RECORDROOM_DATA_DIR": str(tmp_path),
             "RECORDROOM_TRUSTED_PROXIES": "10.0.0.5,nginx.local"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "RECORDROOM_TRUSTED_PROXIES: 'nginx.local' is not an IP address" in (
        result.stderr
    )


# --- readiness ----------------------------------------------------------------------


def test_healthz_is_503_naming_a_data_folder_that_takes_no_writes(
    db, settings, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.BLOB_DIR = blocker / "blobs"
    response = Client().get(reverse("web:healthz"))
    assert response.status_code == 503
    assert f"{blocker}/blobs is not writable" in response.content.decode()
    settings.BLOB_DIR = tmp_path / "blobs"
    settings.DATA_DIR = blocker
    response = Client().get(reverse("web:healthz"))
    assert response.status_code == 503
    assert f"{blocker} is not writable" in response.content.decode()
    settings.DATA_DIR = tmp_path
    assert Client().get(reverse("web:healthz")).content == b"ok"
