"""The release desk's packet side: selecting the documents, a document's redaction
page (pages withheld, regions or text redacted), the packet built and opened by
staff, the quality review, the release, and delivery (a download link whose
passcode is shown once, a logged mail/fax/pickup, the requester's download page).

Thin adapters over release.scope, redaction, packets, review, releasing and
delivery; the request page (views_release) shows what they produced."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.errors import (
    NotFound,
    PermissionDenied,
    TooLarge,
    ValidationFailed,
)
from recordroom.records.access import require_document
from recordroom.release import (
    delivery,
    packets,
    preview,
    redaction,
    releasing,
    review,
    scope,
)
from recordroom.release import requests as rq
from recordroom.release.api_common import pdf_response
from recordroom.release.models import (
    DownloadLink,
    Redaction,
    ReleaseItem,
    ReleaseRequest,
)
from recordroom.release.pdfs import Box
from recordroom.web.request import actor_from_request, client_address

from .views_common import PUBLIC, requires
from .views_release import act, render_request

# --- the documents ---------------------------------------------------------------------------


@requires("release_records")
def select(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Select the documents the request asks for (minimum necessary)."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        items = scope.select_documents(actor=actor, req=req)
        out = sum(not i.included for i in items)
        return (f"{len(items) - out} document{'s' if len(items) - out != 1 else ''} "
                f"selected, {out} left out.")  # fmt: skip

    return act(request, request_id, "scope", run)


def parse_pages(text: str) -> list[int]:
    """ "2, 4-6" -> [2, 4, 5, 6]."""
    pages: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        try:
            lo, hi = int(first), int(last or first)
        except ValueError:
            raise ValidationFailed(f"pages are numbers and ranges such as 2, 4-6; "
                                   f"not {part[:20]!r}", field="pages") from None  # fmt: skip
        if hi < lo or hi - lo > 10000:
            raise ValidationFailed(f"{part} is not a range of pages", field="pages")
        pages.extend(range(lo, hi + 1))
    return pages


def _number(value: str, field: str) -> float | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed(f"{field} is a number of points, not {text[:20]!r}",
                               field=field) from None  # fmt: skip


def _item_page(
    request: HttpRequest, req: ReleaseRequest, item: ReleaseItem, *,
    errors: dict[str, dict[str, str]] | None = None, posted: Any = None,
) -> HttpResponse:  # fmt: skip
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=req.patient, obj=req,
           detail={"release_request": req.number, "part": "redaction",
                   "document": str(item.document_id)})  # fmt: skip
    redactions = list(item.redactions.order_by("page", "pk"))
    context = {
        "req": req, "item": item, "redactions": redactions,
        "workable": req.status in scope.WORKABLE,
        "errors": errors or {}, "posted": posted or {},
        **_preview_context(item, redactions, _shown_page(request)),
    }  # fmt: skip
    return render(request, "web/release_item.html", context,
                  status=422 if errors else 200)  # fmt: skip


def _shown_page(request: HttpRequest) -> str:
    """The page on the preview: ?page=, or after a POST the page it was on."""
    post = request.POST if request.method == "POST" else {}
    for value in (post.get("page"), post.get("preview_page"), request.GET.get("page")):
        if value and str(value).strip().isdigit():
            return str(value).strip()
    return ""


def _preview_context(
    item: ReleaseItem, redactions: list[Redaction], asked: str
) -> dict[str, Any]:
    """The page shown on the preview (?page=, else the first), its geometry for
    the drag-to-select script, and the redactions on it drawn over the image."""
    if not item.pages:
        return {"view": None}
    page = int(asked) if asked.isdigit() and 1 <= int(asked) <= item.pages else 1
    pdf = scope.version_pdf(item.version)
    view = preview.page_view(pdf, page)
    on_page = [r for r in redactions if r.page == page]
    boxes = [Box(r.x or 0.0, r.y or 0.0, r.width or 0.0, r.height or 0.0)
             for r in on_page if not r.text]  # fmt: skip
    boxes += preview.text_boxes(pdf, page, [r.text for r in on_page if r.text])
    scale = preview.PREVIEW_DPI / 72
    return {
        "view": view,
        "preview_page": page,
        "page_choices": [(n, n in item.excluded_pages) for n in range(1, item.pages + 1)],
        # numbers for the script, never localized
        "matrix": " ".join(f"{v:.4f}" for v in view.matrix),
        "view_width": f"{view.width:.4f}", "view_height": f"{view.height:.4f}",
        "view_size": f"{view.width:.0f} × {view.height:.0f}",
        "shown": ["left:{:.3f}%;top:{:.3f}%;width:{:.3f}%;height:{:.3f}%".format(*view.shown(b))
                  for b in boxes],
        "pixels": (round(view.width * scale), round(view.height * scale)),
    }  # fmt: skip


def _readable_item(request: HttpRequest, req: Any, item_id: int) -> Any:
    """One of the request's documents, if this user may read it: a label the role is
    not granted (a psychotherapy note, a restricted chart without break-the-glass)
    keeps its pages from the preview as from the viewer."""
    item = redaction.get_item(req=req, item_id=item_id)
    require_document(request.user, item.document)
    return item


@never_cache
@requires("release_records")
def item_preview(
    request: HttpRequest, request_id: UUID, item_id: int, page: int
) -> HttpResponse:
    """A page of one of the request's documents as a PNG (PREVIEW_DPI), for
    drawing a region to redact; the read is audited like the packet's."""
    req = rq.get_request(user=request.user, request_id=request_id)
    item = _readable_item(request, req, item_id)
    png = preview.page_png(scope.version_pdf(item.version), page)
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=req.patient, obj=req,
           detail={"release_request": req.number, "part": "page preview",
                   "document": str(item.document_id), "page": page})  # fmt: skip
    response = HttpResponse(png, content_type="image/png")
    response["Content-Length"] = str(len(png))
    response["Cache-Control"] = "no-store, private"
    return response


