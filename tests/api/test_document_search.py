"""Search inside documents over the JSON API: across charts and within one, refused
outside the user's scope (audited), and a page's image with its hits boxed."""

from __future__ import annotations

import io
import json

from PIL import Image

from recordroom.audit.models import AuditEvent
from recordroom.records.models import Document
from tests import factories
from tests.records.test_fulltext import add, index_all, pdf

from .conftest import api_for


def _chart(facility, other_facility):
    north = factories.patient(facility=facility, family="Abara", given="Chidi")
    south = factories.patient(facility=other_facility, family="Berg", given="Ola")
    docs = [
        add(north, facility, "Consult", 3,
            pdf([["Mitral regurgitation, moderate"], ["Echo in one year"]])),
        add(north, facility, "Letter", 1, pdf([["Thanks for seeing this patient"]])),
        add(south, other_facility, "Elsewhere", 2, pdf([["Mitral stenosis"]])),
    ]  # fmt: skip
    index_all(*docs)
    return north, south, docs


def test_search_across_charts_in_scope_and_within_one(db, facility, other_facility):
    north, south, docs = _chart(facility, other_facility)
    user = factories.user("reader", "him_specialist", facilities=[facility])
    api = api_for(user)
    r = api.get("/documents/search", q="mitral")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["next"] is None
    assert [(h["title"], h["page"]) for h in body["hits"]] == [("Consult", 1)]
    hit = body["hits"][0]
    assert hit["patient"] == str(north.pk) and hit["document"] == str(docs[0].pk)
    assert hit["snippet"] == "Mitral regurgitation, moderate"
    assert hit["marks"] == [[0, 6]]
    assert (hit["facility"], hit["version"], hit["type"]) == (
        "NORTH",
        1,
        docs[0].doc_type.display,
    )
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id, event.channel) == (
        "document.search",
        str(north.pk),
        "api",
    )
    # Within the chart, paged one at a time.
    r = api.get(f"/patients/{north.pk}/documents/search", q="echo* OR mitral", limit=1)
    assert r.json()["hits"] == []  # every word is required: "or" is a word too
    r = api.get(f"/patients/{north.pk}/documents/search", q='"mitral regurgitation"')
    assert [h["page"] for h in r.json()["hits"]] == [1]
    r = api.get("/documents/search", q="e*", patient=str(north.pk))
    assert r.status_code == 422 and "two letters" in r.json()["message"]


def test_r_sec_1_a_chart_outside_scope_is_refused_and_audited(
    db, facility, other_facility
):
    _, south, _ = _chart(facility, other_facility)
    api = api_for(factories.user("reader2", "him_specialist", facilities=[facility]))
    r = api.get(f"/patients/{south.pk}/documents/search", q="mitral")
    assert r.status_code == 403
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome, event.patient_id) == (
        "document.search",
        "denied",
        str(south.pk),
    )
    assert json.loads(event.detail)["query"] == "mitral"
    # An auditor's role reads no documents: the route is refused before searching.
    auditor = api_for(factories.user("aud", "auditor", facilities=[facility]))
    assert auditor.get("/documents/search", q="mitral").status_code == 403


def test_page_image_boxes_the_hits_and_is_a_document_view(db, facility, other_facility):
    _, _, docs = _chart(facility, other_facility)
    api = api_for(factories.user("reader3", "him_specialist", facilities=[facility]))
    r = api.get(f"/documents/{docs[0].pk}/pages/1/image", q="regurgitation")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert image.size == (827, 1170)
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_type) == (
        "document.view",
        "records.documentversion",
    )
    yellowish = sum(
        1 for x in range(100, 400) for y in range(150, 180)
        if image.getpixel((x, y))[2] < 150 and image.getpixel((x, y))[0] > 200
    )  # fmt: skip
    assert yellowish > 500
    assert api.get(f"/documents/{docs[0].pk}/pages/9/image").status_code == 404
    other = Document.objects.get(title="Elsewhere")
    assert api.get(f"/documents/{other.pk}/pages/1/image").status_code == 403
