"""Cover and separator sheets: the printed PDF's barcode, read back with zxing-cpp from
the rendered page, carries the cover payload the pipeline decodes; printing is
audited."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp

from recordroom.audit.models import AuditEvent
from recordroom.capture import cover, coversheet
from recordroom.kernel.errors import PermissionDenied
from recordroom.records.models import DocumentType
from tests import factories

pytestmark = pytest.mark.django_db


def _codes(pdf: bytes) -> list[tuple[str, str]]:
    doc = pdfium.PdfDocument(pdf)
    image = doc[0].render(scale=200 / 72).to_pil()
    return [(str(c.format), c.text) for c in zxingcpp.read_barcodes(image)]


def test_a_cover_sheet_barcode_decodes_back_to_its_patient_visit_and_type(
    him, patient, facility
):
    visit = factories.encounter(patient=patient, facility=facility, account="V777")
    kind = DocumentType.objects.get(code="18842-5")
    pdf = coversheet.cover_sheet_pdf(actor=factories.actor(him), patient=patient,
                                     encounter=visit, doc_type=kind, pages=4)  # fmt: skip
    ((fmt, text),) = _codes(pdf)
    assert fmt == "QR Code"
    assert cover.decode(text) == cover.Cover(
        patient_id=patient.pk, encounter_id=visit.pk, doc_type="18842-5", pages=4,
        facility="NORTH")  # fmt: skip
    page_text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "Patient NÚÑEZ, José" in page_text
    for words in ("N100001 (NORTH)", "1980-04-02", "V777", "Discharge summary"):
        assert words in page_text
    event = AuditEvent.objects.get(action="capture.cover")
    assert event.patient_id == str(patient.pk) and '"pages":4' in event.detail


def test_a_separator_sheet_is_code128_rrsep_and_names_nobody(him):
    pdf = coversheet.separator_sheet_pdf(actor=factories.actor(him))
    assert _codes(pdf) == [("Code 128", "RRSEP")]
    assert cover.is_separator("code128", "RRSEP")


def test_r_sec_1_no_cover_sheet_for_a_patient_outside_scope(other_facility, patient):
    south = factories.user("south1", "him_specialist", facilities=[other_facility])
    with pytest.raises(PermissionDenied):
        coversheet.cover_sheet_pdf(actor=factories.actor(south), patient=patient)
    coder = factories.user("coder1", "coder", facilities=[other_facility])
    with pytest.raises(PermissionDenied, match="cover sheets"):
        coversheet.cover_sheet_pdf(actor=factories.actor(coder), patient=patient)
