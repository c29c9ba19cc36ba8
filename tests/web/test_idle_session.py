"""R-SEC-1 automatic logoff: a session ended by the idle limit is audited, with the user
it belonged to, on the request that finds it ended (issue 10)."""

import json
from datetime import timedelta

from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from tests.web.conftest import signed_in


def _idle(client, minutes):
    """What `minutes` without a request leave behind: the session's expiry passed."""
    key = client.cookies["sessionid"].value
    age = timedelta(minutes=15)
    Session.objects.filter(pk=key).update(
        expire_date=timezone.now() - timedelta(minutes=minutes) + age
    )


def test_r_sec_1_an_idle_session_end_is_audited_once_with_its_user(db, him):
    client = signed_in(him)
    assert client.get(reverse("web:search")).status_code == 200
    _idle(client, 16)
    page = client.get(reverse("web:search"))
    assert page.status_code == 302 and "/login" in page["Location"]
    (event,) = AuditEvent.objects.filter(action="auth.session_expired")
    assert (event.username, event.user_id) == ("him1", str(him.pk))
    detail = json.loads(event.detail)
    assert detail["idle_minutes"] == 15 and detail["rule"] == "R-SEC-1"
    client.get(reverse("web:search"))
    assert AuditEvent.objects.filter(action="auth.session_expired").count() == 1


def test_r_sec_1_an_active_session_is_not_ended(db, him):
    client = signed_in(him)
    _idle(client, 14)
    assert client.get(reverse("web:search")).status_code == 200
    assert not AuditEvent.objects.filter(action="auth.session_expired").exists()
