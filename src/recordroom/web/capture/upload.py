"""The capture upload page: drag and drop (or choose) many files; each becomes a
batch, listed below with its status while the worker reads it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.capture.intake import (
    document_counts,
    receive_file,
    recent_batches,
    source_named,
)
from recordroom.capture.models import BatchStatus, SourceKind
from recordroom.kernel.errors import RecordroomError
from recordroom.records.models import Facility
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires

DEFAULT_SOURCE = "Web upload"
WORKING = (BatchStatus.RECEIVED, BatchStatus.PROCESSING)


def _facilities(user) -> list[Facility]:  # type: ignore[no-untyped-def]
    ids = user.facility_ids()
    found = Facility.objects.order_by("code")
    return list(found if ids is None else found.filter(pk__in=ids))


def _rows(request: HttpRequest) -> list[dict[str, object]]:
    batches = recent_batches(user=request.user, received_by=request.user.username,
                             limit=50)  # fmt: skip
    return [{"batch": b, "documents": document_counts(b), "working": b.status in WORKING}
            for b in batches]  # fmt: skip


@requires("capture_documents")
def upload(request: HttpRequest) -> HttpResponse:
    """GET: the drop zone and your recent batches; POST: capture the files sent."""
    facilities = _facilities(request.user)
    if request.method == "POST":
        files = request.FILES.getlist("files")
        code = request.POST.get("facility", "")
        facility = next((f for f in facilities if f.code == code), None)
        if code and facility is None:
            messages.error(
                request, f"Facility {code} is not one of yours; nothing was captured."
            )
            return redirect("web:capture_upload")
        if not files:
            messages.error(request, "Choose or drop one or more files to capture.")
            return redirect("web:capture_upload")
        actor = actor_from_request(request)
        try:
            name = request.POST.get("source", "").strip() or DEFAULT_SOURCE
            source = source_named(name, kind=SourceKind.UPLOAD, facility=facility)
            batches = [receive_file(actor=actor, data=f.read(), filename=f.name or "",
                                    source=source, facility=facility) for f in files]  # fmt: skip
        except RecordroomError as exc:
            messages.error(request, exc.message)
            return redirect("web:capture_upload")
        refused = [b for b in batches if b.status == BatchStatus.REFUSED]
        dupes = [b for b in batches if b.status == BatchStatus.DUPLICATE]
        note = f"{len(batches)} file{'s' if len(batches) != 1 else ''} received"
        if dupes:
            note += f"; {len(dupes)} already received before (not read again)"
        if refused:
            note += f"; {len(refused)} refused (see the reason below)"
        messages.success(request, note + ".")
        return redirect("web:capture_upload")
    rows = _rows(request)
    return render(request, "web/capture/upload.html", {
        "rows": rows, "facilities": facilities, "default_source": DEFAULT_SOURCE,
        "max_mb": settings.MAX_UPLOAD_BYTES // 1048576,
        "working": any(r["working"] for r in rows),
    })  # fmt: skip


@requires("capture_documents")
def upload_batches(request: HttpRequest) -> HttpResponse:
    """The list of your recent batches alone (the page refreshes it while the worker
    reads them)."""
    rows = _rows(request)
    return render(request, "web/capture/_upload_batches.html",
                  {"rows": rows, "working": any(r["working"] for r in rows)})  # fmt: skip
