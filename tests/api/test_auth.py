"""Who may call the API: bearer tokens, the web session (with CSRF), the docs (R-SEC-1)."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from recordroom.accounts.models import ApiToken, LoginFailure
from recordroom.accounts.services import create_token, revoke_token, sign_in
from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from recordroom.web.middleware import SESSION_MFA_OK
from tests import factories

from .conftest import Api, api_for


def test_valid_token_reaches_me_with_roles_facilities_and_capabilities(him, facility):
    response = api_for(him).get("/me")
    assert response.status_code == 200
    assert response.json() == {
        "username": "him1",
        "roles": ["HIM specialist"],
        "facilities": ["NORTH"],
        "all_facilities": False,
        "capabilities": [
            "search_patients", "view_chart", "view_document", "add_document",
            "edit_demographics", "change_document_status", "view_interfaces",
            "reprocess_messages", "manage_identity", "index_documents",
            "move_documents", "print_cover_sheets", "capture_documents",
            "complete_charts", "raise_queries",
        ],
    }  # fmt: skip


def test_no_credentials_is_401_saying_how_to_authenticate(db):
    response = Api().get("/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"] == "unauthenticated"
    assert "Authorization: Bearer" in body["message"]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("garbage", "malformed"),
        ("rr_nothing", "malformed"),
        ("rr_deadbeef_not-a-real-secret", "not valid"),
    ],
)
def test_bad_tokens_are_401_with_the_reason_and_audited(db, token, reason):
    response = Api(token).get("/me")
    assert response.status_code == 401
    assert reason in response.json()["message"]
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.channel) == (
        "auth.login_failed", "denied", "api",
    )  # fmt: skip
    assert reason in event.detail and token not in event.detail


def test_a_token_with_a_wrong_secret_is_refused(him):
    row, token = create_token(actor=factories.SYSTEM, username=him.username)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = Api(forged).get("/me")
    assert (response.status_code, response.json()["message"]) == (
        401, "the API token is not valid",
    )  # fmt: skip


def test_revoked_token_is_401_naming_it(him):
    row, token = create_token(actor=factories.SYSTEM, username=him.username)
    revoke_token(actor=factories.SYSTEM, prefix=row.prefix)
    response = Api(token).get("/me")
    assert response.status_code == 401
    assert response.json()["message"] == f"the API token {row.prefix}… was revoked"


def test_expired_token_is_401_with_its_date(him):
    row, token = create_token(actor=factories.SYSTEM, username=him.username, days=1)
    yesterday = timezone.now() - timedelta(days=1)
    ApiToken.objects.filter(pk=row.pk).update(expires_at=yesterday)
    response = Api(token).get("/me")
    assert response.status_code == 401
    assert f"expired on {yesterday:%Y-%m-%d}" in response.json()["message"]


def test_token_of_a_disabled_user_is_refused(him):
    api = api_for(him)
    him.is_active = False
    him.save()
    response = api.get("/me")
    assert (response.status_code, response.json()["message"]) == (
        401, "user 'him1' is disabled",
    )  # fmt: skip


def test_session_of_a_signed_in_user_reads_json(him, patient):
    client = Client()
    client.force_login(him)
    response = Api(client=client).get("/patients", name="nunez")
    assert response.status_code == 200
    assert [p["id"] for p in response.json()["items"]] == [str(patient.pk)]


def test_session_writes_need_the_csrf_token(him, facility):
    client = Client(enforce_csrf_checks=True)
    client.force_login(him)
    body = {"names": [{"family": "Lindqvist", "given": "Maja"}]}
    refused = Api(client=client).post("/patients", body)
    assert refused.status_code == 403
    assert refused.json()["error"] == "csrf_failed"
    assert "X-CSRFToken" in refused.json()["message"]
    secret = "k" * 32
    client.cookies["csrftoken"] = secret
    api = Api(client=client)
    api.headers = {"X-CSRFToken": secret}
    assert api.post("/patients", body).status_code == 201


def test_bearer_requests_need_no_csrf_token(him, facility):
    api = api_for(him)
    api.client = Client(enforce_csrf_checks=True)
    body = {"names": [{"family": "Lindqvist", "given": "Maja"}]}
    assert api.post("/patients", body).status_code == 201


def test_session_without_its_required_second_factor_is_refused(db):
    admin = factories.user("admin1", "administrator")
    client = Client()
    client.force_login(admin)
    response = Api(client=client).get("/me")
    assert response.status_code == 401
    assert "second factor" in response.json()["message"]
    session = client.session
    session[SESSION_MFA_OK] = True
    session.save()
    assert Api(client=client).get("/me").status_code == 200


def test_an_anonymous_session_is_401_not_a_csrf_error(db):
    response = Api(client=Client(enforce_csrf_checks=True)).post("/patients", {})
    assert response.status_code == 401


def test_openapi_docs_and_schema_are_served_with_each_routes_capability(db):
    client = Client()
    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    search = schema["paths"]["/api/v1/patients"]["get"]
    assert search["x-capability"] == "search_patients"
    assert "Requires: Search the patient index" in search["description"]
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


# --- throttling failed token sign-ins (R-SEC-1 log-in attempts) ---------------------------


def _from(address: str, token: str) -> Api:
    return Api(token, client=Client(REMOTE_ADDR=address))


def test_an_address_sending_bad_tokens_is_throttled_with_429_and_retry_after(
    him, settings
):
    settings.LOGIN_MAX_FAILURES = 1  # an address may fail 4 times
    settings.LOGIN_LOCKOUT_MINUTES = 15
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    for _ in range(4):
        bad = _from("10.9.9.9", "rr_deadbeef_not-a-real-secret").get("/me")
        assert bad.status_code == 401
    refused = _from("10.9.9.9", "rr_deadbeef_not-a-real-secret").get("/me")
    assert refused.status_code == 429
    assert refused["Retry-After"] == "900"
    assert refused.json() == {
        "error": "throttled", "field": None,
        "message": "too many failed sign-ins from address 10.9.9.9; try again in 15 "
                   "minutes or ask an administrator",
    }  # fmt: skip
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome, event.client_address) == (
        "auth.login_failed", "denied", "10.9.9.9",
    )  # fmt: skip
    assert json.loads(event.detail) == {"method": "api token", "reason": "throttled"}
    assert _from("10.9.9.10", "garbage").get("/me").status_code == 401
    # A valid token is never refused for others' failures (R-SEC-1).
    assert _from("10.9.9.9", token).get("/me").status_code == 200


def test_the_lockout_passes(him, settings):
    settings.LOGIN_MAX_FAILURES = 1
    for _ in range(4):
        _from("10.9.9.9", "garbage").get("/me")
    assert _from("10.9.9.9", "garbage").get("/me").status_code == 429
    earlier = timezone.now() - timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    LoginFailure.objects.update(at=earlier)
    assert _from("10.9.9.9", "garbage").get("/me").status_code == 401


def test_failed_password_sign_ins_count_toward_the_same_address_lockout(him, settings):
    settings.LOGIN_MAX_FAILURES = 1
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    actor = Actor(channel="web", client_address="10.9.9.9")
    for name in ("a", "b", "c", "d"):
        sign_in(actor=actor, username=name, password="wrong")
    assert _from("10.9.9.9", "garbage").get("/me").status_code == 429
    assert _from("10.9.9.9", token).get("/me").status_code == 200


def test_a_revoked_token_does_not_lock_its_owner_out_of_password_sign_in(him, settings):
    settings.LOGIN_MAX_FAILURES = 1
    row, token = create_token(actor=factories.SYSTEM, username=him.username)
    revoke_token(actor=factories.SYSTEM, prefix=row.prefix)
    assert _from("10.9.9.9", token).get("/me").status_code == 401
    result = sign_in(
        actor=Actor(channel="web", client_address="10.1.1.1"),
        username=him.username, password="correct horse battery 9",
    )  # fmt: skip
    assert (result.user, result.error) == (him, "")
