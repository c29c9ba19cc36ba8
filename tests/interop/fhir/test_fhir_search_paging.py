"""FHIR search paging (R-INT-4): every match once, none skipped, `total` equal to
what the pages hold, and fhirpy's count() and full iteration (sync and async) past
200 results, its HTTP calls routed in-process to Django's test client."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from fhirpy import AsyncFHIRClient, SyncFHIRClient
from fhirpy.base import lib_async, lib_sync

from recordroom.accounts.services import create_token
from recordroom.mpi.services import NameIn
from tests import factories
from tests.interop.fhir.test_fhir_api import fhir_for

URL = "http://testserver/fhir/R4"
MANY = 250


def _get(client: Client, url: str, headers: dict[str, str]) -> Any:
    parts = urlsplit(url)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""),
                      headers=headers)  # fmt: skip


@pytest.fixture
def routed(monkeypatch):
    """fhirpy's sync and async transports, answered by Django's test client."""
    client = Client()

    def request(method: str, url: str, json=None, headers=None, **_: Any):  # noqa: ANN001
        assert method.lower() == "get"
        resp = _get(client, url, headers or {})
        return SimpleNamespace(status_code=resp.status_code, content=resp.content)

    class Answer:
        def __init__(self, resp: Any) -> None:
            self.status = resp.status_code
            self._text = resp.content.decode()

        async def text(self) -> str:
            return self._text

        async def __aenter__(self) -> Answer:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    class Session:
        def __init__(self, headers: dict[str, str]) -> None:
            self.headers = headers

        async def __aenter__(self) -> Session:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

        def request(self, method: str, url: str, **_: Any) -> Answer:
            assert method.lower() == "get"
            return Answer(_get(client, str(url), self.headers))

    monkeypatch.setattr(lib_sync.requests, "request", request)
    monkeypatch.setattr(lib_async.aiohttp, "ClientSession", Session)


def run_now(coro: Any) -> Any:
    """Run a coroutine that never waits (the transport above answers at once) in
    this thread and context, so that the views see the test's transaction (an
    event loop's task would get a database connection of its own)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    raise AssertionError("the coroutine waited for something")


@pytest.fixture
def many(db, facility):
    """MANY patients named Pager, born the same day; every tenth also has an old
    name whose given name is Pager too, so a name search meets them twice."""
    made = []
    for i in range(MANY):
        extra = [NameIn(family=f"Old{i:03d}", given="Pager")] if i % 10 == 0 else []
        made.append(factories.patient(
            facility=facility, family="Pager", given=f"G{(i * 7919) % MANY:03d}",
            birth_date=date(1950, 5, 5), extra_names=extra,
        ).pk)  # fmt: skip
    return {str(pk) for pk in made}


def test_fhirpy_count_and_iteration_past_200(routed, him, many):
    _, token = create_token(actor=factories.SYSTEM, username=him.username)
    fhir = SyncFHIRClient(URL, authorization=f"Bearer {token}")
    for query in ({"name": "pager"}, {"family": "pager"},
                  {"birthdate": "1950-05-05"}, {"birthdate": "1950-05-05",
                                                "gender": "female"}):  # fmt: skip
        found = fhir.resources("Patient").search(**query).limit(40)
        assert found.count() == MANY, query
        everyone = [p.id for p in found.fetch_all()]
        assert len(everyone) == MANY and set(everyone) == many, query

    async def walk() -> tuple[int, list[str]]:
        client = AsyncFHIRClient(URL, authorization=f"Bearer {token}")
        found = client.resources("Patient").search(name="pager").limit(60)
        return await found.count(), [p.id async for p in found]

    total, seen = run_now(walk())
    assert total == MANY and len(seen) == MANY and set(seen) == many


def _walk(api: Any, **query: Any) -> tuple[list[str], list[int | None]]:
    seen: list[str] = []
    totals: list[int | None] = []
    body = api.get("Patient", **query).json()
    while True:
        totals.append(body.get("total"))
        seen += [e["resource"]["id"] for e in body["entry"]]
        nxt = [link["url"] for link in body["link"] if link["relation"] == "next"]
        if not nxt:
            return seen, totals
        body = api.get(nxt[0]).json()


def test_a_name_search_shows_each_patient_once_over_all_pages(db, facility, him):
    # Ada Lee is also Lee Brown (an old name): `name=lee` meets her at "lee brown"
    # (a given name) and at "lee zed" (a family name), pages apart.
    ada = factories.patient(facility=facility, family="Lee", given="Zed",
                            extra_names=[NameIn(family="Brown", given="Lee")])  # fmt: skip
    others = [factories.patient(facility=facility, family="Lee", given=g)
              for g in ("Cat", "Dan", "Eve", "Fay")]  # fmt: skip
    # Seven names with the given name Kay: more rows for one patient than a
    # page reads at first.
    kay = factories.patient(facility=facility, family="Abe", given="Kay", extra_names=[
        NameIn(family=f"Ab{i}", given="Kay") for i in range(7)])  # fmt: skip
    kays = [factories.patient(facility=facility, family="Kay", given="Ace"),
            factories.patient(facility=facility, family="Adz", given="Kay")]  # fmt: skip
    # Nine names given Vex fill what a page of two reads of the given-name rows
    # first; Rex's row (Ab9, Vex) comes after them and before Quin's (Vex, B) in
    # name order, unread: merging past the cut would skip Rex.
    vex = [factories.patient(facility=facility, family="Ab0", given="Vex",
                             extra_names=[NameIn(family=f"Ab{i}", given="Vex")
                                          for i in range(1, 9)]),
           factories.patient(facility=facility, family="Ab9", given="Vex"),
           factories.patient(facility=facility, family="Vex", given="B")]  # fmt: skip
    api = fhir_for(him)
    for query, expected in (
        ({"name": "lee"}, {ada, *others}),
        ({"name": "kay"}, {kay, *kays}),
        ({"given": "kay"}, {kay, kays[1]}),
        ({"name": "vex"}, set(vex)),
    ):
        want = {str(p.pk) for p in expected}
        for count in (1, 2, 3, 50):
            seen, totals = _walk(api, **query, _count=count)
            assert len(seen) == len(set(seen)), (query, count, seen)
            assert set(seen) == want, (query, count)
            assert set(totals) == {len(want)}, (query, count, totals)


def test_other_searches_page_by_id_without_repeats(db, facility, him):
    made = {str(factories.patient(facility=facility, family=f"Idp{i}",
                                  birth_date=date(1961, 1, 1)).pk)
            for i in range(7)}  # fmt: skip
    api = fhir_for(him)
    seen, totals = _walk(api, birthdate="1961", _count=3)
    assert sorted(seen) == sorted(made) and len(seen) == 7
    assert set(totals) == {7}
    only = api.get("Patient", birthdate="1961", _count=0).json()
    assert only["total"] == 7 and only.get("entry", []) == []
    summary = api.get("Patient", birthdate="1961", _summary="count").json()
    assert summary["total"] == 7 and summary.get("entry", []) == []
    assert api.get("Patient", birthdate="1961", _summary="true").status_code == 400
