"""Results released through the ROI desk like documents: a request whose scope
includes lab results gets a packet whose pages carry each report and its values
(indexed, in the contents), through the same gate as documents."""

from __future__ import annotations

import json

from django.urls import reverse

from recordroom.audit.models import AuditEvent
from recordroom.interop.hl7v2.services import handle
from recordroom.kernel.actor import Actor
from recordroom.records.models import ResultReport
from recordroom.release import packets, scope
from recordroom.release.requests import log_request
from tests.interop.hl7v2.test_oru import CBC, bmp, obr, oru
from tests.release.conftest import request_in
from tests.release.makers import file_doc, page_texts
from tests.web.conftest import signed_in

PID = "PID|1||N100001^^^NORTH^MR||NUNEZ^JOSE||19800402|M"
RAD = (
    obr(3, "", "RAD-2001^RADNET", "36643-5^XR Chest 2 Views^LN", "F", section="RAD"),
    "OBX|1|TX|&GDT^Report Body||Lungs clear.||||||F",
    "OBX|2|TX|&IMP^Radiology Impression||No acute disease.||||||F",
)  # fmt: skip


def _results(patient) -> None:
    ack = handle(oru("R1", bmp(), CBC, RAD, visit="", pid=PID))
    assert ack.code == "AA", ack.text


def _packet(actor, req) -> tuple[object, str]:
    scope.select_documents(actor=actor, req=req)
    packet = packets.build_packet(actor=actor, req=req)
    return packet, "\n".join(page_texts(packets.packet_bytes(packet)))


def test_a_request_for_lab_reports_releases_the_lab_results_with_their_values(
    make_request, roi_actor, patient, facility
):
    _results(patient)
    file_doc(patient=patient, facility=facility, title="Outside CBC", code="11502-2",
             pages=[["Hemoglobin 13.2 g/dL"]])  # fmt: skip
    req = make_request(patient, entire_record=False, document_types=["11502-2"])
    packet, text = _packet(roi_actor, req)
    assert "Laboratory and radiology results" in text
    assert "Basic metabolic panel" in text and "CBC panel" in text
    for value in (
        "Glucose",
        "182",
        "mg/dL",
        "70-99",
        "High",
        "Potassium",
        "3.1",
        "Low",
        "Hemoglobin",
        "6.9",
        "Critically low",
        "Specimen slightly",
    ):
        assert value in text, value  # fmt: skip
    assert "Performed at: Beaker Core Lab" in text
    assert "Lungs clear" not in text  # radiology was not asked for
    assert "Hemoglobin 13.2 g/dL" in text  # the document goes out too
    part = next(c for c in packet.contents if c["part"] == "results")
    released = {r["report"] for r in part["reports"]}
    lab = ResultReport.objects.exclude(category="RAD")
    assert released == {str(r.pk) for r in lab}
    assert part["last"] == packet.pages and part["first"] > 2
    event = AuditEvent.objects.filter(action="release.scope").latest("id")
    assert sorted(json.loads(event.detail)["results"]) == sorted(released)


def test_the_entire_record_releases_every_result_even_without_documents(
    make_request, roi_actor, patient, facility
):
    _results(patient)
    packet, text = _packet(roi_actor, make_request(patient))
    assert "Impression: No acute disease." in text and "Lungs clear." in text
    assert "182" in text
    part = next(c for c in packet.contents if c["part"] == "results")
    assert len(part["reports"]) == 3


def test_a_corrected_result_goes_out_as_its_current_version(
    make_request, roi_actor, patient, facility
):
    _results(patient)
    ack = handle(oru("R2", bmp(status="C", obx="C", glucose="128"), visit="", pid=PID))
    assert ack.code == "AA", ack.text
    req = make_request(patient, entire_record=False, document_types=["11502-2"])
    packet, text = _packet(roi_actor, req)
    assert "128" in text and "182" not in text and "status: corrected" in text
    part = next(c for c in packet.contents if c["part"] == "results")
    assert {r["version"] for r in part["reports"]} == {1, 2}


def test_r_p2_6_a_part2_result_is_left_out_under_a_subpoena(
    make_request, roi_actor, patient, facility
):
    _results(patient)
    ResultReport.objects.filter(category="RAD").update(sensitivity=["SUD"])
    req = make_request(patient, requester_type="subpoena", requester_name="Clerk",
                       requester_organization="County Court", legal_basis="subpoena")  # fmt: skip
    packet, text = _packet(roi_actor, req)
    assert "Lungs clear" not in text and "182" in text
    event = AuditEvent.objects.filter(action="release.scope").latest("id")
    rad = ResultReport.objects.get(category="RAD")
    assert json.loads(event.detail)["results_left_out"][str(rad.pk)].startswith("R-P2")


def test_the_request_page_shows_the_results_going_out_and_left_out(
    roi, patient, facility
):
    _results(patient)
    ResultReport.objects.filter(category="RAD").update(sensitivity=["SUD"])
    req = log_request(actor=Actor(user=roi, channel="test"), data=request_in(
        patient, requester_type="subpoena", requester_name="Clerk",
        requester_organization="County Court", legal_basis="subpoena"))  # fmt: skip
    page = signed_in(roi).get(reverse("web:release_request", kwargs={
        "request_id": req.pk}))  # fmt: skip
    assert page.status_code == 200
    html = page.content.decode()
    section = html[html.index("Lab and radiology results (") :]
    assert "Lab and radiology results (2 going out)" in section
    assert "Basic metabolic panel" in section and "CBC panel" in section
    left = section[section.index("Result left out") :]
    assert "XR Chest 2 Views" in left and "SUD" in left and "R-P2" in left
