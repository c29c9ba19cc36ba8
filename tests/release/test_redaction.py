"""Redaction removes content from the packet file itself (the page becomes an image
with the area blacked out), excluded pages are gone, and refusals are named."""

from __future__ import annotations

import io
import json

import pikepdf
import pypdfium2 as pdfium
import pytest
from PIL import Image

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.release import packets, redaction, scope
from tests.release.makers import file_doc, page_texts

SSN = "123-45-6789"
FRONT = 2  # cover letter and index in front of the documents


@pytest.fixture
def three_pages(patient, facility):
    return file_doc(patient=patient, facility=facility, title="Admission", pages=[
        ["Admission history page one", "Allergies: penicillin"],
        ["Social history page two", f"Neighbor SSN {SSN} given by mistake",
         "Blood pressure 128/84 recorded"],
        ["Plan page three", f"Repeat: {SSN}"],
    ])  # fmt: skip


def _item(actor, req):
    return scope.select_documents(actor=actor, req=req)[0]


def _packet_pdf(actor, req):
    return packets.packet_bytes(packets.build_packet(actor=actor, req=req))


def test_redacted_text_is_removed_from_the_file_and_untouched_pages_keep_their_text(
    make_request, roi_actor, patient, three_pages
):
    req = make_request(patient)
    item = _item(roi_actor, req)
    rows = redaction.add_redaction(actor=roi_actor, item=item, page=2, text=SSN,
                                   reason="another person's identifier")  # fmt: skip
    assert [(r.page, r.text) for r in rows] == [(2, SSN)]
    pdf = _packet_pdf(roi_actor, req)
    texts = page_texts(pdf)
    assert len(texts) == FRONT + 3
    assert "Admission history page one" in texts[FRONT]
    assert SSN not in texts[FRONT + 1] and "Blood pressure" not in texts[FRONT + 1]
    assert f"Repeat: {SSN}" in texts[FRONT + 2]  # only page 2 was redacted
    # the redacted page is one image under the stamp: nothing of the original text
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages[FRONT + 1].get_images()) == 1
        assert len(doc.pages[FRONT].get_images()) == 0
    redacted_page = texts[FRONT + 1]
    assert (
        redacted_page.startswith(req.number) and "Social history" not in redacted_page
    )


def test_text_redacted_in_the_whole_document_is_gone_from_every_page(
    make_request, roi_actor, patient, three_pages
):
    req = make_request(patient)
    item = _item(roi_actor, req)
    rows = redaction.add_redaction(actor=roi_actor, item=item, text=SSN.upper(),
                                   reason="not the patient's")  # fmt: skip
    assert sorted(r.page for r in rows) == [2, 3]
    pdf = _packet_pdf(roi_actor, req)
    assert not any(SSN in t for t in page_texts(pdf))
    assert SSN.encode() not in pdf
    assert "Admission history page one" in page_texts(pdf)[FRONT]
    event = AuditEvent.objects.filter(action="release.redact").latest("id")
    assert event.patient_id == str(patient.pk)
    assert [r["page"] for r in json.loads(event.detail)["redactions"]] == [2, 3]


def test_a_redacted_region_is_black_in_the_output_and_the_rest_of_the_page_is_not(
    make_request, roi_actor, patient, three_pages
):
    req = make_request(patient)
    item = _item(roi_actor, req)
    # the second line of page 1 ("Allergies: penicillin") sits on y = 706
    redaction.add_redaction(actor=roi_actor, item=item, page=1, x=60, y=700,
                            width=200, height=16, reason="outside the request")  # fmt: skip
    pdf = _packet_pdf(roi_actor, req)
    texts = page_texts(pdf)
    assert "penicillin" not in texts[FRONT] and "Admission history" not in texts[FRONT]
    doc = pdfium.PdfDocument(pdf)
    page = doc[FRONT]
    w, h = page.get_size()
    image: Image.Image = page.render(scale=1).to_pil().convert("L")
    # the page is shrunk into the area above the stamp band: map through the scale
    s = (h - 26) / h
    x_off = (w - w * s) / 2

    def pixel(x: float, y: float) -> int:
        return image.getpixel((round(x_off + x * s), round(h - (26 + y * s))))

    assert pixel(160, 708) < 40  # inside the region: black
    assert pixel(400, 400) > 215  # blank paper elsewhere: white
    doc.close()


def test_excluded_pages_are_not_in_the_packet(
    make_request, roi_actor, patient, three_pages
):
    req = make_request(patient)
    item = _item(roi_actor, req)
    redaction.exclude_pages(
        actor=roi_actor, item=item, pages=[2], reason="not asked for"
    )
    pdf = _packet_pdf(roi_actor, req)
    texts = page_texts(pdf)
    assert len(texts) == FRONT + 2
    assert not any("Social history" in t for t in texts)
    assert "Plan page three" in texts[FRONT + 1]


