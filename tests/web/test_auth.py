"""Sign-in, throttling, TOTP enrolment and second factor, sign-out (R-SEC-1)."""

from __future__ import annotations

import json

import pyotp
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from recordroom.accounts.services import totp_secret
from recordroom.audit.models import AuditEvent
from recordroom.web.middleware import SESSION_MFA_OK, SESSION_PENDING_USER
from tests import factories

from .conftest import PASSWORD

LOGIN = reverse("web:login")


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_password_sign_in_lands_on_search_and_is_audited(db, him):
    client = Client()
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert b'<label for="id_username">User name</label>' in page.content
    response = client.post(LOGIN, {"username": "him1", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:search")
    assert client.session[SESSION_MFA_OK] is True
    [login] = _events("auth.login")
    assert (login.username, login.channel) == ("him1", "web")
    assert json.loads(login.detail) == {"second_factor": False}
    search = client.get(reverse("web:search"))
    assert b"HIM specialist" in search.content  # role in the top bar
    assert b"NORTH" in search.content  # facility scope in the top bar
    assert b'data-idle-minutes="15"' in search.content  # the session-timeout notice
    assert b"Your session ends after 15 minutes without activity." in search.content


def test_next_is_followed_only_within_the_site(db, him, patient):
    chart = reverse("web:chart", kwargs={"patient_id": patient.pk})
    client = Client()
    assert client.get(chart)["Location"] == f"{LOGIN}?next={chart}"
    response = client.post(
        f"{LOGIN}?next={chart}", {"username": "him1", "password": PASSWORD}
    )
    assert response["Location"] == chart
    evil = Client().post(
        LOGIN,
        {"username": "him1", "password": PASSWORD, "next": "https://evil.example/x"},
    )
    assert evil["Location"] == reverse("web:search")


def test_wrong_password_is_refused_with_a_message_and_audited(db, him):
    client = Client()
    response = client.post(LOGIN, {"username": "him1", "password": "wrong password"})
    assert response.status_code == 200
    assert b"The user name or password is not correct." in response.content
    assert "_auth_user_id" not in client.session
    [failed] = _events("auth.login_failed")
    assert (failed.outcome, json.loads(failed.detail)) == (
        "denied",
        {"reason": "bad credentials", "username": "him1"},
    )


def test_repeated_failures_throttle_even_the_right_password(db, him, settings):
    settings.LOGIN_MAX_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post(LOGIN, {"username": "him1", "password": "nope nope nope"})
    response = client.post(LOGIN, {"username": "him1", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed sign-ins for this account from this address" in (
        response.content
    )
    assert "_auth_user_id" not in client.session
    reasons = [json.loads(e.detail)["reason"] for e in _events("auth.login_failed")]
    assert reasons == ["bad credentials"] * 3 + ["throttled"]


@pytest.fixture
def admin(db):
    return factories.user("admin1", "administrator", all_facilities=True)


def test_administrator_enrols_totp_then_signs_in_with_a_code(db, admin):
    client = Client()
    response = client.post(LOGIN, {"username": "admin1", "password": PASSWORD})
    assert response["Location"] == reverse("web:mfa")
    assert "_auth_user_id" not in client.session  # not signed in before the factor
    assert client.session[SESSION_PENDING_USER] == str(admin.pk)
    # The search page is not reachable half-way through.
    assert client.get(reverse("web:search"))["Location"].startswith(LOGIN)

    page = client.get(reverse("web:mfa"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "otpauth://totp/Recordroom:admin1?secret=" in html
    assert "<svg" in html and "<path" in html  # the QR code, inline
    secret = totp_secret(admin)
    assert f"secret={secret}" in html
    # A reload shows the same secret: a mistyped code does not invalidate the scan.
    assert f"secret={secret}" in client.get(reverse("web:mfa")).content.decode()

    wrong = client.post(reverse("web:mfa"), {"code": "000000"})
    assert b"That code is not correct or was already used" in wrong.content
    assert f"secret={secret}" in wrong.content.decode()

    code = pyotp.TOTP(secret).now()
    response = client.post(reverse("web:mfa"), {"code": code})
    # Administrators see no PHI: they land in the admin, and search is refused.
    assert response["Location"] == reverse("admin:index")
    assert client.session[SESSION_MFA_OK] is True
    assert SESSION_PENDING_USER not in client.session
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("web:search")).status_code == 403
    assert [e.username for e in _events("auth.mfa_enrolled")] == ["admin1"]
    [login] = _events("auth.login")
    assert json.loads(login.detail) == {"second_factor": True}

    # Next sign-in: no enrolment shown, and the code already used is refused (replay).
    client.post(reverse("web:logout"))
    client.post(LOGIN, {"username": "admin1", "password": PASSWORD})
    page = client.get(reverse("web:mfa")).content.decode()
    assert "otpauth://" not in page and "<svg" not in page
    replay = client.post(reverse("web:mfa"), {"code": code})
    assert b"already used" in replay.content
    later = pyotp.TOTP(secret).at(timezone.now().timestamp() + 30)
    assert client.post(reverse("web:mfa"), {"code": later})["Location"] == "/admin/"
    assert len(_events("auth.login")) == 2


def test_too_many_wrong_codes_send_the_user_back_to_the_password(db, admin, settings):
    settings.LOGIN_MAX_FAILURES = 2
    client = Client()
    client.post(LOGIN, {"username": "admin1", "password": PASSWORD})
    client.post(reverse("web:mfa"), {"code": "111111"})
    response = client.post(reverse("web:mfa"), {"code": "222222"})
    assert response["Location"] == LOGIN
    assert SESSION_PENDING_USER not in client.session
    assert client.get(reverse("web:mfa"))["Location"] == LOGIN
    # Both wrong codes count as failed sign-ins, so the password is now throttled.
    page = client.post(LOGIN, {"username": "admin1", "password": PASSWORD})
    assert b"Too many failed sign-ins" in page.content


def test_demo_account_shows_the_waiver_banner_on_every_page(db, facility):
    from recordroom.accounts import services as accounts

    user = accounts.create_user(
        actor=factories.SYSTEM, username="demo-admin", role="administrator",
        password=PASSWORD, demo=True,
    )  # fmt: skip
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response["Location"] == reverse("admin:index")  # no second factor asked
    for url in (reverse("admin:index"), reverse("web:search")):
        page = client.get(url)
        assert b"Demo account \xe2\x80\x94 second factor waived" in page.content, url


def test_sign_out_is_audited_and_ends_the_session(db, him):
    client = Client()
    client.post(LOGIN, {"username": "him1", "password": PASSWORD})
    assert client.get(reverse("web:logout")).status_code == 405  # POST only
    response = client.post(reverse("web:logout"))
    assert response["Location"] == LOGIN
    [logout] = _events("auth.logout")
    assert (logout.username, json.loads(logout.detail)) == ("him1", {"reason": "user"})
    assert client.get(reverse("web:search"))["Location"].startswith(LOGIN)
    assert b"You have signed out." in client.get(LOGIN).content


def test_healthz_answers_ok_without_signing_in(db):
    response = Client().get(reverse("web:healthz"))
    assert (response.status_code, response.content) == (200, b"ok")
