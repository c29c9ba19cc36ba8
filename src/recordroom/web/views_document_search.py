"""Search inside documents: across the charts in the user's scope, within one chart,
and one page of a document with its hits highlighted on the page image."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from recordroom.accounts.permissions import has
from recordroom.kernel import actions
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Patient
from recordroom.mpi.services import get_patient
from recordroom.records import fulltext
from recordroom.records import services as records
from recordroom.records.fulltext import Hit, HitPage
from recordroom.web.request import actor_from_request

from .views_common import denial_audited, requires
from .views_documents import _document

PAGE_SIZE = 20


def _pieces(text: str, marks: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The snippet cut at its marks: [(text, is_hit)], for <mark> in the template."""
    out: list[tuple[str, bool]] = []
    at = 0
    for start, end in marks:
        if start > at:
            out.append((text[at:start], False))
        out.append((text[start:end], True))
        at = end
    if at < len(text):
        out.append((text[at:], False))
    return out


def _row(hit: Hit) -> dict[str, Any]:
    return {"hit": hit, "doc": hit.document, "pieces": _pieces(hit.snippet, hit.marks)}


def _search(
    request: HttpRequest, patient: Patient | None
) -> tuple[str, HitPage | None, str]:
    """The query, its page of hits (None when nothing was asked) and an error."""
    q = request.GET.get("q", "").strip()
    if not q:
        return q, None, ""
    try:
        page = fulltext.search_documents(
            actor=actor_from_request(request), query=q, patient=patient,
            limit=PAGE_SIZE, cursor=request.GET.get("after") or None,
        )  # fmt: skip
    except ValidationFailed as exc:
        return q, None, exc.message
    return q, page, ""


@requires("view_document")
def search(request: HttpRequest) -> HttpResponse:
    """Search documents across every chart in the user's scope."""
    q, page, error = _search(request, None)
    return _render(request, q, page, error, patient=None)


@requires("view_document")
def chart_search(request: HttpRequest, patient_id: UUID) -> HttpResponse:
    """Search the documents of one chart."""
    with denial_audited(request, action=actions.DOCUMENT_SEARCH.name,
                        patient=patient_id):  # fmt: skip
        patient = get_patient(user=request.user, patient_id=patient_id)
    q, page, error = _search(request, patient)
    return _render(request, q, page, error, patient=patient)


def _render(
    request: HttpRequest, q: str, page: HitPage | None, error: str, *,
    patient: Patient | None,
) -> HttpResponse:  # fmt: skip
    context = {
        "q": q,
        "error": error,
        "page": page,
        "rows": [_row(h) for h in page.hits] if page else None,
        "patient": patient,
        "legal_name": patient.legal_name() if patient else None,
        "continued": bool(request.GET.get("after")),
        "can_view_chart": has(request.user, "view_chart"),
    }
    return render(request, "web/document_search.html", context,
                  status=422 if error else 200)  # fmt: skip


@requires("view_document")
def document_page(request: HttpRequest, document_id: UUID, page: int) -> HttpResponse:
    """One page of a document with the words the search hit highlighted: the page
    image (PDF) or the page's text; audited as a document view."""
    doc = _document(request, document_id, action=actions.DOCUMENT_VIEW.name)
    q = request.GET.get("q", "").strip()
    actor = actor_from_request(request)
    try:
        hits = fulltext.page_hits(doc, page, q)
    except ValidationFailed:
        q, hits = "", fulltext.page_hits(doc, page, "")
    current = records.current_version(doc)
    image = ""
    if current.media_type == "application/pdf":
        png = fulltext.render_page(actor=actor, document=doc, page=page, hits=hits)
        image = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    else:  # the text shown is the document's: a view, as read_content audits one
        records.read_content(actor=actor, document=doc, how="view")
    shown = hits.row.version.number if hits else current.number
    context = {
        "doc": doc,
        "patient": doc.patient,
        "legal_name": doc.patient.legal_name(),
        "q": q,
        "page_number": page,
        "pages": _page_count(doc, shown),
        "version": shown,
        "image": image,
        "words": hits.words if hits else [],
        "hit_count": len(hits.boxes) if hits else 0,
        "hit_words": sum(1 for _, hit in hits.words if hit) if hits else 0,
        "can_view_chart": has(request.user, "view_chart"),
    }
    return render(request, "web/document_page.html", context)


def _page_count(doc: Any, version_number: int) -> int:
    from recordroom.records.models import VersionText

    row = VersionText.objects.filter(
        version__document=doc, version__number=version_number
    ).first()
    return row.pages if row else 0