def test_an_image_document_is_released_as_a_page_and_can_be_redacted(
    make_request, roi_actor, patient, facility
):
    img = Image.new("RGB", (850, 1100), "white")
    for x in range(100, 300):
        for y in range(100, 140):
            img.putpixel((x, y), (20, 20, 200))
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(100, 100))
    file_doc(patient=patient, facility=facility, data=buf.getvalue(),
             filename="scan.png", title="Scanned referral", code="57133-1")  # fmt: skip
    req = make_request(patient)
    item = _item(roi_actor, req)
    assert item.pages == 1
    with pytest.raises(ValidationFailed, match="no text layer"):
        redaction.add_redaction(actor=roi_actor, item=item, text="referral", reason="x")
    # the blue bar is at pixels 100-300 x 100-140 of a 100 dpi scan: points 72-216 x
    # 691.2-720 from the bottom of a 792-point page
    redaction.add_redaction(actor=roi_actor, item=item, page=1, x=70, y=690,
                            width=150, height=32, reason="third party's name")  # fmt: skip
    pdf = _packet_pdf(roi_actor, req)
    doc = pdfium.PdfDocument(pdf)
    page = doc[FRONT]
    w, h = page.get_size()
    assert (round(w), round(h)) == (612, 792)
    rgb = page.render(scale=1).to_pil().convert("RGB")
    s = (h - 26) / h
    r, g, b = rgb.getpixel(
        (round((w - w * s) / 2 + 140 * s), round(h - (26 + 705 * s)))
    )
    assert b < 60  # was blue, now black
    doc.close()


def test_a_text_document_is_laid_out_on_pages(
    make_request, roi_actor, patient, facility
):
    text = "\n".join(f"Line {n} of the nursing log" for n in range(1, 131))
    file_doc(patient=patient, facility=facility, data=text.encode(), filename="log.txt",
             code="34746-8", title="Nursing log")  # fmt: skip
    req = make_request(patient)
    assert _item(roi_actor, req).pages == 3  # 60 lines a page
    texts = page_texts(_packet_pdf(roi_actor, req))
    assert "Line 1 of the nursing log" in texts[FRONT]
    assert "Line 130 of the nursing log" in texts[FRONT + 2]


def test_bad_redactions_are_refused_by_name_and_audited(
    make_request, roi_actor, patient, three_pages
):
    req = make_request(patient)
    item = _item(roi_actor, req)
    with pytest.raises(ValidationFailed, match="does not occur on page 1"):
        redaction.add_redaction(
            actor=roi_actor, item=item, page=1, text=SSN, reason="x"
        )
    with pytest.raises(ValidationFailed, match="off page 1"):
        redaction.add_redaction(actor=roi_actor, item=item, page=1, x=900, y=10,
                                width=20, height=20, reason="x")  # fmt: skip
    with pytest.raises(ValidationFailed, match="not a page of this document"):
        redaction.add_redaction(actor=roi_actor, item=item, page=4, x=10, y=10,
                                width=20, height=20, reason="x")  # fmt: skip
    with pytest.raises(ValidationFailed, match="say why"):
        redaction.add_redaction(
            actor=roi_actor, item=item, page=1, text="history", reason=""
        )
    with pytest.raises(ValidationFailed, match="every page"):
        redaction.exclude_pages(actor=roi_actor, item=item, pages=[1, 2, 3], reason="x")
    refused = AuditEvent.objects.filter(action="release.refused")
    assert refused.count() >= 5
    assert json.loads(refused.latest("id").detail)["step"] == "exclude pages"


def test_a_document_left_out_by_hand_can_be_put_back(
    make_request, roi_actor, patient, three_pages, facility
):
    other = file_doc(patient=patient, facility=facility, title="Misfiled")
    req = make_request(patient)
    items = {i.document_id: i for i in scope.select_documents(actor=roi_actor, req=req)}
    redaction.set_included(actor=roi_actor, item=items[other.pk], included=False,
                           reason="belongs to another patient")  # fmt: skip
    texts = page_texts(_packet_pdf(roi_actor, req))
    assert len(texts) == FRONT + 3 and not any("Misfiled page 1" in t for t in texts)
    redaction.set_included(actor=roi_actor, item=items[other.pk], included=True,
                           reason="checked: it is hers")  # fmt: skip
    assert len(page_texts(_packet_pdf(roi_actor, req))) == FRONT + 4
