"""`authenticate_bearer`: the one check of a FHIR bearer token (a person's API token or
a client's access token), expiry and revocation, and the client named in the audit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from recordroom.accounts.models import AccessToken, ApiClient, LoginFailure
from recordroom.accounts.oauth import Bearer, authenticate_bearer, revoke_client
from recordroom.accounts.services import Throttled, create_token
from recordroom.audit.fhir import to_fhir
from recordroom.audit.models import AuditEvent
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied
from tests import factories

from .oauth_helpers import get_token, make_client

REQUEST = Actor(channel="fhir", client_address="192.0.2.7", request_id="r1")


@pytest.fixture
def lab(db, facility):
    return make_client(facilities=[facility], scopes="system/Patient.read")


def _refused(token: str) -> str:
    with pytest.raises(PermissionDenied) as exc:
        authenticate_bearer(actor=REQUEST, token=token)
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    detail = json.loads(event.detail)
    assert detail["reason"] == exc.value.message and token not in event.detail
    assert event.client_address == "192.0.2.7"
    return exc.value.message


def test_a_persons_api_token_has_no_scopes(him):
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    assert authenticate_bearer(actor=REQUEST, token=token) == Bearer(him, None, None)


def test_an_access_token_speaks_for_the_client_with_its_scopes(lab):
    token = get_token(lab)
    bearer = authenticate_bearer(actor=REQUEST, token=f" {token} ")
    assert bearer == Bearer(
        lab.client.user, ("system/Patient.read",), lab.client.client_id
    )
    actor = bearer.acting(REQUEST)
    assert (actor.username, actor.client_id, actor.scopes, actor.channel) == (
        "client:lab-feed", lab.client.client_id, ("system/Patient.read",), "fhir",
    )  # fmt: skip
    assert actor.role == "HIM specialist" and actor.client_address == "192.0.2.7"


def test_malformed_and_unknown_tokens_are_refused_and_counted(db):
    assert _refused("garbage") == (
        "the bearer token is malformed; send an API token (rr_...) or an access "
        "token from /oauth/token (rrat_...)"
    )
    assert _refused("rrat_not-issued") == "the access token is not valid"
    assert LoginFailure.objects.filter(client_address="192.0.2.7").count() == 2
    methods = {
        json.loads(e.detail)["method"]
        for e in AuditEvent.objects.filter(action="auth.login_failed")
    }
    assert methods == {"oauth access token"}


def test_an_expired_access_token_says_when_it_expired(lab):
    token = get_token(lab)
    expired = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
    AccessToken.objects.update(expires_at=expired)
    assert _refused(token) == (
        f"the access token expired at {expired:%Y-%m-%d %H:%M:%S} UTC; get a new "
        "one from /oauth/token"
    )


def test_revoking_the_client_stops_its_tokens_at_once(lab):
    token = get_token(lab)
    revoke_client(actor=factories.SYSTEM, client_id=lab.client.client_id)
    assert _refused(token) == "client 'lab-feed' was revoked"


def test_narrowing_the_client_narrows_the_tokens_it_holds(db, facility):
    new = make_client(facilities=[facility],
                      scopes="system/Patient.read system/Encounter.read")  # fmt: skip
    token = get_token(new)
    ApiClient.objects.update(scopes="system/Patient.r")
    bearer = authenticate_bearer(actor=REQUEST, token=token)
    assert bearer.scopes == ("system/Patient.r",)


def test_a_throttled_address_is_refused_wrong_tokens_but_not_a_valid_one(lab, settings):
    settings.LOGIN_MAX_FAILURES = 1
    token = get_token(lab)
    for _ in range(4):
        _refused("rrat_wrong")
    with pytest.raises(Throttled) as exc:
        authenticate_bearer(actor=REQUEST, token="rrat_wrong")
    assert exc.value.retry_after == settings.LOGIN_LOCKOUT_MINUTES * 60
    assert authenticate_bearer(actor=REQUEST, token=token).client_id


def test_audit_rows_name_the_client_as_an_application_agent(lab, patient):
    actor = authenticate_bearer(actor=REQUEST, token=get_token(lab)).acting(REQUEST)
    event = record(actor=actor, action=actions.CHART_OPEN.name, patient=patient,
                   detail={"fhir": f"Patient/{patient.pk}"})  # fmt: skip
    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.username, event.user_id, event.role) == (
        "client:lab-feed", str(lab.client.user.pk), "HIM specialist",
    )  # fmt: skip
    assert json.loads(event.detail) == {
        "fhir": f"Patient/{patient.pk}", "client_id": lab.client.client_id,
    }  # fmt: skip
    agent = to_fhir(event)["agent"][0]
    assert agent["type"]["coding"][0]["code"] == "110150"  # Application
    assert agent["who"]["display"] == "client:lab-feed"
