"""Fixtures for the web pages: signed-in clients, a chart with an encounter and a PDF."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, register_patient
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
def chart_patient(db, facility):
    """A patient with history: a previous name, SSN, an old address."""
    return register_patient(
        actor=factories.SYSTEM,
        data=PatientIn(
            names=[
                NameIn(family="Okafor", given="Adaeze", middle="N"),
                NameIn(
                    family="Eze",
                    given="Adaeze",
                    use="previous",
                    period_start=date(1990, 1, 1),
                    period_end=date(2015, 6, 20),
                ),
            ],
            birth_date=date(1990, 1, 1),
            sex="female",
            identifiers=[
                IdentifierIn(kind="MR", value="N200777", facility=facility),
                IdentifierIn(kind="SS", value="123-45-6789"),
            ],
            addresses=[
                {"line1": "40 Harbor Rd", "city": "Salem", "state": "MA",
                 "postal_code": "01970"},
                {"line1": "9 Old Mill Ln", "city": "Lowell", "state": "MA",
                 "postal_code": "01850", "period_start": date(2010, 1, 1),
                 "period_end": date(2019, 3, 31)},
            ],
            telecoms=[{"system": "phone", "use": "mobile", "value": "978-555-0142"}],
            is_vip=True,
        ),
    )  # fmt: skip


@pytest.fixture
def encounter(db, chart_patient, facility):
    return factories.encounter(
        patient=chart_patient, facility=facility, account="V900123", cls="IMP"
    )


@pytest.fixture
def pdf_document(db, chart_patient, facility, encounter):
    return factories.document(
        patient=chart_patient,
        facility=facility,
        encounter=encounter,
        text="Discharge summary for Adaeze Okafor",
        sensitivity=["HIV"],
    )
