"""The running server, as separate processes on a fresh data folder (SQLite):
`recordroom import fhir`, a real FHIR client (fhirpy) over HTTP writing and
searching, and a bulk $export run by `recordroom worker`."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest
from fhirpy import SyncFHIRClient

from tests.cli.test_processes import BIN, _free_port, run
from tests.interop.conformance import folder

MR = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
    ]
}


@pytest.fixture
def server(tmp_path):
    data = tmp_path / "data"
    assert run([BIN / "recordroom", "init"], data).returncode == 0
    made = run([BIN / "recordroom", "manage", "shell", "-c",
                "from recordroom.mpi.models import Facility; Facility.objects.create("
                "code='EAST', name='East Clinic', timezone='America/New_York', "
                "mrn_system='urn:oid:2.16.840.1.113883.3.9999.5')"], data)  # fmt: skip
    assert made.returncode == 0, made.stderr
    user = run([BIN / "recordroom", "user", "create", "feed", "--role", "him_specialist",
                "--facility", "EAST", "--password", "correct horse battery 9"], data)  # fmt: skip
    assert user.returncode == 0, user.stderr
    token = run([BIN / "recordroom", "token", "create", "feed"], data)
    assert token.returncode == 0, token.stderr
    port = _free_port()
    env = {**os.environ, "RECORDROOM_DATA_DIR": str(data)}
    env.pop("RECORDROOM_DATABASE_URL", None)
    proc = subprocess.Popen([BIN / "recordroom", "serve", "--port", str(port),
                             "--workers", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        pytest.fail("recordroom serve did not answer")
    try:
        yield data, f"{base}/fhir/R4", token.stdout.strip().splitlines()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_import_then_a_real_client_reads_writes_and_exports(server):
    data, url, token = server
    bundles = sorted(folder("synthea-r4").glob("*.json"))[:2]
    imported = run([BIN / "recordroom", "import", "fhir", *bundles, "--facility", "EAST",
                    "--source", "synthea"], data)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "total" in imported.stdout and "rejected" in imported.stdout
    again = run(
        [BIN / "recordroom", "import", "fhir", *bundles, "--source", "synthea"], data
    )
    assert again.returncode == 0
    total = next(line for line in again.stdout.splitlines() if "total" in line)
    assert total.split("│")[2].strip() == "0"  # created: nothing the second time

    fhir = SyncFHIRClient(url, authorization=f"Bearer {token}")
    patients = fhir.resources("Patient").fetch_all()
    assert len(patients) == 2
    conditions = fhir.resources("Condition").search(patient=patients[0].id).fetch_all()
    assert conditions and all(c["subject"]["reference"] == f"Patient/{patients[0].id}"
                              for c in conditions)  # fmt: skip
    new = fhir.resource("Patient", gender="female", birthDate="1985-07-19",
                        name=[{"use": "official", "family": "Quispe", "given": ["Rosa"]}],
                        identifier=[{"type": MR, "system": "urn:oid:2.16.840.1.113883.3.9999.5",
                                     "value": "E-4410"}])  # fmt: skip
    new.save()
    assert new.id
    found = fhir.resources("Patient").search(identifier="E-4410").fetch_all()
    assert [p.id for p in found] == [new.id]

    # Bulk export, run by the real worker.
    req = urllib.request.Request(f"{url}/$export?_type=Patient", headers={
        "Authorization": f"Bearer {token}", "Prefer": "respond-async"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 202
        status_url = resp.headers["Content-Location"]
    worker = run([BIN / "recordroom", "worker", "--batch"], data)
    assert worker.returncode == 0, worker.stderr
    poll = urllib.request.Request(
        status_url, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(poll, timeout=10) as resp:
        assert resp.status == 200
        manifest = json.load(resp)
    [output] = manifest["output"]
    get = urllib.request.Request(
        output["url"], headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(get, timeout=10) as resp:
        lines = resp.read().decode().splitlines()
    assert len(lines) == 3 and {json.loads(line)["id"] for line in lines} >= {new.id}