@requires("release_records")
def item_page(request: HttpRequest, request_id: UUID, item_id: int) -> HttpResponse:
    """A selected document: withhold pages, redact regions or text."""
    req = rq.get_request(user=request.user, request_id=request_id)
    return _item_page(request, req, _readable_item(request, req, item_id))


def _item_act(
    request: HttpRequest, request_id: UUID, item_id: int, action: str, run: Any
) -> HttpResponse:
    """POST: one redaction service on the item; back to its page, or the page again
    with the refusal at its form."""
    req = rq.get_request(user=request.user, request_id=request_id)
    item = _readable_item(request, req, item_id)
    if request.method != "POST":
        return redirect("web:release_item", request_id=req.pk, item_id=item.pk)
    try:
        done = run(actor_from_request(request), item, request.POST)
    except ValidationFailed as exc:
        item.refresh_from_db()
        return _item_page(request, req, item, errors={action: {exc.field or "": exc.message}},
                          posted={action: request.POST})  # fmt: skip
    messages.success(request, done)
    url = reverse("web:release_item", args=[req.pk, item.pk])
    page = _shown_page(request)
    return redirect(f"{url}?page={page}#preview" if page else url)


@requires("release_records")
def item_pages(request: HttpRequest, request_id: UUID, item_id: int) -> HttpResponse:
    """Withhold pages of the document (an empty list puts them all back)."""

    def run(actor: Any, item: ReleaseItem, post: Any) -> str:
        pages = parse_pages(post.get("pages", ""))
        redaction.exclude_pages(actor=actor, item=item, pages=pages,
                                reason=post.get("reason", ""))  # fmt: skip
        return (f"Pages {', '.join(map(str, item.excluded_pages))} withheld."
                if item.excluded_pages else "Every page goes out.")  # fmt: skip

    return _item_act(request, request_id, item_id, "pages", run)


@requires("release_records")
def item_redact(request: HttpRequest, request_id: UUID, item_id: int) -> HttpResponse:
    """Redact a region of a page (PDF points) or a text (on a page, or wherever it
    occurs)."""

    def run(actor: Any, item: ReleaseItem, post: Any) -> str:
        page = post.get("page", "").strip()
        rows = redaction.add_redaction(
            actor=actor, item=item, reason=post.get("reason", ""),
            page=int(page) if page.isdigit() else None,
            x=_number(post.get("x"), "x"), y=_number(post.get("y"), "y"),
            width=_number(post.get("width"), "width"),
            height=_number(post.get("height"), "height"), text=post.get("text", ""),
        )  # fmt: skip
        pages = sorted({r.page for r in rows})
        return f"Redacted on page{'s' if len(pages) > 1 else ''} {', '.join(map(str, pages))}."

    return _item_act(request, request_id, item_id, "redact", run)


@requires("release_records")
def redaction_remove(
    request: HttpRequest, request_id: UUID, item_id: int, redaction_id: int
) -> HttpResponse:
    """Take a redaction back."""

    def run(actor: Any, item: ReleaseItem, post: Any) -> str:
        found = item.redactions.filter(pk=redaction_id).first()
        if found is None:
            raise NotFound(f"no redaction {redaction_id} on this document")
        redaction.remove_redaction(actor=actor, redaction=found)
        return f"Redaction on page {found.page} taken back."

    return _item_act(request, request_id, item_id, "remove", run)


