"""Fixtures for the JSON API: token-authenticated clients and a chart with history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from recordroom.accounts.services import create_token
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

    def patch(self, path: str, body: Any = None):
        return self.client.patch(
            BASE + path, data=json.dumps(body), content_type="application/json",
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
def document(db, chart_patient, facility, encounter):
    return factories.document(
        patient=chart_patient, facility=facility, encounter=encounter,
        text="Discharge summary for Adaeze Okafor", sensitivity=["HIV"],
    )  # fmt: skip
