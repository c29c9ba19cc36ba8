"""R-SEC-1 automatic logoff: a session ends after the idle limit; activity renews it."""

from datetime import timedelta

from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from .conftest import signed_in


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_r_sec_1_activity_renews_the_idle_limit(db, him, settings):
    client = signed_in(him)
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=1)
    )
    assert client.get(reverse("web:search")).status_code == 200
    remaining = _session_row(client).expire_date - timezone.now()
    assert timedelta(minutes=14) < remaining <= timedelta(minutes=15)


def test_r_sec_1_an_idle_session_has_ended(db, him):
    client = signed_in(him)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(reverse("web:search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
