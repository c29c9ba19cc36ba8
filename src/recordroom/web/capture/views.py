"""The indexing queue's pages: the list, one captured document with its page images
and proposal (keyboard-first), its page images, and the edits and filing posted from
it. An edit posted by capture.js (header X-Fragment) answers with the workspace
fragment; without JavaScript it redirects back to the page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from recordroom.capture import queue
from recordroom.capture.models import (
    CaptureBatch,
    CaptureDocument,
    CaptureDocumentStatus,
    CaptureSource,
)
from recordroom.capture.pages import LARGE_WIDTH, THUMB_WIDTH, page_png, value_boxes
from recordroom.capture.quality import page_flags, summary
from recordroom.kernel.errors import NotFound, RecordroomError, ValidationFailed
from recordroom.mpi.models import Facility, IdentifierKind
from recordroom.mpi.search import PatientQuery
from recordroom.mpi.services import identifiers_in_scope
from recordroom.records.chart import find_patient_page, record_search
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires

from .forms import AssignForm, SearchForm, position_of

FLAGS = {"": "Any", "doubtful": "Patient to confirm", "unreadable": "Unreadable page",
         "skewed": "Skewed page", "low-dpi": "Below 200 dpi"}  # fmt: skip
STATUSES = {"queued": "Waiting", "removed": "Removed", "filed": "Filed"}


@requires("index_documents")
def queue_list(request: HttpRequest) -> HttpResponse:
    """Waiting documents, oldest first, 50 a page, filtered by source, facility and
    flag (the filters live in the URL)."""
    get = request.GET
    wanted: dict[str, Any] = {
        k: get.get(k, "").strip()[:60] for k in ("source", "facility", "flag")
    }
    status = get.get("status", "queued")
    try:
        page = queue.list_queue(actor=actor_from_request(request), status=status,
                                after=get.get("after") or None, **wanted)  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, f"{exc.message}; the filters were cleared.")
        return redirect("web:capture_queue")
    rows = [_row(d, request.user) for d in page.items]
    scope = request.user.facility_ids()  # type: ignore[union-attr]
    facilities = Facility.objects.order_by("code")
    if scope is not None:
        facilities = facilities.filter(pk__in=scope)
    keep = {k: v for k, v in {**wanted, "status": status}.items()
            if v and not (k == "status" and v == "queued")}  # fmt: skip
    context = {
        "rows": rows, "filters": wanted, "status": status, "statuses": STATUSES,
        "flags": FLAGS, "facilities": facilities,
        "sources": CaptureSource.objects.filter(active=True).order_by("name"),
        "next": f"?{urlencode({**keep, 'after': page.next})}" if page.next else "",
        "paged": bool(get.get("after")), "first": f"?{urlencode(keep)}",
    }  # fmt: skip
    return render(request, "web/capture/queue.html", context)


def _row(capdoc: CaptureDocument, user: Any) -> dict[str, Any]:
    legal = capdoc.patient.legal_name() if capdoc.patient else None
    return {
        "d": capdoc,
        "patient": legal.display if legal else "",
        "pages": len(capdoc.pages),
        "doubtful": capdoc.patient_id is None
        or capdoc.patient_confidence < queue.CONFIRM_BELOW,
    }


def _capdoc(request: HttpRequest, capdoc_id: UUID) -> CaptureDocument:
    return queue.get_capture_document(user=request.user, capdoc_id=capdoc_id)


@requires("index_documents")
def document(request: HttpRequest, capdoc_id: UUID) -> HttpResponse:
    """One captured document: thumbnails, the large page with the values read,
    the proposal with its evidence, the quality checks, and the actions."""
    capdoc = _capdoc(request, capdoc_id)
    queue.record_view(actor=actor_from_request(request), capdoc=capdoc, part="document")
    context = workspace(request, capdoc)
    return render(request, "web/capture/document.html", context)


def workspace(request: HttpRequest, capdoc: CaptureDocument) -> dict[str, Any]:
    """What the document page and its fragment show."""
    pages = queue.batch_pages(capdoc)
    current = _current(request, capdoc)
    base = reverse("web:capture_page", kwargs={"capdoc_id": capdoc.pk, "page": 0})
    base = base.rsplit("/", 1)[0]
    shown = []
    for position, item in enumerate(capdoc.pages, 1):
        number, rotate = int(item["page"]), int(item.get("rotate", 0))
        page = pages.get(number)
        shown.append({
            "position": position, "number": number, "rotate": rotate,
            "flags": page_flags(page),
            "thumb": f"{base}/{number}.png?rotate={rotate}&size=thumb",
            "large": f"{base}/{number}.png?rotate={rotate}",
            "boxes": value_boxes(capdoc, page, rotate),
        })  # fmt: skip
    check = summary(capdoc, pages)
    search = SearchForm(request.GET if "find" in request.GET else None)
    return {
        "capdoc": capdoc, "batch": capdoc.batch, "pages": shown,
        "current": current, "current_page": shown[current - 1] if shown else None,
        "check": check, "proposal": _proposal(request, capdoc),
        "siblings": _siblings(capdoc), "removed": _removed(capdoc),
        "assign_form": AssignForm(capdoc=capdoc, user=request.user),
        "search": search, "hits": _search(request, search),
        "open": capdoc.status == CaptureDocumentStatus.QUEUED,
        "thumb_width": THUMB_WIDTH, "next_url": _next_url(request, capdoc),
        "fragment": bool(request.headers.get("X-Fragment")),
    }  # fmt: skip


def _current(request: HttpRequest, capdoc: CaptureDocument) -> int:
    raw = request.GET.get("page") or request.POST.get("current") or "1"
    try:
        return position_of(raw, len(capdoc.pages) or 1)
    except ValidationFailed:
        return 1


def _proposal(request: HttpRequest, capdoc: CaptureDocument) -> dict[str, Any]:
    patient = capdoc.patient
    legal = patient.legal_name() if patient else None
    mrns = (
        list(identifiers_in_scope(request.user).filter(
            patient=patient, kind=IdentifierKind.MRN, period_end=None))
        if patient else []
    )  # fmt: skip
    return {
        "patient": patient, "name": legal.display if legal else "",
        "mrns": mrns, "confidence": capdoc.patient_confidence,
        "encounter": capdoc.encounter, "doc_type": capdoc.doc_type,
        "type_confidence": capdoc.type_confidence,
        "evidence": capdoc.evidence if isinstance(capdoc.evidence, dict) else {},
        "reasons": capdoc.queue_reasons, "cover": capdoc.cover,
    }  # fmt: skip


def _siblings(capdoc: CaptureDocument) -> list[CaptureDocument]:
    return list(
        CaptureDocument.objects.filter(
            batch_id=capdoc.batch_id, status=CaptureDocumentStatus.QUEUED
        )
        .exclude(pk=capdoc.pk)
        .order_by("created_at", "id")[:50]
    )


def _removed(capdoc: CaptureDocument) -> list[CaptureDocument]:
    return list(
        CaptureDocument.objects.filter(
            batch_id=capdoc.batch_id, status=CaptureDocumentStatus.REMOVED
        ).order_by("created_at", "id")[:50]
    )


def _search(request: HttpRequest, form: SearchForm) -> list[dict[str, Any]] | None:
    """The patient index searched as on the search page (audited the same way)."""
    if not form.is_bound or not form.is_valid():
        return None
    d = form.cleaned_data
    query = PatientQuery(name=d["name"], birth_date=d["birth_date"],
                         identifier=d["identifier"], limit=10, tolerant=True)  # fmt: skip
    if query.is_empty():
        return []
    try:
        page = find_patient_page(user=request.user, query=query)
    except ValidationFailed as exc:
        form.add_error(None, exc.message)
        return None
    record_search(actor=actor_from_request(request), query=query, account="",
                  hits=page.hits)  # fmt: skip
    return [{"patient": h.patient,
             "name": h.legal_name.display if h.legal_name else "(no name)",
             "mrns": [m.value for m in h.mrns], "reasons": h.reasons}
            for h in page.hits]  # fmt: skip


@requires("index_documents")
def page_image(request: HttpRequest, capdoc_id: UUID, page: int) -> HttpResponse:
    """A page of the document's batch as PNG (thumbnail or large), audited."""
    capdoc = _capdoc(request, capdoc_id)
    if page not in {int(p["page"]) for p in capdoc.pages}:
        raise NotFound(f"page {page} is not in this document")
    try:
        rotate = int(request.GET.get("rotate", "0"))
    except ValueError:
        raise ValidationFailed("rotate is 0, 90, 180 or 270", field="rotate") from None
    thumb = request.GET.get("size") == "thumb"
    png = page_png(capdoc.batch, page, rotate=rotate,
                   width=THUMB_WIDTH if thumb else LARGE_WIDTH)  # fmt: skip
    queue.record_view(actor=actor_from_request(request), capdoc=capdoc,
                      part=f"page {page}{' thumbnail' if thumb else ''}")  # fmt: skip
    response = HttpResponse(png, content_type="image/png")
    response["Content-Length"] = str(len(png))
    response["Cache-Control"] = "no-store, private"
    return response


