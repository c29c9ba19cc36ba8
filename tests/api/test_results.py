"""The chart's results over the JSON API (the Results section's twin): pages of
reports newest first with their current values, restricted ones left out, the read
audited as a chart open."""

from __future__ import annotations

import json

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.mpi.models import Patient
from recordroom.records.models import ResultReport
from tests import factories
from tests.interop.hl7v2.messages import adt, pv1
from tests.interop.hl7v2.test_oru import CBC, bmp, oru

from .conftest import api_for


def test_results_page_with_values_corrections_and_labels(him_api, facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    assert handle(oru("R1", bmp(), CBC)).code == "AA"
    assert handle(oru("R2", bmp(status="C", obx="C", glucose="128"))).code == "AA"
    patient = Patient.objects.get()
    first = him_api.get(f"/patients/{patient.pk}/results", limit=1)
    assert first.status_code == 200, first.content
    body = first.json()
    assert len(body["items"]) == 1 and body["next"]
    rest = him_api.get(f"/patients/{patient.pk}/results", after=body["next"]).json()
    reports = {r["filler_number"]: r for r in body["items"] + rest["items"]}
    assert set(reports) == {"LAB555", "LAB556"} and rest["next"] is None
    bmp_out = reports["LAB555"]
    assert (bmp_out["status"], bmp_out["version"], bmp_out["facility"]) == (
        "corrected", 2, "NORTH")  # fmt: skip
    glucose = bmp_out["values"][0]
    assert (glucose["display"], glucose["value"], glucose["units"]) == (
        "Glucose", "128", "mg/dL")  # fmt: skip
    assert glucose["abnormal_flags"] == ["H"] and glucose["abnormal"] is True
    assert [v["value"] for v in reports["LAB556"]["values"]] == ["14.2", "6.9"]
    opened = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert json.loads(opened.detail)["part"] == "results"
    assert opened.patient_id == str(patient.pk)

    ResultReport.objects.filter(filler_number="LAB556").update(sensitivity=["STD"])
    other = api_for(factories.user("him8", "him_specialist", facilities=[facility]))
    shown = other.get(f"/patients/{patient.pk}/results").json()["items"]
    assert [r["filler_number"] for r in shown] == ["LAB555"]
