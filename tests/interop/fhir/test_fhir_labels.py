"""Sensitivity labels over FHIR: a resource the client's user may not read is left
out of searches, $everything and bulk exports, and a read of it is a 403 naming the
label (R-P2-1, R-PN-2, R-STATE-2, R-SEC-1)."""

from __future__ import annotations

import pytest

from recordroom.interop.bulk import export
from recordroom.interop.models import ExportJob
from recordroom.records.models import Encounter
from tests import factories
from tests.labelled import labelled_chart

from .test_fhir_api import fhir_for

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def chart(db, facility):
    return labelled_chart(facility)


def _issue(response) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


def test_r_p2_1_document_reference_and_binary_reads_are_403_naming_the_label(chart):
    api = fhir_for(chart.him)
    for doc, words in ((chart.part2, "42 CFR Part 2"),
                       (chart.therapy, "Psychotherapy note")):  # fmt: skip
        read = api.get(f"DocumentReference/{doc.pk}")
        assert read.status_code == 403 and words in _issue(read)
        binary = api.get(f"Binary/{doc.versions.get().pk}")
        assert binary.status_code == 403 and b"%PDF" not in binary.content
    assert api.get(f"DocumentReference/{chart.plain.pk}").status_code == 200


def test_searches_and_everything_leave_out_what_the_user_may_not_read(chart):
    api = fhir_for(chart.him)
    found = api.get("DocumentReference", patient=str(chart.patient.pk)).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [str(chart.plain.pk)]
    everything = api.get(f"Patient/{chart.patient.pk}/$everything").json()
    ids = {e["resource"]["id"] for e in everything["entry"]}
    assert str(chart.plain.pk) in ids
    assert not ids & {str(chart.part2.pk), str(chart.therapy.pk), str(chart.hiv.pk)}
    doctor = fhir_for(chart.doctor).get("DocumentReference",
                                        patient=str(chart.patient.pk)).json()  # fmt: skip
    granted = {e["resource"]["id"] for e in doctor["entry"]}
    assert str(chart.part2.pk) in granted and str(chart.therapy.pk) not in granted
    part2 = next(e["resource"] for e in doctor["entry"]
                 if e["resource"]["id"] == str(chart.part2.pk))  # fmt: skip
    codes = {c["code"] for s in part2["securityLabel"] for c in s["coding"]}
    assert {"ETH", "SUD"} <= codes  # what is shown carries its labels


def test_r_sec_1_a_vip_chart_over_fhir(chart):
    api = fhir_for(chart.doctor)
    # The patient exists (identity work needs that) but the chart's content does not.
    assert api.get(f"Patient/{chart.vip.pk}").status_code == 200
    everything = api.get(f"Patient/{chart.vip.pk}/$everything")
    assert everything.status_code == 403 and "VIP chart" in _issue(everything)
    read = api.get(f"DocumentReference/{chart.vip_plain.pk}")
    assert read.status_code == 403 and "VIP chart" in _issue(read)
    found = api.get("DocumentReference", patient=str(chart.vip.pk)).json()
    assert found.get("entry", []) == []


def test_a_labelled_encounter_is_403_on_read_and_absent_from_search(chart, facility):
    visit = factories.encounter(patient=chart.patient, facility=facility)
    Encounter.objects.filter(pk=visit.pk).update(sensitivity=["SUD"])
    api = fhir_for(chart.him)
    read = api.get(f"Encounter/{visit.pk}")
    assert read.status_code == 403 and "42 CFR Part 2" in _issue(read)
    found = api.get("Encounter", patient=str(chart.patient.pk)).json()
    assert found.get("entry", []) == []
    assert fhir_for(chart.doctor).get(f"Encounter/{visit.pk}").status_code == 200


def test_bulk_export_leaves_out_what_the_user_may_not_read(chart):
    api = fhir_for(chart.him)
    kick = api.get(f"Patient/{chart.patient.pk}/$export", headers=ASYNC)
    if kick.status_code == 404:  # patient-level export is Patient/$export
        kick = api.get("Patient/$export", headers=ASYNC)
    assert kick.status_code == 202, kick.content
    job = ExportJob.objects.get(pk=kick["Content-Location"].rsplit("/", 1)[-1])
    assert export.run_export(job) == "complete"
    manifest = api.get(kick["Content-Location"]).json()
    files = {
        out["type"]: b"".join(api.get(out["url"]).streaming_content).decode()
        for out in manifest["output"]
    }
    documents = files.get("DocumentReference", "")
    assert str(chart.plain.pk) in documents
    for doc in (chart.part2, chart.therapy, chart.hiv, chart.vip_plain):
        assert str(doc.pk) not in documents