def _answer(request: HttpRequest, capdoc: CaptureDocument | None,
            current: int = 1) -> HttpResponse:  # fmt: skip
    """The workspace fragment for capture.js, else a redirect to the page."""
    if capdoc is None or not CaptureDocument.objects.filter(pk=capdoc.pk).exists():
        return redirect("web:capture_queue")
    if request.headers.get("X-Fragment"):
        query = request.GET.copy()
        query["page"] = str(current)
        request.GET = query  # type: ignore[assignment]
        capdoc = _capdoc(request, capdoc.pk)
        return render(
            request, "web/capture/_workspace.html", workspace(request, capdoc)
        )
    url = reverse("web:capture_document", kwargs={"capdoc_id": capdoc.pk})
    return redirect(f"{url}?page={current}")


@requires("index_documents")
def edit(request: HttpRequest, capdoc_id: UUID) -> HttpResponse:
    """POST op = split | rotate | remove | move | merge | assign | restore."""
    if request.method != "POST":
        return redirect("web:capture_document", capdoc_id=capdoc_id)
    capdoc = _capdoc(request, capdoc_id)
    post, actor = request.POST, actor_from_request(request)
    op = post.get("op", "")
    count = len(capdoc.pages) or 1
    current = _current(request, capdoc)
    target: CaptureDocument | None = capdoc
    try:
        if op == "split":
            queue.split_document(actor=actor, capdoc=capdoc,
                                 at=position_of(post.get("position"), count))  # fmt: skip
            messages.success(request, "Split: the pages from there on are a new "
                             "document in the queue.")  # fmt: skip
            current = max(1, current - 1)
        elif op == "rotate":
            queue.rotate_page(actor=actor, capdoc=capdoc,
                              position=position_of(post.get("position"), count),
                              turns=-1 if post.get("turns") == "-1" else 1)  # fmt: skip
        elif op == "remove":
            removed = queue.remove_page(actor=actor, capdoc=capdoc,
                                        position=position_of(post.get("position"), count))  # fmt: skip
            if removed.pk == capdoc.pk:
                messages.success(request, "The document was removed (kept with its "
                                 "batch; restore it from the batch's removed pages).")  # fmt: skip
                return redirect(_next_url(request, capdoc))
            messages.success(request, "Page removed (kept with the batch; it can be "
                             "restored below).")  # fmt: skip
            current = min(current, count - 1)
        elif op == "move":
            by = -1 if post.get("by") == "-1" else 1
            pos = position_of(post.get("position"), count)
            queue.move_page(actor=actor, capdoc=capdoc, position=pos, by=by)
            current = max(1, min(count, pos + by))
        elif op == "merge":
            other = _capdoc(request, post.get("other", ""))  # type: ignore[arg-type]
            queue.merge_documents(actor=actor, first=capdoc, second=other)
            messages.success(request, "Merged: the other document's pages follow.")
        elif op == "restore":
            removed_row = _capdoc(request, post.get("removed", ""))  # type: ignore[arg-type]
            target = queue.restore(actor=actor, removed=removed_row)
            messages.success(request, "Restored.")
        elif op == "assign":
            form = AssignForm(post, capdoc=capdoc, user=request.user)
            queue.assign(actor=actor, capdoc=capdoc, **form.changes())
            messages.success(request, "Saved.")
        else:
            raise ValidationFailed(f"unknown edit {op[:40]!r}", field="op")
    except RecordroomError as exc:
        messages.error(request, exc.message)
    return _answer(request, target, current)


