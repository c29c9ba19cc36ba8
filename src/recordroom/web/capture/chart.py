"""What capture adds to the chart and the document page: the cover-sheet button, the
documents moved out of this chart (that they left, never their content), and a
scanned document's batch, pages and moves."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from recordroom.accounts.permissions import has
from recordroom.capture.models import CaptureDocument, DocumentMove
from recordroom.capture.moves import moved_out
from recordroom.mpi.models import Patient
from recordroom.records.chart import visible_encounters
from recordroom.records.models import Document, DocumentType

JUST_REGISTERED = "capture_cover_for"


def chart_context(request: HttpRequest, patient: Patient) -> dict[str, Any]:
    user = request.user
    cover = None
    if has(user, "print_cover_sheets"):
        cover = {
            "encounters": list(visible_encounters(user, patient)
                               .select_related("facility").order_by("-admit_at")[:50]),
            "types": list(DocumentType.objects.filter(active=True).order_by("display")),
        }  # fmt: skip
    just = request.session.get(JUST_REGISTERED) == str(patient.pk)
    if just:
        request.session.pop(JUST_REGISTERED, None)
    return {
        "capture_cover": cover,
        "capture_just_registered": just and cover is not None,
        "capture_moved_out": moved_out(patient, user),
    }


def document_context(request: HttpRequest, doc: Document) -> dict[str, Any]:
    capdoc = (
        CaptureDocument.objects.select_related("batch", "batch__source")
        .filter(filed=doc)
        .first()
    )
    return {
        "capture": capdoc,
        "capture_pages": [int(p["page"]) for p in capdoc.pages] if capdoc else [],
        "capture_moves": list(
            DocumentMove.objects.filter(document=doc).order_by("moved_at")
        ),  # fmt: skip
        "can_move": has(request.user, "move_documents"),
    }
