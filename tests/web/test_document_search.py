"""The search inside documents pages: the box in the chart, the chart's and the
cross-chart results with the hits marked, and a page with its hits highlighted on
the page image (a document view)."""

from __future__ import annotations

import base64
import io
import json
import re

from PIL import Image

from recordroom.audit.models import AuditEvent
from tests import factories
from tests.records.test_fulltext import add, index_all, pdf

from .conftest import signed_in


def _world(facility, other_facility):
    north = factories.patient(facility=facility, family="Mwangi", given="Wanjiru")
    south = factories.patient(facility=other_facility, family="Hale", given="Tom")
    consult = add(
        north,
        facility,
        "Cardiology consult",
        4,
        pdf([["History of atrial fibrillation"], ["Plan: start apixaban"]]),
    )
    memo = add(
        north,
        facility,
        "Phone memo",
        1,
        b"Asked about apixaban refills",
        media="text/plain",
    )
    other = add(south, other_facility, "Elsewhere", 2, pdf([["Apixaban 5 mg"]]))
    index_all(consult, memo, other)
    user = factories.user("finder", "him_specialist", facilities=[facility])
    return north, south, consult, memo, user


def test_the_chart_has_a_search_box_and_finds_within_the_chart(
    db, facility, other_facility
):
    north, _, consult, memo, user = _world(facility, other_facility)
    client = signed_in(user)
    chart = client.get(f"/patients/{north.pk}").content.decode()
    assert f'action="/patients/{north.pk}/documents/search"' in chart
    assert 'id="doc-search-q"' in chart
    r = client.get(f"/patients/{north.pk}/documents/search", {"q": "apixaban"})
    assert r.status_code == 200
    page = r.content.decode()
    rows = re.findall(r'<td class="snippet">(.*?)</td>', page)
    assert rows == [
        "Asked about <mark>apixaban</mark> refills",
        "Plan: start <mark>apixaban</mark>",
    ]
    assert f'href="/documents/{consult.pk}/pages/2?q=apixaban"' in page
    assert f'href="/documents/{memo.pk}/pages/1?q=apixaban"' in page
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id, event.channel) == (
        "document.search",
        str(north.pk),
        "web",
    )
    assert json.loads(event.detail)["within"] == "chart"


def test_search_across_charts_shows_only_charts_in_scope(db, facility, other_facility):
    north, south, *_, user = _world(facility, other_facility)
    client = signed_in(user)
    page = client.get("/").content.decode()
    assert '<a href="/search/documents">Search documents</a>' in page
    r = client.get("/search/documents", {"q": "apixaban"})
    page = r.content.decode()
    assert page.count('<td class="snippet">') == 2
    assert f'href="/patients/{north.pk}"' in page and "MWANGI, Wanjiru" in page
    assert "Elsewhere" not in page and str(south.pk) not in page
    bad = client.get("/search/documents", {"q": "a*"})
    assert bad.status_code == 422
    assert "a prefix needs at least two letters" in bad.content.decode()
    # Another facility's chart is refused, and the attempt audited.
    assert client.get(f"/patients/{south.pk}/documents/search",
                      {"q": "apixaban"}).status_code == 403  # fmt: skip
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome, event.patient_id) == (
        "document.search",
        "denied",
        str(south.pk),
    )


def test_a_page_with_its_hits_highlighted_on_the_image(db, facility, other_facility):
    _, _, consult, memo, user = _world(facility, other_facility)
    client = signed_in(user)
    r = client.get(f"/documents/{consult.pk}/pages/1", {"q": '"atrial fibrillation"'})
    assert r.status_code == 200
    page = r.content.decode()
    assert "page 1 of 2" in page
    assert "2 words on this page match" in page
    src = re.search(r'id="page-image" src="data:image/png;base64,([^"]+)"', page)
    image = Image.open(io.BytesIO(base64.b64decode(src.group(1)))).convert("RGB")
    yellow = [
        (x, y) for x in range(80, 500, 2) for y in range(150, 180)
        if image.getpixel((x, y)) == (255, 243, 180)
        or (image.getpixel((x, y))[0] > 220 and image.getpixel((x, y))[2] < 190)
    ]  # fmt: skip
    assert len(yellow) > 300
    xs = [x for x, _ in yellow]
    assert min(xs) > 140  # "History of " is not highlighted
    assert "<mark>atrial</mark> <mark>fibrillation</mark>" in page
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.object_type) == (
        "document.view",
        "records.documentversion",
    )
    # A text document's page: its words, marked.
    r = client.get(f"/documents/{memo.pk}/pages/1", {"q": "refill*"})
    assert "<mark>refills</mark>" in r.content.decode()
    assert AuditEvent.objects.order_by("-id").first().action == "document.view"
