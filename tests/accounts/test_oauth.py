"""System clients: registration, the client credentials grant at /oauth/token (RFC 6749
§4.4 and §5.2), throttling, scopes, expiry and revocation (R-SEC-1)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from recordroom.accounts.models import AccessToken, ApiClient, LoginFailure
from recordroom.accounts.oauth import revoke_client
from recordroom.accounts.services import create_token
from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import NotFound, ValidationFailed
from tests import factories

from .oauth_helpers import basic, get_token, make_client, post_token

GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
def lab(db, facility):
    return make_client(facilities=[facility])


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- registration -----------------------------------------------------------------


def test_a_client_acts_as_a_service_user_in_its_role_and_facilities(lab, facility):
    client, user = lab.client, lab.client.user
    assert user.username == "client:lab-feed"
    assert user.role_names() == ["HIM specialist"]
    assert user.facility_ids() == [facility.pk] and not user.has_usable_password()
    assert client.client_id.startswith("rrc_") and len(client.client_id) == 28
    assert client.scopes == "system/*.read" and client.active
    assert lab.secret not in client.secret_digest and len(client.secret_digest) == 64
    created = _events("auth.client_created")[0]
    assert created.object_id == str(client.pk)
    assert json.loads(created.detail) == {
        "client_id": client.client_id, "name": "lab-feed", "role": "him_specialist",
        "scopes": "system/*.read", "facilities": ["NORTH"],
    }  # fmt: skip
    assert _events("accounts.user_created")[-1].object_id == str(user.pk)
    assert not AuditEvent.objects.filter(detail__contains=lab.secret).exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "lab feed"}, "client name 'lab feed' is not usable"),
        ({"scopes": "patient/*.read"}, "scope 'patient/*.read' needs a patient"),
        ({"scopes": "system/*.reed"}, "scope 'system/*.reed' has unknown"),
        ({"scopes": " "}, "give the scopes the client may ask for"),
        ({"facilities": ()}, "give either the facility codes"),
        ({"all_facilities": True}, "give either the facility codes"),  # and NORTH
        ({"role": "wizard"}, "unknown role 'wizard'"),
        ({"name": "lab-feed"}, "a client named 'lab-feed' exists"),
    ],
)
def test_registration_refuses_bad_input_saying_what(lab, facility, kwargs, message):
    args = {"name": "other", "facilities": [facility], **kwargs}
    users_before = Group.objects.get(name="HIM specialist").user_set.count()
    with pytest.raises(ValidationFailed) as exc:
        make_client(**args)
    assert exc.value.message.startswith(message)
    assert Group.objects.get(name="HIM specialist").user_set.count() == users_before


def test_the_admin_form_validates_and_normalises_scopes(lab):
    client = lab.client
    client.scopes = "system/Patient.rs   system/Encounter.read"
    client.clean()
    assert client.scopes == "system/Patient.rs system/Encounter.read"
    client.scopes = "patient/*.read"
    with pytest.raises(ValidationError) as exc:
        client.clean()
    assert "needs a patient launch context" in exc.value.message_dict["scopes"][0]


def test_no_api_token_for_a_clients_service_user(lab):
    with pytest.raises(ValidationFailed, match="is a system client's service user"):
        create_token(actor=factories.SYSTEM, username="client:lab-feed")


# --- the token endpoint -----------------------------------------------------------


def test_token_by_http_basic(lab, settings):
    settings.OAUTH_TOKEN_MINUTES = 15
    resp = post_token(GRANT, headers=basic(lab.client.client_id, lab.secret))
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/json"
    assert (resp["Cache-Control"], resp["Pragma"]) == ("no-store", "no-cache")
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert body["scope"] == "system/*.read"
    token = body["access_token"]
    assert token.startswith("rrat_") and len(token) > 40
    row = AccessToken.objects.get()
    assert token not in row.digest and row.scopes == "system/*.read"
    assert (
        timedelta(minutes=14) < row.expires_at - timezone.now() <= timedelta(minutes=15)
    )
    event = _events("auth.client_token")[0]
    assert (event.username, event.channel, event.outcome) == (
        "client:lab-feed", "oauth", "success",
    )  # fmt: skip
    assert json.loads(event.detail) == {
        "client_id": lab.client.client_id,
        "scope": "system/*.read",
        "expires_at": row.expires_at.isoformat(),
        "auth": "client_secret",
    }
    assert not AuditEvent.objects.filter(detail__contains=token).exists()
    assert ApiClient.objects.get().last_used_at is not None


def test_token_by_form_fields_and_lifetime_from_settings(lab, settings):
    settings.OAUTH_TOKEN_MINUTES = 5
    form = {**GRANT, "client_id": lab.client.client_id, "client_secret": lab.secret}
    body = post_token(form).json()
    assert body["expires_in"] == 300 and body["scope"] == "system/*.read"


def test_expired_tokens_of_the_client_are_purged_when_it_gets_a_new_one(lab):
    get_token(lab)
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    get_token(lab)
    assert AccessToken.objects.count() == 1


def _assert_error(resp, status: int, error: str, description: str) -> None:
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert body["error"] == error
    assert description in body["error_description"], body
    assert resp["Cache-Control"] == "no-store"


@pytest.mark.parametrize("client_id", ["rrc_unknown", None])
def test_wrong_secret_or_unknown_client_is_invalid_client_401(lab, client_id):
    client_id = client_id or lab.client.client_id
    resp = post_token(GRANT, headers=basic(client_id, "not-the-secret"))
    _assert_error(resp, 401, "invalid_client", "the client id or secret is not valid")
    assert resp["WWW-Authenticate"] == 'Basic realm="recordroom"'
    assert LoginFailure.objects.filter(client_address="127.0.0.1").count() == 1
    event = _events("auth.login_failed")[0]
    assert (event.outcome, event.channel) == ("denied", "oauth")
    assert json.loads(event.detail) == {
        "method": "oauth client", "client_id": client_id,
        "reason": "the client id or secret is not valid",
    }  # fmt: skip
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize(
    ("form", "headers", "status", "error", "description"),
    [
        (GRANT, {}, 401, "invalid_client", "client authentication is required"),
        (GRANT, {"Authorization": "Bearer x"}, 401, "invalid_client",
         "authenticate with HTTP Basic"),
        (GRANT, {"Authorization": "Basic !!!"}, 401, "invalid_client",
         "not base64 of client_id:client_secret"),
        ({**GRANT, "client_secret": "s"}, "basic", 400, "invalid_request",
         "not both"),
        ({"grant_type": "password"}, "basic", 400, "unsupported_grant_type",
         "grant_type 'password' is not supported; use client_credentials"),
        ({}, "basic", 400, "invalid_request", "grant_type is missing"),
        ([("grant_type", "client_credentials"), ("scope", "a"), ("scope", "b")],
         "basic", 400, "invalid_request", "sent more than once: scope"),
    ],
)  # fmt: skip
def test_malformed_requests_get_rfc_6749_errors(
    lab, form, headers, status, error, description
):
    if headers == "basic":
        headers = basic(lab.client.client_id, lab.secret)
    resp = post_token(form, headers=headers)
    _assert_error(resp, status, error, description)
    assert not AccessToken.objects.exists()


def test_only_form_encoded_posts_are_accepted(lab):
    web = Client()
    json_body = web.post("/oauth/token", data=GRANT, content_type="application/json",
                         headers=basic(lab.client.client_id, lab.secret))  # fmt: skip
    _assert_error(json_body, 400, "invalid_request",
                  "send the parameters as application/x-www-form-urlencoded, not "
                  "application/json")  # fmt: skip
    get = web.get("/oauth/token")
    assert get.status_code == 405 and get["Allow"] == "POST"


def test_failures_throttle_wrong_secrets_but_never_the_right_one(lab, him, settings):
    settings.LOGIN_MAX_FAILURES = 1  # an address may fail 4 times
    wrong = basic(lab.client.client_id, "wrong")
    codes = [post_token(GRANT, headers=wrong).status_code for _ in range(4)]
    assert codes == [401] * 4
    again = post_token(GRANT, headers=wrong)
    _assert_error(again, 429, "temporarily_unavailable",
                  "too many failed sign-ins from address 127.0.0.1; try again in")  # fmt: skip
    assert int(again["Retry-After"]) == settings.LOGIN_LOCKOUT_MINUTES * 60
    # The right secret, and a person's valid API token, still work from there.
    right = post_token(GRANT, headers=basic(lab.client.client_id, lab.secret))
    assert right.status_code == 200
    _, api_token = create_token(actor=factories.SYSTEM, username=him.username)
    fhir = Client(REMOTE_ADDR="127.0.0.1").get(
        "/fhir/R4/Patient", headers={"Authorization": f"Bearer {api_token}"}
    )
    assert fhir.status_code == 200


def test_a_request_that_is_not_a_failure_does_not_count(lab):
    resp = post_token({**GRANT, "scope": "system/*.reed"},
                      headers=basic(lab.client.client_id, lab.secret))  # fmt: skip
    assert resp.status_code == 400
    assert not LoginFailure.objects.exists()


# --- scopes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        (None, "system/Patient.read system/Encounter.rs"),
        ("", "system/Patient.read system/Encounter.rs"),
        ("system/Patient.read", "system/Patient.read"),
        ("system/Patient.r", "system/Patient.r"),
        ("system/*.read", "system/Patient.read system/Encounter.read"),
        ("system/*.cruds", "system/Patient.rs system/Encounter.rs"),
        ("system/Patient.read system/Observation.read", "system/Patient.read"),
    ],
)
def test_granted_scope_is_what_is_asked_for_cut_to_what_is_held(
    db, facility, asked, granted
):
    new = make_client(facilities=[facility],
                      scopes="system/Patient.read system/Encounter.rs")  # fmt: skip
    form = dict(GRANT) if asked is None else {**GRANT, "scope": asked}
    resp = post_token(form, headers=basic(new.client.client_id, new.secret))
    assert resp.status_code == 200, resp.content
    assert resp.json()["scope"] == granted
    assert AccessToken.objects.get().scopes == granted


@pytest.mark.parametrize(
    ("asked", "description"),
    [
        ("system/Patient.reed",
         "scope 'system/Patient.reed' has unknown permissions 'reed'"),
        ("patient/*.read",
         "scope 'patient/*.read' needs a patient launch context, which Recordroom "
         "does not offer"),
        ("launch/patient", "scope 'launch/patient' belongs to a SMART app launch"),
        ("system/Observation.read system/*.write",
         "client 'lab-feed' holds none of the scopes asked for (system/Observation."
         "read system/*.write); it may ask for: system/Patient.read"),
    ],
)  # fmt: skip
def test_invalid_scope_names_the_scope(db, facility, asked, description):
    new = make_client(facilities=[facility], scopes="system/Patient.read")
    resp = post_token({**GRANT, "scope": asked},
                      headers=basic(new.client.client_id, new.secret))  # fmt: skip
    _assert_error(resp, 400, "invalid_scope", description)
    assert not AccessToken.objects.exists()


# --- revocation -------------------------------------------------------------------


def test_a_revoked_client_gets_invalid_grant_and_revoking_is_audited(lab):
    revoke_client(actor=factories.SYSTEM, client_id=lab.client.client_id)
    assert not ApiClient.objects.get().active
    event = _events("auth.client_revoked")[0]
    assert json.loads(event.detail) == {
        "client_id": lab.client.client_id, "name": "lab-feed",
    }  # fmt: skip
    resp = post_token(GRANT, headers=basic(lab.client.client_id, lab.secret))
    _assert_error(resp, 400, "invalid_grant", "client 'lab-feed' was revoked")
    assert LoginFailure.objects.count() == 1
    with pytest.raises(NotFound, match="no active client with client_id"):
        revoke_client(actor=factories.SYSTEM, client_id=lab.client.client_id)


def test_a_disabled_service_user_gets_invalid_grant(lab):
    lab.client.user.is_active = False
    lab.client.user.save()
    resp = post_token(GRANT, headers=basic(lab.client.client_id, lab.secret))
    _assert_error(resp, 400, "invalid_grant",
                  "the service user 'client:lab-feed' of client 'lab-feed' is "
                  "disabled")  # fmt: skip


def test_smart_configuration_points_at_the_token_endpoint(db):
    resp = Client().get("/fhir/R4/.well-known/smart-configuration")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/json"
    assert resp.json() == {
        "token_endpoint": "http://testserver/oauth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": [
            "system/*.read", "system/*.write", "system/*.rs", "system/*.cruds",
        ],
        "capabilities": [
            "client-confidential-symmetric", "client-confidential-asymmetric",
            "permission-v1", "permission-v2",
        ],
    }  # fmt: skip
