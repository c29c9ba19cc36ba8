"""Bulk $export over HTTP: kick-off, status polling, NDJSON files, audit; and the
round trip import -> export -> import -> export that must lose nothing."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B import get_fhir_model_class

from recordroom.audit.models import AuditEvent
from recordroom.interop.bulk import export
from recordroom.interop.bulk.importer import import_fhir
from recordroom.interop.models import ExportJob
from recordroom.mpi.models import Patient
from recordroom.records.models import Condition, Encounter
from tests import factories
from tests.interop.conformance import folder
from tests.interop.fhir.test_fhir_api import fhir_for

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def loaded(db, facility):
    user = factories.user("feed", "administrator", all_facilities=True)
    files = sorted(folder("synthea-r4").glob("*.json"))[:4]
    import_fhir(actor=factories.actor(user), paths=files, source="synthea",
                facility=facility)  # fmt: skip
    return facility


def _export(api, path: str = "$export", **params) -> dict[str, str]:
    kick = api.get(path, headers=ASYNC, **params)
    assert kick.status_code == 202, kick.content
    status_url = kick["Content-Location"]
    job = ExportJob.objects.get(pk=status_url.rsplit("/", 1)[-1])
    pending = api.get(status_url)
    assert pending.status_code == 202 and pending["Retry-After"] == "2"
    assert export.run_export(job) == "complete"
    manifest = api.get(status_url).json()
    assert manifest["requiresAccessToken"] is True
    files = {}
    for out in manifest["output"]:
        resp = api.get(out["url"])
        assert resp["Content-Type"] == "application/fhir+ndjson"
        files[out["type"]] = b"".join(resp.streaming_content).decode()
        assert files[out["type"]].count("\n") == out["count"]
    return files


def test_system_export_writes_valid_ndjson_and_audits_each_patient(loaded, him):
    api = fhir_for(him)
    files = _export(api)
    assert set(files) >= {"Patient", "Encounter", "Condition", "Procedure",
                          "Practitioner", "Organization"}  # fmt: skip
    for rtype, text in files.items():
        model = get_fhir_model_class(rtype)
        for line in text.splitlines():
            model.model_validate(json.loads(line))
    patients = [json.loads(line) for line in files["Patient"].splitlines()]
    assert len(patients) == Patient.objects.count() == 4
    assert files["Encounter"].count("\n") == Encounter.objects.count()
    for p in patients:
        assert AuditEvent.objects.filter(
            action="interop.export", patient_id=p["id"]
        ).exists()
    # The files on disk are encrypted: no patient's name appears in them.
    job = ExportJob.objects.get()
    raw = (export.export_dir(job) / "Patient.ndjson.enc").read_bytes()
    family = patients[0]["name"][0]["family"].encode()
    assert family in files["Patient"].encode() and family not in raw


def test_round_trip_loses_nothing(loaded, him, tmp_path):
    api = fhir_for(him)
    first = _export(api)
    for rtype, text in first.items():
        (tmp_path / f"{rtype}.ndjson").write_text(text)
    counts = (
        Patient.objects.count(),
        Encounter.objects.count(),
        Condition.objects.count(),
    )
    _, summary = import_fhir(actor=factories.actor(him), paths=[tmp_path],
                             source="round-trip", facility=loaded)  # fmt: skip
    totals = summary.totals()
    assert totals["created"] == 0 and totals["updated"] == 0 and totals["rejected"] == 0
    assert totals["unchanged"] == sum(t.count("\n") for t in first.values())
    assert (Patient.objects.count(), Encounter.objects.count(),
            Condition.objects.count()) == counts  # fmt: skip
    second = _export(api)
    assert second == first


def test_patient_and_group_level_and_filters(loaded, him, other_facility):
    api = fhir_for(him)
    files = _export(api, "Patient/$export", _type="Patient,Condition")
    assert set(files) == {"Patient", "Condition"}
    assert (
        _export(api, f"Group/{loaded.code}/$export", _type="Patient")["Patient"].count(
            "\n"
        )
        == 4
    )
    assert _export(api, f"Group/{other_facility.code}/$export", _type="Patient") == {}
    future = _export(api, "$export", _since="2999-01-01", _type="Patient")
    assert future == {}


def test_bad_requests_and_other_users_jobs(loaded, him, facility):
    api = fhir_for(him)
    no_prefer = api.get("$export")
    assert no_prefer.status_code == 400
    assert "respond-async" in no_prefer.json()["issue"][0]["diagnostics"]
    bad_type = api.get("Patient/$export", headers=ASYNC, _type="Practitioner")
    assert bad_type.status_code == 400
    assert (
        "cannot be exported at the patient level"
        in bad_type.json()["issue"][0]["diagnostics"]
    )
    assert api.get("Group/NOPE/$export", headers=ASYNC).status_code == 404
    kick = api.get("$export", headers=ASYNC, _type="Patient")
    status_url = kick["Content-Location"]
    job_id = status_url.rsplit("/", 1)[-1]
    early = api.get(f"$export-file/{job_id}/Patient.ndjson")
    assert early.status_code == 409
    other = fhir_for(factories.user("him2", "him_specialist", facilities=[facility]))
    assert other.get(status_url).status_code == 404
    cancel = api.client.delete(status_url, headers=api.headers)
    assert cancel.status_code == 202
    assert ExportJob.objects.get(pk=job_id).status == "cancelled"
    assert export.run_export(ExportJob.objects.get(pk=job_id)) == "cancelled"
