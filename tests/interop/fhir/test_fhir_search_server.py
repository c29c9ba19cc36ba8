"""FHIR search paging against the running server (`recordroom serve`, SQLite) with
the real fhirpy clients over HTTP, sync and async (aiohttp): count() and full
iteration past 200 results, each patient once (R-INT-4)."""

from __future__ import annotations

import asyncio
import json

import pytest
from fhirpy import AsyncFHIRClient, SyncFHIRClient

from tests.cli.test_processes import BIN, run
from tests.interop.fhir.test_fhir_server import MR, server  # noqa: F401

MANY = 250
pytestmark = pytest.mark.slow


def _bundle() -> dict:
    entries = []
    for i in range(MANY):
        names = [{"use": "official", "family": "Pager", "given": [f"G{i:03d}"]}]
        if i % 10 == 0:  # a former name whose given name matches too
            names.append({"use": "old", "family": f"Old{i:03d}", "given": ["Pager"]})
        entries.append({"request": {"method": "POST", "url": "Patient"}, "resource": {
            "resourceType": "Patient", "gender": "female", "birthDate": "1950-05-05",
            "name": names, "identifier": [{"type": MR, "value": f"PG-{i:04d}",
                "system": "urn:oid:2.16.840.1.113883.3.9999.5"}]}})  # fmt: skip
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def test_fhirpy_pages_past_200_on_the_running_server(server, tmp_path):  # noqa: F811
    data, url, token = server
    path = tmp_path / "many.json"
    path.write_text(json.dumps(_bundle()))
    imported = run([BIN / "recordroom", "import", "fhir", path, "--facility", "EAST",
                    "--source", "pager"], data)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    fhir = SyncFHIRClient(url, authorization=f"Bearer {token}")
    every: set[str] = set()
    for query in ({"name": "pager"}, {"family": "pager"}, {"birthdate": "1950"}):
        found = fhir.resources("Patient").search(**query).limit(70)
        assert found.count() == MANY, query
        ids = [p.id for p in found.fetch_all()]
        assert len(ids) == MANY == len(set(ids)), query
        every = every or set(ids)
        assert set(ids) == every, query

    async def walk() -> tuple[int, list[str]]:
        client = AsyncFHIRClient(url, authorization=f"Bearer {token}")
        found = client.resources("Patient").search(name="pager").limit(90)
        return await found.count(), [p.id async for p in found]

    total, ids = asyncio.run(walk())
    assert total == MANY and len(ids) == MANY and set(ids) == every