def _next_url(request: HttpRequest, after: CaptureDocument) -> str:
    """The next waiting document after this one (oldest first), else the queue."""
    nxt = (
        queue.visible_capture_documents(request.user)
        .filter(status=CaptureDocumentStatus.QUEUED)
        .exclude(pk=after.pk)
        .filter(created_at__gte=after.created_at)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
        .first()
    )
    if nxt is None:
        return reverse("web:capture_queue")
    return reverse("web:capture_document", kwargs={"capdoc_id": nxt})


@requires("index_documents")
def file_document(request: HttpRequest, capdoc_id: UUID) -> HttpResponse:
    """POST: file as it stands (confirmations ticked where needed), then the next
    waiting document."""
    if request.method != "POST":
        return redirect("web:capture_document", capdoc_id=capdoc_id)
    capdoc = _capdoc(request, capdoc_id)
    try:
        doc = queue.file(actor=actor_from_request(request), capdoc=capdoc,
                         confirm_patient=request.POST.get("confirm_patient") == "1",
                         confirm_quality=request.POST.get("confirm_quality") == "1")  # fmt: skip
    except RecordroomError as exc:
        messages.error(request, exc.message)
        return _answer(request, capdoc, _current(request, capdoc))
    legal = doc.patient.legal_name()
    messages.success(request, f"Filed {doc.doc_type.display} ({len(capdoc.pages)} "
                     f"page{'s' if len(capdoc.pages) != 1 else ''}) into the chart of "
                     f"{legal.display if legal else 'the patient'}.")  # fmt: skip
    url = _next_url(request, capdoc)
    if request.headers.get("X-Fragment"):
        response = HttpResponse(status=204)
        response["X-Redirect"] = url
        return response
    return redirect(url)


@requires("index_documents")
def sections(request: HttpRequest, batch_id: UUID) -> HttpResponse:
    """POST starts=1,4,7: one document per section of the batch's waiting pages."""
    batch = CaptureBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(f"no capture batch '{batch_id}'")
    if request.method != "POST":
        return redirect("web:capture_queue")
    raw = request.POST.get("starts", "")
    try:
        starts = [int(x) for x in raw.replace(" ", "").split(",") if x]
    except ValueError:
        messages.error(
            request, f"give page numbers separated by commas, not {raw[:40]!r}"
        )
        starts = []
    made: list[CaptureDocument] = []
    if starts:
        try:
            made = queue.split_sections(actor=actor_from_request(request), batch=batch,
                                        starts=starts)  # fmt: skip
            messages.success(request, f"{len(made)} documents made from the batch.")
        except RecordroomError as exc:
            messages.error(request, exc.message)
    back = request.POST.get("back", "")
    if made:
        return redirect("web:capture_document", capdoc_id=made[0].pk)
    if back:
        return redirect("web:capture_document", capdoc_id=back)
    return redirect("web:capture_queue")
