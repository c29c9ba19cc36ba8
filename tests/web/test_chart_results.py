"""The chart's Results section: reports newest first with their values, abnormal
flags marked, corrections shown as the current version, restricted results hidden,
and the opening audited like the rest of the chart."""

from __future__ import annotations

import json

from django.urls import reverse

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.mpi.models import Patient
from recordroom.records.models import ResultReport
from tests import factories
from tests.interop.hl7v2.messages import adt, pv1
from tests.interop.hl7v2.test_oru import CBC, bmp, obr, oru

from .conftest import signed_in


def _chart(client, patient) -> str:
    resp = client.get(reverse("web:chart", kwargs={"patient_id": patient.pk}))
    assert resp.status_code == 200
    return resp.content.decode()


def test_results_are_listed_newest_first_with_abnormal_values_marked(
    him_client, facility
):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    later = (obr(3, "", "LAB777^BEAKER", "2160-0^Creatinine^LN", "F",
                 when="20250106063000"),
             "OBX|1|NM|2160-0^Creatinine^LN||0.9|mg/dL|0.6-1.2|N|||F")  # fmt: skip
    assert handle(oru("R1", bmp(), CBC, later)).code == "AA"
    patient = Patient.objects.get()
    html = _chart(him_client, patient)
    section = html[html.index('id="results"') :]
    assert "Results (3)" in html
    assert section.index("Creatinine") < section.index("Basic metabolic panel")
    assert '<tr class="abnormal">' in section
    assert "<strong>182</strong>" in section and "70-99" in section
    assert '<span class="tag flag abnormal" title="abnormal">LL</span>' in section
    assert "Specimen slightly hemolyzed." in section
    assert "Performed at Beaker Core Lab" in section
    assert '<td class="value">139</td>' in section  # normal: not marked
    opened = AuditEvent.objects.filter(action="chart.open",
                                       patient_id=str(patient.pk)).latest("id")  # fmt: skip
    assert opened.username == "him1" and json.loads(opened.detail)["results"] == 3


def test_a_corrected_result_shows_its_current_value_and_version(him_client, facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    assert handle(oru("R1", bmp())).code == "AA"
    assert handle(oru("R2", bmp(status="C", obx="C", glucose="128"))).code == "AA"
    section = _chart(him_client, Patient.objects.get()).split('id="results"')[1]
    assert "<strong>128</strong>" in section and ">182<" not in section
    assert "Corrected" in section and "version 2 (earlier versions kept)" in section


def test_a_result_with_a_label_the_user_lacks_shows_only_that_it_exists(facility):
    assert handle(adt("A01", "ADT1", visit=pv1())).code == "AA"
    assert handle(oru("R1", bmp())).code == "AA"
    ResultReport.objects.update(sensitivity=["STD"])
    user = factories.user("him9", "him_specialist", facilities=[facility])
    section = _chart(signed_in(user), Patient.objects.get()).split('id="results"')[1]
    assert "Restricted" in section and "values hidden" in section
    assert "182" not in section and "Glucose" not in section
