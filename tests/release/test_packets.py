"""Release packets: cover, index with page ranges, every page stamped, the Part 2
notice exactly when Part 2 records go out (R-P2-5), the electronic copy as a zip
with a FHIR bundle, the size limit."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import TooLarge, ValidationFailed
from recordroom.release import packets, scope
from recordroom.release.models import Packet, Status
from tests.release.makers import authorization, file_doc, page_texts

P2_NOTICE = "42 CFR part 2 prohibits unauthorized use or disclosure of these records"


def _two_docs(patient, facility):
    a = file_doc(patient=patient, facility=facility, title="Admission H&P", days_ago=12,
                 pages=[["Admission page one"], ["Admission page two"]])  # fmt: skip
    b = file_doc(patient=patient, facility=facility, title="CBC", code="11502-2",
                 days_ago=11, pages=[["Hemoglobin 13.2 g/dL"]])  # fmt: skip
    return a, b


def _build(actor, req):
    scope.select_documents(actor=actor, req=req)
    packet = packets.build_packet(actor=actor, req=req)
    return packet, packets.packet_bytes(packet)


def test_every_page_is_stamped_with_the_number_patient_and_recipient(
    make_request, roi_actor, patient, facility
):
    _two_docs(patient, facility)
    req = make_request(patient, requester_name="Jane Doe")
    packet, pdf = _build(roi_actor, req)
    texts = page_texts(pdf)
    assert packet.pages == len(texts) == 5  # cover, index, 2 + 1 document pages
    released = packets.local_today(req)
    for n, text in enumerate(texts, 1):
        assert f"{req.number} · page {n} of 5" in text
        assert "Núñez, José · DOB 04/02/1980" in text
        assert f"Released to Jane Doe on {released:%m/%d/%Y}" in text
    assert "Admission page two" in texts[3] and "Hemoglobin 13.2 g/dL" in texts[4]
    assert "2 documents, 3 pages" in texts[0].replace("\n", " ")  # the cover letter


def test_the_index_lists_each_document_with_its_pages_in_the_packet(
    make_request, roi_actor, patient, facility
):
    a, b = _two_docs(patient, facility)
    req = make_request(patient)
    packet, pdf = _build(roi_actor, req)
    index = page_texts(pdf)[1]
    assert "Index of released documents" in index
    assert "Admission H&P" in index and "3-4" in index
    assert "CBC" in index and "5-5" in index
    docs = [c for c in packet.contents if c["part"] == "document"]
    assert [(c["document"], c["first"], c["last"], c["pages"]) for c in docs] == [
        (str(a.pk), 3, 4, 2), (str(b.pk), 5, 5, 1)]  # fmt: skip


def test_a_long_index_runs_over_pages_and_the_ranges_follow_it(
    make_request, roi_actor, patient, facility
):
    for n in range(40):
        file_doc(patient=patient, facility=facility, title=f"Progress note {n:02d}",
                 code="11506-3", days_ago=100 - n, pages=[[f"note {n}"]])  # fmt: skip
    packet, pdf = _build(roi_actor, make_request(patient))
    texts = page_texts(pdf)
    assert packet.pages == len(texts) == 1 + 2 + 40
    assert "Page 2 of 2 of the index" in texts[2]
    assert "note 0" in texts[3] and "note 39" in texts[42]
    assert "Progress note 39" in texts[2] and "43-43" in texts[2]


def test_r_p2_5_the_notice_goes_with_part2_records_and_only_with_them(
    make_request, roi_actor, patient, facility
):
    _two_docs(patient, facility)
    sud = file_doc(patient=patient, facility=facility, code="SUDTX",
                   title="SUD counseling summary", pages=[["Methadone maintenance"]])  # fmt: skip
    req = make_request(patient, requester_type="authorized", requester_name="Ann Counsel",
                       requester_organization="Counsel & Co LLP")  # fmt: skip
    authorization(roi_actor, patient, req)
    authorization(roi_actor, patient, req, kind="part2", covers=["SUD", "ETH"],
                  purpose="at the request of the patient",
                  description="substance use treatment notes 2026")  # fmt: skip
    items = {i.document_id: i for i in scope.select_documents(actor=roi_actor, req=req)}
    assert items[sud.pk].included and items[sud.pk].labels == ["ETH", "SUD"]
    packet = packets.build_packet(actor=roi_actor, req=req)
    texts = page_texts(packets.packet_bytes(packet))
    notice = [n for n, t in enumerate(texts) if P2_NOTICE in t]
    assert notice == [0, 1]  # in the cover letter and its own page before the index
    flat = texts[1].replace("\n", " ")
    assert "substance use treatment notes 2026" in flat and "Counsel & Co LLP" in flat
    assert any(c["part"] == "part2-notice" for c in packet.contents)
    assert "Methadone maintenance" in texts[-1]

    # the same patient's packet without the Part 2 record has no notice
    other = make_request(patient, requester_type="authorized", requester_name="Ann Counsel",
                         requester_organization="Counsel & Co LLP",
                         entire_record=False, document_types=["18842-5", "11502-2"])  # fmt: skip
    authorization(roi_actor, patient, other)
    _, pdf = _build(roi_actor, other)
    assert not any(P2_NOTICE in t for t in page_texts(pdf))


def test_r_p2_6_a_subpoena_alone_leaves_part2_records_out_with_the_reason(
    make_request, roi_actor, patient, facility
):
    _two_docs(patient, facility)
    sud = file_doc(patient=patient, facility=facility, code="SUDTX", title="SUD note")
    req = make_request(patient, requester_type="subpoena", requester_name="Clerk",
                       requester_organization="County Court", legal_basis="subpoena")  # fmt: skip
    items = {i.document_id: i for i in scope.select_documents(actor=roi_actor, req=req)}
    left = items[sud.pk]
    assert not left.included and left.rule.startswith("R-P2") and left.reason
    packet = packets.build_packet(actor=roi_actor, req=req)
    texts = page_texts(packets.packet_bytes(packet))
    assert packet.pages == 5 and not any(P2_NOTICE in t for t in texts)


def test_a_packet_over_the_size_limit_is_refused_and_nothing_is_kept(
    make_request, roi_actor, patient, facility, settings
):
    _two_docs(patient, facility)
    req = make_request(patient)
    scope.select_documents(actor=roi_actor, req=req)
    settings.ROI_MAX_PACKET_BYTES = 20_000
    with pytest.raises(
        TooLarge, match=r"over the limit of 0 MB set by the administrator"
    ):
        packets.build_packet(actor=roi_actor, req=req)
    assert not Packet.objects.filter(request=req).exists()
    req.refresh_from_db()
    assert req.status == Status.IN_PROGRESS
    event = AuditEvent.objects.filter(action="release.refused").latest("id")
    detail = json.loads(event.detail)
    assert event.outcome == "failure" and detail["step"] == "build packet"
    assert detail["size"] > 20_000 and "nothing was released" in detail["reason"]


def test_the_packet_is_stored_encrypted_audited_and_waits_for_review(
    make_request, roi_actor, patient, facility
):
    _two_docs(patient, facility)
    req = make_request(patient)
    packet, pdf = _build(roi_actor, req)
    req.refresh_from_db()
    assert req.status == Status.QUALITY_REVIEW
    assert packet.size == len(pdf) and packet.media_type == "application/pdf"
    on_disk = default_store().path_for(packet.sha256).read_bytes()
    assert b"%PDF" not in on_disk and pdf.startswith(b"%PDF")
    event = AuditEvent.objects.filter(action="release.packet").latest("id")
    assert event.patient_id == str(patient.pk)
    assert json.loads(event.detail)["pages"] == 5
    assert packet.release_number == req.number
    again = packets.build_packet(actor=roi_actor, req=req)
    assert again.release_number == f"{req.number}.2"
    assert f"{req.number}.2 · page 1 of 5" in page_texts(packets.packet_bytes(again))[0]
    assert packets.current_packet(req) == again


def test_nothing_selected_is_refused(make_request, roi_actor, patient):
    req = make_request(patient)
    with pytest.raises(ValidationFailed, match="no document is selected"):
        packets.build_packet(actor=roi_actor, req=req)


def test_r_acc_4_an_electronic_copy_is_a_zip_with_a_fhir_bundle_and_the_pdfs(
    make_request, roi_actor, patient, facility
):
    a, b = _two_docs(patient, facility)
    req = make_request(patient, format="electronic")
    packet, data = _build(roi_actor, req)
    assert packet.media_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        fhir = json.loads(zf.read("bundle.json"))
        whole = zf.read(f"{req.number}.pdf")
        assert fhir["resourceType"] == "Bundle" and fhir["type"] == "collection"
        resources = [e["resource"] for e in fhir["entry"]]
        assert resources[0]["resourceType"] == "Patient"
        assert resources[0]["birthDate"] == "1980-04-02"
        assert resources[0]["name"][0]["family"] == "Núñez"
        refs = resources[1:]
        assert [r["id"] for r in refs] == [str(a.pk), str(b.pk)]
        assert refs[0]["type"]["coding"][0]["code"] == "18842-5"
        assert refs[1]["subject"]["reference"] == f"Patient/{patient.pk}"
        for ref in refs:
            url = ref["content"][0]["attachment"]["url"]
            assert url in names
            assert ref["content"][0]["attachment"]["size"] == len(zf.read(url))
        first = page_texts(zf.read(refs[0]["content"][0]["attachment"]["url"]))
    assert len(first) == 2 and "Admission page one" in first[0]
    assert f"{req.number} · page 3 of 5" in first[0]
    assert len(page_texts(whole)) == packet.pages == 5
