"""Misfiles: the move form on a filed document, and the privacy officer's list of
moves waiting for review, each with who opened the document in the wrong chart."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.audit.services import record
from recordroom.capture import moves
from recordroom.kernel import actions
from recordroom.kernel.errors import RecordroomError, ValidationFailed
from recordroom.mpi.services import get_patient
from recordroom.records import services as records
from recordroom.records.models import Encounter
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires

from .forms import SearchForm
from .views import _search


@requires("move_documents")
def move(request: HttpRequest, document_id: UUID) -> HttpResponse:
    """GET: the document, a patient search and the reason. POST: move it."""
    doc = records.get_document(user=request.user, document_id=document_id)
    search = SearchForm(request.GET if "find" in request.GET else None)
    target = None
    if request.method == "POST":
        try:
            target = get_patient(
                user=request.user, patient_id=request.POST.get("to", "")
            )
            visit = None
            if request.POST.get("encounter"):
                visit = Encounter.objects.filter(pk=request.POST["encounter"],
                                                 patient=target).first()  # fmt: skip
                if visit is None:
                    raise ValidationFailed("choose one of that patient's visits",
                                           field="encounter")  # fmt: skip
            moves.move_document(actor=actor_from_request(request), document=doc,
                                to_patient=target, reason=request.POST.get("reason", ""),
                                to_encounter=visit)  # fmt: skip
        except RecordroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Moved. The first chart keeps a note that a "
                             "document was moved out; the privacy officer reviews "
                             "who saw it there.")  # fmt: skip
            return redirect("web:document", document_id=doc.pk)
    elif request.GET.get("to"):
        target = get_patient(user=request.user, patient_id=request.GET["to"])
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=doc.patient_id, obj=doc, detail={"part": "misfile move form"})  # fmt: skip
    legal = doc.patient.legal_name()
    context: dict[str, Any] = {
        "doc": doc, "patient": doc.patient, "legal_name": legal,
        "search": search, "hits": _search(request, search), "target": target,
        "target_name": _name(target) if target else "",
        "visits": list(Encounter.objects.filter(patient=target, facility=doc.facility)
                       .order_by("-admit_at")[:50]) if target else [],
    }  # fmt: skip
    return render(request, "web/capture/move.html", context)


@requires("review_misfiles")
def reviews(request: HttpRequest) -> HttpResponse:
    """Moves waiting for review, oldest first, each with the people who opened the
    document while it was in the wrong chart; the latest reviewed below."""
    actor = actor_from_request(request)
    pending = list(moves.misfile_reviews(actor=actor)[:100])
    done = list(moves.misfile_reviews(actor=actor, pending=False)[:20])
    rows = [{"m": m, "viewers": moves.prior_viewers(m),
             "from_name": _name(m.from_patient), "to_name": _name(m.to_patient)}
            for m in pending]  # fmt: skip
    record(actor=actor, action=actions.CAPTURE_VIEW.name,
           detail={"list": "misfile reviews", "moves": len(pending) + len(done)})  # fmt: skip
    return render(request, "web/capture/misfiles.html",
                  {"rows": rows, "done": done})  # fmt: skip


def _name(patient: Any) -> str:
    legal = patient.legal_name()
    return legal.display if legal else "(no name)"


@requires("review_misfiles")
def review(request: HttpRequest, move_id: UUID) -> HttpResponse:
    """POST note: close the review."""
    if request.method == "POST":
        actor = actor_from_request(request)
        try:
            row = moves.get_move(actor=actor, move_id=move_id)
            moves.review_move(actor=actor, move=row, note=request.POST.get("note", ""))
        except RecordroomError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Review recorded.")
    return redirect("web:capture_misfiles")
