"""SMART Backend Services: a client registered with its public keys signs a
`private_key_jwt` assertion (RS384 or ES384), gets a token and reads FHIR with it;
every assertion that fails a check of the spec is refused as invalid_client, counted
and audited (R-SEC-4 entity authentication, R-SEC-2 audit)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone

from recordroom.accounts.models import (
    AccessToken,
    ApiClient,
    LoginFailure,
    UsedAssertion,
)
from recordroom.accounts.oauth import create_client, set_client_jwks
from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import NotFound, ValidationFailed
from tests import factories
from tests.web.conftest import signed_in

from .oauth_helpers import basic, make_client, post_token
from .smart_keys import TOKEN_URL, assertion, assertion_form, jwks, make_key

RSA_KEY = make_key("RS384")
EC_KEY = make_key("ES384")
KEYS = {"RS384": RSA_KEY, "ES384": EC_KEY}


def _keyed_client(facility, *keys, scopes="system/Patient.rs"):
    return create_client(
        actor=factories.SYSTEM,
        name="pop-health",
        role="him_specialist",
        scopes=scopes,
        facility_codes=[facility.code],
        jwks=jwks(*(keys or (RSA_KEY, EC_KEY))),
    )


@pytest.fixture
def keyed(db, facility):
    return _keyed_client(facility).client


def _refused(resp, description: str) -> None:
    assert resp.status_code == 401, resp.content
    body = resp.json()
    assert body["error"] == "invalid_client"
    assert description in body["error_description"], body["error_description"]
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_r_sec_4_a_signed_assertion_gets_a_token_that_reads_fhir(keyed, patient, alg):
    signed = assertion(KEYS[alg], keyed.client_id)
    resp = post_token(assertion_form(signed, "system/Patient.read"))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["token_type"] == "bearer" and body["scope"] == "system/Patient.read"
    read = Client().get(f"/fhir/R4/Patient/{patient.pk}",
                        headers={"Authorization": f"Bearer {body['access_token']}"})  # fmt: skip
    assert read.status_code == 200, read.content
    assert read.json()["name"][0]["family"] == "Núñez"
    event = AuditEvent.objects.get(action="auth.client_token")
    assert event.username == "client:pop-health" and event.outcome == "success"
    detail = json.loads(event.detail)
    assert (detail["auth"], detail["kid"], detail["alg"]) == (
        "private_key_jwt", KEYS[alg].kid, alg,
    )  # fmt: skip
    assert detail["scope"] == "system/Patient.read"
    assert not AuditEvent.objects.filter(detail__contains=signed[-20:]).exists()


def test_a_client_registered_with_keys_has_no_secret(db, facility):
    new = _keyed_client(facility)
    assert new.secret == "" and new.client.secret_digest == ""
    assert json.loads(new.client.jwks)["keys"][0]["kid"] == "rs384-key-1"
    created = json.loads(AuditEvent.objects.get(action="auth.client_created").detail)
    assert created["kids"] == ["rs384-key-1", "es384-key-1"]
    resp = post_token({"grant_type": "client_credentials"},
                      headers=basic(new.client.client_id, ""))  # fmt: skip
    _refused(resp, "client authentication is required")
    resp = post_token({"grant_type": "client_credentials"},
                      headers=basic(new.client.client_id, "guess"))  # fmt: skip
    _refused(resp, "client 'pop-health' has no secret; it authenticates with a "
             "signed assertion (private_key_jwt)")  # fmt: skip


def _hs256_with_public_key(client_id: str) -> str:
    """The classic key-confusion attack: HMAC keyed with the public key's PEM."""
    pem = RSA_KEY.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "kid": RSA_KEY.kid}).encode())
    claims = b64(json.dumps({"iss": client_id, "sub": client_id, "aud": TOKEN_URL,
                             "exp": int(time.time()) + 60, "jti": "hs"}).encode())  # fmt: skip
    signature = b64(hmac.new(pem, header + b"." + claims, hashlib.sha256).digest())
    return (header + b"." + claims + b"." + signature).decode()


def _unsigned(client_id: str) -> str:
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL,
              "exp": int(time.time()) + 60, "jti": "none"}  # fmt: skip
    return jwt.encode(claims, None, algorithm="none", headers={"kid": RSA_KEY.kid})


OTHER_EC = make_key("ES384", kid=EC_KEY.kid)  # same kid, a key never registered


