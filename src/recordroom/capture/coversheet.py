"""Printed sheets that make paper file itself: a patient's cover sheet (QR code with
`cover.encode`, and the patient, visit and type in words) and the separator sheet
(Code 128 `RRSEP`). Printing either is audited `capture.cover`."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import zxingcpp
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from recordroom.accounts import permissions
from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.mpi.models import IdentifierKind, Patient
from recordroom.mpi.services import identifiers_in_scope, in_scope
from recordroom.records.models import DocumentType, Encounter

from . import cover

INCH = 72.0


def barcode_image(text: str, kind: str = "qrcode", *, scale: int = 8) -> Image.Image:
    """A barcode as a black-on-white image (zxing-cpp), quiet zone included."""
    fmt = {
        "qrcode": zxingcpp.BarcodeFormat.QRCode,
        "datamatrix": zxingcpp.BarcodeFormat.DataMatrix,
        "code128": zxingcpp.BarcodeFormat.Code128,
    }[kind]
    code = zxingcpp.create_barcode(text, fmt)
    pixels = np.array(zxingcpp.write_barcode_to_image(code, scale=scale))
    return Image.fromarray(pixels)


def _draw_code(pdf: canvas.Canvas, image: Image.Image, x: float, y: float,
               width: float) -> None:  # fmt: skip
    height = width * image.height / image.width
    pdf.drawImage(ImageReader(image), x, y, width=width, height=height)


def cover_sheet_pdf(
    *,
    actor: Actor,
    patient: Patient,
    encounter: Encounter | None = None,
    doc_type: DocumentType | None = None,
    pages: int | None = None,
) -> bytes:
    """The cover sheet for `patient` (and a visit, a type, the number of pages that
    follow it, when given): print it, put it on top of the paper, scan both."""
    if actor.user is not None:
        permissions.require(actor.user, "print_cover_sheets")
        if not in_scope(actor.user, patient):
            raise PermissionDenied(
                f"patient {patient.pk} has no record at your facilities",
                patient_id=patient.pk,
            )
    if encounter is not None and encounter.patient_id != patient.pk:
        raise ValidationFailed(
            f"visit {encounter.account_number} is not this patient's", field="encounter"
        )
    if pages is not None and not 0 < pages <= 10_000:
        raise ValidationFailed(
            f"pages after the cover is a number from 1 to 10000, not {pages}",
            field="pages",
        )
    mrns = list(
        identifiers_in_scope(actor.user)
        .filter(patient=patient, kind=IdentifierKind.MRN, period_end=None)
        .order_by("facility__code")
    )
    facility: Any = encounter.facility if encounter is not None else None
    if facility is None and mrns:
        facility = mrns[0].facility
    payload = cover.encode(
        cover.Cover(
            patient_id=patient.pk,
            encounter_id=encounter.pk if encounter else None,
            doc_type=doc_type.code if doc_type else "",
            pages=pages,
            facility=facility.code if facility else "",
        )
    )
    legal = patient.legal_name()
    lines = [
        ("Patient", legal.display if legal else "(no name)"),
        (
            "MRN",
            ", ".join(
                f"{m.value} ({m.facility.code})" if m.facility else m.value
                for m in mrns
            )
            or "—",
        ),  # fmt: skip
        ("Date of birth", str(patient.birth_date or "—")),
        ("Visit", _visit(encounter)),
        ("Document type", doc_type.display if doc_type else "(read from the pages)"),
        ("Pages after this sheet", str(pages) if pages else "(not counted)"),
    ]
    data = _sheet(
        title="Scanning cover sheet",
        lead="Put this sheet on top of the patient's pages and scan them together: "
        "the pages that follow are filed into this chart.",
        lines=lines,
        code=barcode_image(payload, "qrcode"),
        code_width=2.4 * INCH,
    )
    record(
        actor=actor,
        action=actions.CAPTURE_COVER.name,
        patient=patient,
        obj=patient,
        detail={
            "encounter": str(encounter.pk) if encounter else None,
            "type": doc_type.code if doc_type else "",
            "pages": pages,
        },
    )
    return data


def _visit(encounter: Encounter | None) -> str:
    if encounter is None:
        return "(by the date of service on the pages)"
    when = clock.short_date(encounter.admit_at, encounter.facility) if (
        encounter.admit_at) else "date not known"  # fmt: skip
    return (
        f"{encounter.account_number} · {encounter.get_encounter_class_display()} · "
        f"{when} · {encounter.facility.code}"
    )


def separator_sheet_pdf(*, actor: Actor) -> bytes:
    """A sheet that only starts a new document (Code 128 `RRSEP`)."""
    if actor.user is not None:
        permissions.require(actor.user, "print_cover_sheets")
    data = _sheet(
        title="Separator sheet",
        lead="Put this sheet between two documents of one scan: a new document "
        "starts after it. It names no patient.",
        lines=[],
        code=barcode_image(cover.SEPARATOR, "code128", scale=4),
        code_width=4.5 * INCH,
    )
    record(actor=actor, action=actions.CAPTURE_COVER.name,
           detail={"separator": True})  # fmt: skip
    return data


def _sheet(
    *, title: str, lead: str, lines: list[tuple[str, str]], code: Image.Image,
    code_width: float,
) -> bytes:  # fmt: skip
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=1)
    pdf.setTitle(title)
    width, height = letter
    pdf.setFont("Helvetica-Bold", 24)
    pdf.drawString(INCH, height - 1.1 * INCH, title)
    pdf.setFont("Helvetica", 11)
    text = pdf.beginText(INCH, height - 1.5 * INCH)
    for chunk in _wrap(lead, 85):
        text.textLine(chunk)
    pdf.drawText(text)
    _draw_code(pdf, code, (width - code_width) / 2, height - 5.6 * INCH, code_width)
    y = height - 6.3 * INCH
    for label, value in lines:
        pdf.setFont("Helvetica", 11)
        pdf.drawString(INCH, y, label)
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(3.0 * INCH, y, value[:60])
        y -= 0.42 * INCH
    pdf.setFont("Helvetica", 9)
    pdf.drawString(INCH, 0.7 * INCH, "Recordroom · do not write over the barcode")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def _wrap(text: str, width: int) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if len(line) + len(word) + 1 > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*out, line] if line else out