@requires("release_records")
def item_include(request: HttpRequest, request_id: UUID, item_id: int) -> HttpResponse:
    """Leave a document out by hand (misfiled, not asked for), or put it back."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        item = redaction.get_item(req=req, item_id=item_id)  # no need to read it
        included = post.get("included") == "1"
        redaction.set_included(actor=actor, item=item, included=included,
                               reason=post.get("reason", ""))  # fmt: skip
        return "Document put back." if included else "Document left out."

    return act(request, request_id, "include", run, target=item_id)


# --- the packet ------------------------------------------------------------------------------


@requires("release_records")
def build(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Build the stamped packet and send it to quality review."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        try:
            packet = packets.build_packet(actor=actor, req=req)
        except TooLarge as exc:  # shown like any refusal, at the packet
            raise ValidationFailed(exc.message, field="packet") from None
        return (f"Packet {packet.release_number} built: {packet.pages} pages. It goes "
                "to quality review.")  # fmt: skip

    return act(request, request_id, "packet", run)


@requires("release_records")
def packet_content(
    request: HttpRequest, request_id: UUID, packet_id: UUID
) -> HttpResponse:
    """A built packet, for staff to check (the read is audited)."""
    req = rq.get_request(user=request.user, request_id=request_id)
    packet = req.packets.filter(pk=packet_id).first()
    if packet is None:
        raise NotFound(f"request {req.number} has no packet {packet_id}")
    data = packets.packet_bytes(packet)
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=req.patient, obj=packet,
           detail={"release_request": req.number, "part": f"packet {packet.release_number}"})  # fmt: skip
    if packet.media_type == "application/pdf":
        return pdf_response(data, f"{packet.release_number}.pdf", attachment=False)
    response = HttpResponse(data, content_type=packet.media_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{packet.release_number}.zip"'
    )
    response["Cache-Control"] = "no-store, private"
    return response


@requires("review_releases")
def quality_review(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Pass (every check confirmed) or fail (with a note) the current packet."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        passed = post.get("passed") == "1"
        checks = {k: post.get(f"check_{k}") == "on" for k in review.REQUIRED_CHECKS}
        try:
            review.quality_review(actor=actor, req=req, passed=passed, checks=checks,
                                  note=post.get("note", ""))  # fmt: skip
        except PermissionDenied as exc:  # the builder reviewing: shown at the form
            raise ValidationFailed(exc.message, field="checks") from None
        return ("Review passed: ready to release." if passed
                else "Review failed: the request is back in progress.")  # fmt: skip

    return act(request, request_id, "review", run)


@requires("release_records")
def release(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Release the reviewed packet; the disclosure goes into the accounting."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        releasing.release(actor=actor, req=req)
        return (f"Released as {req.release_number}; entered in the patient's accounting "
                "of disclosures. Now deliver it.")  # fmt: skip

    return act(request, request_id, "release", run)


# --- delivery --------------------------------------------------------------------------------


@never_cache
@requires("release_records")
def link_new(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Create a download link for the released packet; its address and passcode are
    shown on this one answer only (neither is kept)."""
    if request.method != "POST":
        return redirect("web:release_request", request_id=request_id)
    req = rq.get_request(user=request.user, request_id=request_id)
    packet = req.packets.filter(release_number=req.release_number).first()
    raw = request.POST.get("max_downloads", "5").strip()
    try:
        if packet is None:
            raise ValidationFailed(f"request {req.number} has not been released",
                                   field="packet")  # fmt: skip
        if not raw.isdigit():
            raise ValidationFailed(f"allow a number of downloads, not {raw[:10]!r}",
                                   field="max_downloads")  # fmt: skip
        link, token, passcode = delivery.create_link(
            actor=actor_from_request(request), packet=packet, max_downloads=int(raw)
        )
    except ValidationFailed as exc:
        return render_request(
            request, req, errors={"link": {exc.field or "": exc.message}}
        )
    url = request.build_absolute_uri(reverse("web:release_download", args=[token]))
    new_link = {"link": link, "url": url, "passcode": passcode}
    return render_request(request, req, new_link=new_link)


@requires("release_records")
def link_revoke(request: HttpRequest, request_id: UUID, link_id: UUID) -> HttpResponse:
    """Stop a link working."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        link = delivery_link(req, link_id)
        delivery.revoke_link(actor=actor, link=link, reason=post.get("reason", ""))
        return "Link revoked."

    return act(request, request_id, "revokelink", run, target=link_id)


def delivery_link(req: ReleaseRequest, link_id: UUID) -> DownloadLink:
    link = DownloadLink.objects.filter(pk=link_id, packet__request=req).first()
    if link is None:
        raise NotFound(f"request {req.number} has no link {link_id}")
    return link


@requires("release_records")
def log_delivery(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Record the packet mailed, faxed or picked up."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        row = delivery.log_delivery(actor=actor, req=req, method=post.get("method", ""),
                                    detail=post.get("detail", ""))  # fmt: skip
        return f"{row.get_method_display()} recorded."

    return act(request, request_id, "delivery", run)


@never_cache
@requires(PUBLIC)
def download(request: HttpRequest, token: str) -> HttpResponse:
    """The requester's page: the passcode, then the packet. Every try is audited
    by the service; nothing about the request is shown before the passcode."""
    error, status = "", 200
    if request.method == "POST":
        try:
            data = delivery.download(token, request.POST.get("passcode", ""),
                                     client_address(request))  # fmt: skip
        except (PermissionDenied, NotFound) as exc:
            error, status = exc.message, 404 if isinstance(exc, NotFound) else 403
        else:
            zipped = data[:2] == b"PK"
            response = HttpResponse(data, content_type="application/zip" if zipped
                                    else "application/pdf")  # fmt: skip
            response["Content-Disposition"] = (
                f'attachment; filename="records.{"zip" if zipped else "pdf"}"'
            )
            response["Cache-Control"] = "no-store, private"
            return response
    return render(request, "web/release_download.html", {"error": error}, status=status)
