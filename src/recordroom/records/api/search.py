"""Search inside documents over the JSON API: across the charts in the user's scope and
within one chart, and a page's image with the hits drawn on it.

Thin adapters: parse, call one service, render. The search audits itself
(fulltext.search_documents, `document.search`); the page image is a document view
(read_content); a chart outside the user's scope is refused and audited
(mpi.api.open_patient).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from recordroom.kernel import actions
from recordroom.mpi.api import open_patient

from .. import fulltext
from ..fulltext import Hit, HitPage
from .common import actor_of, open_document

router = Router(tags=["records"])

_Q = Query(..., min_length=1, max_length=fulltext.MAX_QUERY,
           description='Words (all required), "quoted phrases", prefix* '
           "(case and accents ignored)")  # fmt: skip
_LIMIT = Query(20, ge=1, le=fulltext.MAX_LIMIT)
_PATIENT = Query(None, description="Only this patient's chart")
_CURSOR = Query(None, max_length=80, description="`next` of the page before")


class DocumentHitOut(Schema):
    document: UUID
    patient: UUID
    title: str
    type: str
    service_start: datetime
    facility: str
    status: str
    version: int
    page: int
    snippet: str
    marks: list[tuple[int, int]]  # [start, end) of each hit in `snippet`

    @staticmethod
    def from_hit(hit: Hit) -> DocumentHitOut:
        doc = hit.document
        return DocumentHitOut(
            document=doc.pk, patient=doc.patient_id, title=doc.title,
            type=doc.doc_type.display, service_start=doc.service_start,
            facility=doc.facility.code, status=doc.status, version=hit.version,
            page=hit.page, snippet=hit.snippet, marks=hit.marks,
        )  # fmt: skip


class DocumentSearchOut(Schema):
    hits: list[DocumentHitOut]
    next: str | None


def _out(page: HitPage) -> DocumentSearchOut:
    return DocumentSearchOut(
        hits=[DocumentHitOut.from_hit(h) for h in page.hits], next=page.next
    )


@router.get(
    "/documents/search", response=DocumentSearchOut,
    openapi_extra={"x-capability": "view_document"},
)  # fmt: skip
def search_documents(
    request: HttpRequest, q: str = _Q,
    patient: UUID | None = _PATIENT,
    limit: int = _LIMIT, cursor: str | None = _CURSOR,
) -> DocumentSearchOut:  # fmt: skip
    """Pages of documents you could open whose text holds every term, newest date of
    service first; audited as document.search naming the patients returned."""
    actor = actor_of(request)
    chart = None
    if patient is not None:
        chart = open_patient(actor, patient, action=actions.DOCUMENT_SEARCH.name,
                             detail={"query": q})  # fmt: skip
    page = fulltext.search_documents(actor=actor, query=q, patient=chart,
                                     limit=limit, cursor=cursor)  # fmt: skip
    return _out(page)


@router.get(
    "/patients/{patient_id}/documents/search", response=DocumentSearchOut,
    openapi_extra={"x-capability": "view_document"},
)  # fmt: skip
def search_chart_documents(
    request: HttpRequest, patient_id: UUID, q: str = _Q, limit: int = _LIMIT,
    cursor: str | None = _CURSOR,
) -> DocumentSearchOut:  # fmt: skip
    """The same search within one chart."""
    actor = actor_of(request)
    chart = open_patient(actor, patient_id, action=actions.DOCUMENT_SEARCH.name,
                         detail={"query": q})  # fmt: skip
    page = fulltext.search_documents(actor=actor, query=q, patient=chart,
                                     limit=limit, cursor=cursor)  # fmt: skip
    return _out(page)


@router.get(
    "/documents/{document_id}/pages/{page}/image",
    openapi_extra={
        "x-capability": "view_document",
        "responses": {200: {"description": "The page as PNG, the hits boxed",
                            "content": {"image/png": {}}}},
    },
)  # fmt: skip
def page_image(
    request: HttpRequest,
    document_id: UUID,
    page: int,
    q: str = "",
    version: int | None = Query(None, ge=1, description="Default: the current one"),
) -> HttpResponse:
    """A page of a PDF document at 100 dpi with the words `q` hits boxed in yellow
    (once its text is indexed); audited as a document view."""
    actor = actor_of(request)
    doc = open_document(actor, document_id, action=actions.DOCUMENT_VIEW.name)
    hits = fulltext.page_hits(doc, page, q, version_number=version)
    png = fulltext.render_page(actor=actor, document=doc, page=page, hits=hits,
                               version_number=version)  # fmt: skip
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response
