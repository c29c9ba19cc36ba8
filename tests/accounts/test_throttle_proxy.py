"""Throttling behind a TLS proxy: the real client's address, failures counted per
account and per address, and never a valid credential refused for someone else's
failures (R-SEC-1 log-in monitoring)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from recordroom.accounts.oauth import authenticate_bearer
from recordroom.accounts.services import create_token, sign_in
from recordroom.audit.models import AuditEvent
from recordroom.kernel.actor import Actor
from tests import factories

from .oauth_helpers import basic, get_token, make_client, post_token

PASSWORD = "correct horse battery 9"
PROXY = "10.0.0.5"  # the TLS proxy every client comes through


def _bad_tokens(address: str, count: int, **extra: str) -> None:
    for _ in range(count):
        response = Client(REMOTE_ADDR=address, **extra).get(
            "/api/v1/me", headers={"Authorization": "Bearer rr_deadbeef_wrong"}
        )
        assert response.status_code in (401, 429)


def _me(token: str, address: str, **extra: str):
    return Client(REMOTE_ADDR=address, **extra).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture
def strict(settings):
    settings.LOGIN_MAX_FAILURES = 1  # an address may fail 4 times
    settings.LOGIN_LOCKOUT_MINUTES = 15
    return settings


# --- a valid credential is never refused for someone else's failures ---------------


def test_r_sec_1_a_valid_api_token_works_from_an_address_full_of_failures(him, strict):
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    _bad_tokens("10.9.9.9", 6)
    for name in ("a", "b", "c", "d"):
        sign_in(actor=Actor(channel="web", client_address="10.9.9.9"),
                username=name, password="wrong")  # fmt: skip
    assert _me(token, "10.9.9.9").status_code == 200
    fhir = Client(REMOTE_ADDR="10.9.9.9").get(
        "/fhir/R4/Patient", headers={"Authorization": f"Bearer {token}"}
    )
    assert fhir.status_code == 200
    # A wrong one from that address is still refused, now with 429 and Retry-After.
    refused = Client(REMOTE_ADDR="10.9.9.9").get(
        "/api/v1/me", headers={"Authorization": "Bearer rr_deadbeef_wrong"}
    )
    assert refused.status_code == 429 and refused["Retry-After"] == "900"


def test_r_sec_1_a_valid_oauth_client_and_its_token_work_from_a_locked_out_address(
    db, facility, strict
):
    lab = make_client(facilities=[facility])
    wrong = basic(lab.client.client_id, "wrong")
    assert [post_token({"grant_type": "client_credentials"}, headers=wrong)
            .status_code for _ in range(5)] == [401] * 4 + [429]  # fmt: skip
    token = get_token(lab)  # the right secret from the same address
    bearer = authenticate_bearer(
        actor=Actor(channel="fhir", client_address="127.0.0.1"), token=token
    )
    assert bearer.client_id == lab.client.client_id


def test_r_sec_1_other_peoples_failures_do_not_refuse_a_right_password(him, strict):
    here = Actor(channel="web", client_address="10.9.9.9")
    for name in ("a", "b", "c", "d", "e"):
        sign_in(actor=here, username=name, password="wrong")
    result = sign_in(actor=here, username=him.username, password=PASSWORD)
    assert (result.user, result.error) == (him, "")


def test_r_sec_1_an_account_attacked_from_elsewhere_still_signs_in_from_home(
    him, settings
):
    settings.LOGIN_MAX_FAILURES = 2  # 8 across addresses mark the account
    for n in range(8):
        sign_in(actor=Actor(channel="web", client_address=f"192.0.2.{n}"),
                username=him.username, password="wrong")  # fmt: skip
    home = Actor(channel="web", client_address="10.1.1.1")
    guess = sign_in(actor=home, username=him.username, password="still wrong")
    assert guess.user is None and "many failed sign-ins" in guess.error
    result = sign_in(actor=home, username=him.username, password=PASSWORD)
    assert (result.user, result.error) == (him, "")


def test_r_sec_1_own_failures_from_one_address_lock_that_account_there(him, settings):
    settings.LOGIN_MAX_FAILURES = 3
    here = Actor(channel="web", client_address="10.9.9.9")
    for _ in range(3):
        sign_in(actor=here, username=him.username, password="wrong")
    refused = sign_in(actor=here, username=him.username, password=PASSWORD)
    assert refused.user is None and "Too many failed sign-ins" in refused.error
    elsewhere = Actor(channel="web", client_address="10.1.1.1")
    assert sign_in(actor=elsewhere, username=him.username, password=PASSWORD).user


# --- the real client address behind a trusted proxy --------------------------------


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(him, strict):
    strict.TRUSTED_PROXIES = ("10.0.0.0/8",)
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    _bad_tokens(PROXY, 5, HTTP_X_FORWARDED_FOR="198.51.100.66")
    assert _me("rr_deadbeef_wrong", PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")\
        .status_code == 429  # fmt: skip
    # Another client behind the same proxy is not throttled.
    assert _me("rr_deadbeef_wrong", PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")\
        .status_code == 401  # fmt: skip
    ok = _me(token, PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert ok.status_code == 200
    addresses = set(AuditEvent.objects.values_list("client_address", flat=True))
    assert addresses == {"198.51.100.66", "198.51.100.7", ""}


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # The right-most hop not a trusted proxy is the client; what it claims is not.
        ("10.0.0.5", "203.0.113.1, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
        ("10.0.0.5", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.5", "", "10.0.0.5"),
        ("10.0.0.5", "not-an-address", "10.0.0.5"),
        # Only the listed proxy may speak for others: a client's own header is ignored.
        ("198.51.100.9", "203.0.113.1", "198.51.100.9"),
        ("2001:db8::1", "203.0.113.1", "2001:db8::1"),
    ],
)
def test_audit_rows_record_the_real_client_address(
    db, settings, peer, forwarded, client
):
    settings.TRUSTED_PROXIES = ("10.0.0.0/8", "127.0.0.1")
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    _me("rr_deadbeef_wrong", peer, **extra)
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.client_address == client


def test_without_trusted_proxies_the_forwarded_header_is_ignored(db, settings):
    settings.TRUSTED_PROXIES = ()
    _me("rr_deadbeef_wrong", PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert AuditEvent.objects.get().client_address == PROXY


def test_oauth_and_fhir_record_the_real_client_address(db, facility, settings):
    settings.TRUSTED_PROXIES = ("10.0.0.0/8",)
    lab = make_client(facilities=[facility])
    Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7").post(
        "/oauth/token", data="grant_type=client_credentials",
        content_type="application/x-www-form-urlencoded",
        headers=basic(lab.client.client_id, "wrong"),
    )  # fmt: skip
    Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8").get(
        "/fhir/R4/Patient", headers={"Authorization": "Bearer rrat_wrong"}
    )
    failed = AuditEvent.objects.filter(action="auth.login_failed").order_by("id")
    assert [(e.client_address, json.loads(e.detail)["method"]) for e in failed] == [
        ("198.51.100.7", "oauth client"), ("198.51.100.8", "oauth access token"),
    ]  # fmt: skip
