"""End to end on a real scan: a page rendered with reportlab, rasterised at 200 dpi
with speckle and skew, read by Tesseract; the values, patient and type it proposes."""

from __future__ import annotations

import io
from datetime import date

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from recordroom.capture.models import CaptureSource
from recordroom.capture.reading import decide, propose, read_values
from tests import factories

from .scanned import scan


def outside_discharge_summary() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 14)
    c.drawString(54, 740, "North General Hospital")
    c.setFont("Helvetica-Bold", 16)
    c.drawString(54, 712, "DISCHARGE SUMMARY")
    c.setFont("Helvetica", 10)
    c.drawString(54, 688, "Patient Name: KOWALSKI, Anna M")
    c.drawString(330, 688, "Medical Record No: 00045127")
    c.drawString(54, 672, "Date of Birth: 04/12/1975")
    c.drawString(330, 672, "Admission Date: March 3, 2024")
    y = 640
    for heading, text in [
        (
            "Hospital course",
            "Admitted with community acquired pneumonia, treated with antibiotics.",
        ),
        (
            "Discharge medications",
            "Amoxicillin 500 mg three times daily for five days.",
        ),
        (
            "Disposition and follow-up",
            "Home in stable condition, follow up in one week.",
        ),
    ]:
        c.setFont("Helvetica-Bold", 10)
        c.drawString(54, y, heading)
        c.setFont("Helvetica", 10)
        c.drawString(54, y - 14, text)
        y -= 40
    c.drawString(54, y - 10, "Electronically signed by Dr. William Osler, MD")
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.django_db
def test_scanned_discharge_summary_files_itself(facility):
    anna = factories.patient(facility=facility, family="Kowalski", given="Anna",
                             mrn="45127", birth_date=date(1975, 4, 12))  # fmt: skip
    factories.patient(facility=facility, family="Kowalski", given="Piotr",
                      mrn="45128", birth_date=date(1973, 9, 30))  # fmt: skip
    pages = scan(outside_discharge_summary(), dpi=200)
    values = read_values(pages)
    got = {v.kind: v.normalised for v in reversed(values)}  # the best of each kind
    assert got["mrn"] == "00045127"
    assert got["name"] == "KOWALSKI, ANNA M"
    assert got["birth_date"] == "1975-04-12"
    assert got["service_date"] == "2024-03-03"
    assert got["facility"] == "NORTH"
    mrn = next(v for v in values if v.kind == "mrn")
    # the box is where the MRN is printed: x from 330 + label, 200 dpi, line at y=672
    assert 330 * 200 / 72 < mrn.bbox[0] < 550 * 200 / 72
    assert abs(mrn.bbox[1] - (792 - 672 - 10) * 200 / 72) < 40
    proposal = propose(values, pages, facility=facility)
    assert proposal.patient.patient_id == anna.pk
    assert proposal.patient.confidence >= 0.99
    assert proposal.doc_type.code == "18842-5"
    assert proposal.doc_type.confidence >= 0.9
    source = CaptureSource.objects.create(
        name="scanner-1", kind="scanner", facility=facility
    )
    assert decide(proposal, source=source).auto_file is True
