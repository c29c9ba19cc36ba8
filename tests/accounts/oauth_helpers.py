"""Helpers for the OAuth2 tests: a registered client and token requests."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.test import Client

from recordroom.accounts.oauth import NewClient, create_client
from tests import factories

FORM = "application/x-www-form-urlencoded"


def make_client(
    name: str = "lab-feed",
    *,
    scopes: str = "system/*.read",
    role: str = "him_specialist",
    facilities=(),
    all_facilities: bool = False,
) -> NewClient:
    return create_client(
        actor=factories.SYSTEM,
        name=name,
        role=role,
        scopes=scopes,
        facility_codes=[f.code for f in facilities],
        all_facilities=all_facilities,
    )


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def post_token(
    form: dict[str, Any] | list[tuple[str, str]],
    *,
    headers: dict[str, str] | None = None,
    address: str = "127.0.0.1",
):
    return Client(REMOTE_ADDR=address).post(
        "/oauth/token", data=urlencode(form), content_type=FORM, headers=headers or {}
    )


def get_token(new: NewClient, scope: str | None = None) -> str:
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    resp = post_token(form, headers=basic(new.client.client_id, new.secret))
    assert resp.status_code == 200, resp.content
    return resp.json()["access_token"]
