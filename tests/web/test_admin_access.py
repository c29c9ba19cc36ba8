"""Opening /admin/ as someone who may not use it: a clear refusal, never a loop."""

from __future__ import annotations

from django.test import Client

from tests import factories
from tests.web.conftest import signed_in


def test_a_non_administrator_opening_admin_gets_a_403_page_not_a_redirect_loop(db):
    him = factories.user("him-admin-try", "him_specialist", all_facilities=True)
    client = signed_in(him)

    first = client.get("/admin/")
    assert first.status_code == 302  # the admin sends non-staff to its sign-in
    page = client.get(first["Location"])
    assert page.status_code == 403
    html = page.content.decode()
    assert "administration pages are for administrators" in html
    assert "him-admin-try" in html
    assert 'href="/"' in html or "Back to patient search" in html


def test_a_visitor_opening_admin_is_sent_to_sign_in_with_admin_as_next(db):
    first = Client().get("/admin/")
    follow = Client().get(first["Location"])
    assert follow.status_code == 302
    assert follow["Location"] == "/login?next=/admin/"


def test_an_administrator_still_reaches_admin(db):
    admin = factories.user("admin-ok", "administrator", all_facilities=True)
    assert signed_in(admin).get("/admin/").status_code == 200


def test_the_refusal_is_audited_as_a_refused_attempt(db):
    from recordroom.audit.models import AuditEvent

    him = factories.user("him-admin-audit", "him_specialist", all_facilities=True)
    client = signed_in(him)
    client.get(client.get("/admin/")["Location"])
    event = AuditEvent.objects.filter(action="access.denied").latest("id")
    assert (event.username, event.outcome) == ("him-admin-audit", "denied")
