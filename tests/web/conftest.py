"""Fixtures for the web pages: signed-in clients, a chart with an encounter and a PDF."""

from __future__ import annotations

import pytest
from django.test import Client

from recordroom.web.middleware import SESSION_MFA_OK
from tests import factories

PASSWORD = "correct horse battery 9"


def signed_in(user) -> Client:
    """A client with a session for `user`, second factor passed."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_MFA_OK] = True
    session.save()
    return client


@pytest.fixture
def him_client(him) -> Client:
    return signed_in(him)


@pytest.fixture
def pdf_document(db, chart_patient, facility, encounter):
    return factories.document(
        patient=chart_patient,
        facility=facility,
        encounter=encounter,
        text="Discharge summary for Adaeze Okafor",
        sensitivity=["HIV"],
    )
