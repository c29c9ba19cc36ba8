"""Cover and separator sheets as PDFs, printed from the chart and the registration
page (audited `capture.cover` by the service)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse

from recordroom.capture.coversheet import cover_sheet_pdf, separator_sheet_pdf
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.services import get_patient
from recordroom.records.models import DocumentType, Encounter
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = "no-store, private"
    return response


def cover_choices(request: HttpRequest, patient_id: Any) -> dict[str, Any]:
    """The visit, type and page count asked for (?encounter=&type=&pages=)."""
    get = request.GET
    encounter = None
    if get.get("encounter"):
        encounter = Encounter.objects.filter(pk=get["encounter"],
                                             patient_id=patient_id).first()  # fmt: skip
        if encounter is None:
            raise ValidationFailed(
                "that visit is not this patient's", field="encounter"
            )
    doc_type = None
    if get.get("type"):
        doc_type = DocumentType.objects.filter(code=get["type"], active=True).first()
        if doc_type is None:
            raise ValidationFailed(f"no document type {get['type'][:40]!r}",
                                   field="type")  # fmt: skip
    pages = None
    if get.get("pages"):
        raw = get["pages"]
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 5):
            raise ValidationFailed(
                f"pages is a number, not {raw[:20]!r}", field="pages"
            )
        pages = int(raw)
    return {"encounter": encounter, "doc_type": doc_type, "pages": pages}


@requires("print_cover_sheets")
def cover_sheet(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    patient = get_patient(user=request.user, patient_id=patient_id)
    data = cover_sheet_pdf(actor=actor_from_request(request), patient=patient,
                           **cover_choices(request, patient.pk))  # fmt: skip
    return _pdf(data, "cover-sheet.pdf")


@requires("print_cover_sheets")
def separator_sheet(request: HttpRequest) -> HttpResponse:
    return _pdf(separator_sheet_pdf(actor=actor_from_request(request)),
                "separator-sheet.pdf")  # fmt: skip