@pytest.mark.parametrize(
    ("make", "description"),
    [
        (lambda cid: assertion(RSA_KEY, cid, aud="https://elsewhere.example/token"),
         "the assertion's aud 'https://elsewhere.example/token' is not this token "
         "endpoint; set aud to http://testserver/oauth/token"),
        (lambda cid: assertion(EC_KEY, cid, lifetime=-10),
         "the assertion expired at"),
        (lambda cid: assertion(EC_KEY, cid, lifetime=3600),
         "seconds ahead; it may be at most 300 (5 minutes)"),
        (_unsigned,
         "the assertion is signed with alg 'none'; sign it with RS384 or ES384"),
        (_hs256_with_public_key,
         "the assertion is signed with alg 'HS256'; sign it with RS384 or ES384"),
        (lambda cid: assertion(RSA_KEY, cid, headers={"kid": "retired-2025"}),
         "client 'pop-health' has no key with kid 'retired-2025' (its keys: "
         "rs384-key-1, es384-key-1)"),
        (lambda cid: assertion(OTHER_EC, cid),
         "the assertion's signature does not verify with key 'es384-key-1' of "
         "client 'pop-health'"),
        (lambda cid: assertion(EC_KEY, cid, headers={"kid": RSA_KEY.kid}),
         "key 'rs384-key-1' of client 'pop-health' is an RSA key; it cannot verify "
         "ES384"),
        (lambda cid: assertion(RSA_KEY, cid, sub="someone-else"),
         "the assertion's sub 'someone-else' differs from its iss"),
        (lambda cid: assertion(RSA_KEY, "rrc_nobody"),
         "no client has client_id 'rrc_nobody' (the assertion's iss)"),
        (lambda cid: assertion(RSA_KEY, cid, jti=""),
         "the assertion needs a jti"),
        (lambda cid: assertion(RSA_KEY, cid, aud="https://" + "a" * 300),
         "the assertion's aud 'https://" + "a" * 69 + "...' is not this token"),
        (lambda cid: assertion(RSA_KEY, cid, exp="tomorrow"),
         "the assertion has no numeric exp"),
        (lambda cid: assertion(RSA_KEY, cid, exp=float("inf")),
         "the assertion has no numeric exp"),
        (lambda cid: assertion(RSA_KEY, cid, nbf=int(time.time()) + 600),
         "the assertion is not valid yet (nbf is in the future)"),
        (lambda cid: "not.a.jwt", "client_assertion is not a signed JWT"),
    ],
)  # fmt: skip
def test_r_sec_4_assertions_failing_a_check_are_refused_and_audited(
    keyed, make, description
):
    resp = post_token(assertion_form(make(keyed.client_id)), address="192.0.2.9")
    _refused(resp, description)
    assert LoginFailure.objects.get().client_address == "192.0.2.9"
    failed = json.loads(AuditEvent.objects.get(action="auth.login_failed").detail)
    assert failed["method"] == "oauth client"
    assert description in failed["reason"]


def test_r_sec_4_a_replayed_jti_is_refused_until_it_expires(keyed):
    signed = assertion(RSA_KEY, keyed.client_id, jti="once-only")
    assert post_token(assertion_form(signed)).status_code == 200
    used = UsedAssertion.objects.get()
    assert used.jti == "once-only" and used.client == keyed
    assert (
        timedelta(minutes=3) < used.expires_at - timezone.now() <= timedelta(minutes=4)
    )
    AccessToken.objects.all().delete()
    again = post_token(assertion_form(signed))
    _refused(again, "the assertion's jti 'once-only' was already used; sign each "
             "assertion with a new jti")  # fmt: skip
    # A new assertion reusing the jti is a replay too; another jti is not.
    resigned = assertion(EC_KEY, keyed.client_id, jti="once-only")
    _refused(post_token(assertion_form(resigned)), "was already used")
    fresh = assertion(EC_KEY, keyed.client_id, jti="second")
    assert post_token(assertion_form(fresh)).status_code == 200
    # Spent jtis are kept only until their assertion expires.
    UsedAssertion.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    third = assertion(EC_KEY, keyed.client_id, jti="third")
    assert post_token(assertion_form(third)).status_code == 200
    assert list(UsedAssertion.objects.values_list("jti", flat=True)) == ["third"]


