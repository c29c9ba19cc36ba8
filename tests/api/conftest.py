"""Fixtures for the JSON API: token-authenticated clients and a chart with history."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from recordroom.accounts.services import create_token
from recordroom.mpi.services import IdentifierIn, NameIn, PatientIn, register_patient
from tests import factories

BASE = "/api/v1"


class Api:
    """A test client speaking to /api/v1 with a bearer token (or a session)."""

    def __init__(self, token: str | None = None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, **params: Any):
        return self.client.get(BASE + path, data=params, headers=self.headers)

    def post(self, path: str, body: Any = None, *, raw: str | None = None):
        content = raw if raw is not None else json.dumps(body)
        return self.client.post(
            BASE + path, data=content, content_type="application/json",
            headers=self.headers,
        )  # fmt: skip

    def upload(self, path: str, data: dict[str, Any]):
        return self.client.post(BASE + path, data=data, headers=self.headers)


def api_for(user) -> Api:
    _, token = create_token(actor=factories.SYSTEM, username=user.username)
    return Api(token)


def blob_count() -> int:
    root = Path(settings.BLOB_DIR)
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


@pytest.fixture
def him_api(him) -> Api:
    return api_for(him)


@pytest.fixture
def chart_patient(db, facility):
    """A patient with history: a previous name, an SSN, an old address, a VIP flag."""
    return register_patient(
        actor=factories.SYSTEM,
        data=PatientIn(
            names=[
                NameIn(family="Okafor", given="Adaeze", middle="N"),
                NameIn(family="Eze", given="Adaeze", use="previous",
                       period_start=date(1990, 1, 1), period_end=date(2015, 6, 20)),
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
def document(db, chart_patient, facility, encounter):
    return factories.document(
        patient=chart_patient, facility=facility, encounter=encounter,
        text="Discharge summary for Adaeze Okafor", sensitivity=["HIV"],
    )  # fmt: skip