@pytest.mark.parametrize(
    ("form", "headers", "error", "description"),
    [
        ({"client_assertion_type": "urn:example:saml"}, {}, "invalid_client",
         "client_assertion_type 'urn:example:saml' is not supported; send "
         "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
        ({"client_secret": "s"}, {}, "invalid_request", "not both"),
        ({}, "basic", "invalid_request", "not both"),
        ({"client_id": "rrc_other"}, {}, "invalid_client",
         "client_id 'rrc_other' differs from the assertion's iss"),
    ],
)  # fmt: skip
def test_an_assertion_comes_alone_and_typed(keyed, form, headers, error, description):
    signed = assertion(RSA_KEY, keyed.client_id)
    if headers == "basic":
        headers = basic(keyed.client_id, "x")
    resp = post_token({**assertion_form(signed), **form}, headers=headers)
    assert resp.json()["error"] == error
    assert description in resp.json()["error_description"]
    assert not AccessToken.objects.exists()


def test_a_revoked_keyed_client_gets_invalid_grant(keyed):
    ApiClient.objects.filter(pk=keyed.pk).update(active=False)
    resp = post_token(assertion_form(assertion(RSA_KEY, keyed.client_id)))
    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"
    assert "client 'pop-health' was revoked" in resp.json()["error_description"]


def test_keys_set_on_a_secret_client_work_beside_its_secret(db, facility):
    lab = make_client(facilities=[facility])
    unkeyed = post_token(assertion_form(assertion(RSA_KEY, lab.client.client_id)))
    _refused(unkeyed, "client 'lab-feed' has no registered public keys; "
             "authenticate with its secret")  # fmt: skip
    set_client_jwks(actor=factories.SYSTEM, client_id=lab.client.client_id,
                    jwks=jwks(EC_KEY))  # fmt: skip
    keyed = post_token(assertion_form(assertion(EC_KEY, lab.client.client_id)))
    assert keyed.status_code == 200, keyed.content
    by_secret = post_token({"grant_type": "client_credentials"},
                           headers=basic(lab.client.client_id, lab.secret))  # fmt: skip
    assert by_secret.status_code == 200
    event = AuditEvent.objects.get(action="auth.client_keys")
    assert json.loads(event.detail) == {
        "client_id": lab.client.client_id, "name": "lab-feed",
        "kids": ["es384-key-1"], "replaced_kids": [],
    }  # fmt: skip
    set_client_jwks(actor=factories.SYSTEM, client_id=lab.client.client_id,
                    jwks=jwks(RSA_KEY))  # fmt: skip
    AccessToken.objects.all().delete()
    rotated = post_token(assertion_form(assertion(EC_KEY, lab.client.client_id)))
    _refused(rotated, "has no key with kid 'es384-key-1' (its keys: rs384-key-1)")
    with pytest.raises(NotFound, match="no active client with client_id 'rrc_x'"):
        set_client_jwks(actor=factories.SYSTEM, client_id="rrc_x", jwks=jwks(EC_KEY))


def _p256_jwk() -> dict:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key)), "kid": "p256"}


def _private_jwk() -> dict:
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.private))
    return {**jwk, "kid": "oops"}


def _small_rsa_jwk() -> dict:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    return {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key)), "kid": "small"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "the JWKS is not JSON"),
        (json.dumps(RSA_KEY.public_jwk), "this is a single key; register a key set"),
        ('{"keys": []}', 'the JWKS needs a non-empty "keys" array'),
        (json.dumps({"keys": [{**RSA_KEY.public_jwk, "kid": ""}]}),
         "key 1 of the JWKS has no kid"),
        (json.dumps({"keys": [RSA_KEY.public_jwk, RSA_KEY.public_jwk]}),
         "two keys have kid 'rs384-key-1'"),
        (json.dumps({"keys": [_private_jwk()]}),
         "key 1 of the JWKS ('oops') holds private key material (d); register the "
         "public key only"),
        (json.dumps({"keys": [{"kty": "oct", "kid": "h", "alg": "HS256"}]}),
         "('h') has kty 'oct'; use RSA (RS384) or EC P-384 (ES384)"),
        (json.dumps({"keys": [_p256_jwk()]}),
         "('p256') is on curve 'P-256'; ES384 needs P-384"),
        (json.dumps({"keys": [{**RSA_KEY.public_jwk, "alg": "RS256"}]}),
         "declares alg 'RS256'; an RSA key signs RS384"),
        (json.dumps({"keys": [_small_rsa_jwk()]}),
         "('small') has 1024 bits; use at least 2048"),
        (json.dumps({"keys": [{"kty": "RSA", "kid": "broken", "n": "AQAB"}]}),
         "('broken') is not a usable RSA public key"),
    ],
)  # fmt: skip
def test_a_jwks_to_register_is_checked_naming_the_key(db, facility, text, message):
    lab = make_client(facilities=[facility])
    with pytest.raises(ValidationFailed) as exc:
        set_client_jwks(actor=factories.SYSTEM, client_id=lab.client.client_id,
                        jwks=text)  # fmt: skip
    assert message in exc.value.message
    assert ApiClient.objects.get().jwks == ""
    assert not AuditEvent.objects.filter(action="auth.client_keys").exists()


def test_the_capability_statement_names_the_token_endpoint(db):
    resp = Client().get("/fhir/R4/metadata")
    security = resp.json()["rest"][0]["security"]
    assert security["extension"] == [{
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [{"url": "token", "valueUri": "http://testserver/oauth/token"}],
    }]  # fmt: skip
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"


def test_the_admin_shows_a_clients_keys_read_only(keyed):
    admin = factories.user("chief", "administrator")
    page = signed_in(admin).get(f"/admin/accounts/apiclient/{keyed.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "rs384-key-1" in text and "es384-key-1" in text
    assert 'name="jwks"' not in text  # replaced only by `client set-jwks`
