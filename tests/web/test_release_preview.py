"""The redaction page's page preview: a page of one of the request's documents as a
PNG at the preview resolution (the read audited like the packet's), a page picker,
the redactions already on the page drawn over it; only for the desk, and only for
the request's own documents."""

from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image
from reportlab.lib.pagesizes import A5, landscape, letter
from reportlab.pdfgen import canvas

from recordroom.audit.models import AuditEvent
from recordroom.release import scope
from recordroom.release.models import ReleaseItem
from recordroom.release.preview import PREVIEW_DPI
from tests import factories
from tests.release.makers import file_doc

from .conftest import signed_in
from .test_release_desk import make_request


def two_sizes() -> bytes:
    """Page 1 letter portrait, page 2 A5 landscape."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.drawString(72, 720, "Discharge summary, SSN 123-45-6789")
    c.showPage()
    c.setPageSize(landscape(A5))
    c.drawString(40, 300, "Billing notes: account 5551")
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


@pytest.fixture
def item(roi, patient, facility) -> ReleaseItem:
    file_doc(patient=patient, facility=facility, title="Discharge summary",
             data=two_sizes())  # fmt: skip
    req = make_request(roi, patient)
    return scope.select_documents(actor=factories.SYSTEM, req=req)[0]


def png_url(item: ReleaseItem, page: int) -> str:
    return f"/release/{item.request_id}/items/{item.pk}/pages/{page}.png"


@pytest.mark.parametrize(("page", "size"), [(1, letter), (2, landscape(A5))])
def test_the_page_comes_as_a_png_of_its_size_and_the_read_is_audited(
    roi, item, page, size
):
    response = signed_in(roi).get(png_url(item, page))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    width, height = (round(points * PREVIEW_DPI / 72) for points in size)
    assert abs(image.width - width) <= 1 and abs(image.height - height) <= 1
    event = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert event.patient_id == str(item.request.patient_id)
    assert json.loads(event.detail) == {
        "release_request": item.request.number, "part": "page preview",
        "document": str(item.document_id), "page": page}  # fmt: skip


def test_only_the_desk_and_only_the_requests_documents(roi, item, patient, facility):
    officer = factories.user("po1", "privacy_officer", facilities=[facility])
    before = AuditEvent.objects.filter(patient_id=str(patient.pk)).count()
    refused = signed_in(officer).get(png_url(item, 1))
    assert refused.status_code == 403
    assert "release" in refused.content.decode().lower()
    assert AuditEvent.objects.filter(patient_id=str(patient.pk)).count() == before
    client = signed_in(roi)
    assert client.get(png_url(item, 3)).status_code == 404  # no such page
    other = make_request(roi, patient)  # another request: not its item
    wrong = f"/release/{other.pk}/items/{item.pk}/pages/1.png"
    assert client.get(wrong).status_code == 404


def test_the_redaction_page_shows_the_picked_page_and_its_redactions(roi, item):
    client = signed_in(roi)
    url = f"/release/{item.request_id}/items/{item.pk}"
    page = client.get(url).content.decode()
    assert f'src="{png_url(item, 1)}"' in page
    assert 'data-matrix="1.0000 0.0000 0.0000 0.0000 -1.0000 792.0000"' in page
    assert 'data-width="612.0000"' in page and "recordroom/redact.js" in page
    assert '<option value="2">2</option>' in page

    # a region on page 2 (typed, as without the script): back on page 2, drawn
    done = client.post(f"{url}/redactions", {
        "page": "2", "x": "36", "y": "290", "width": "200", "height": "20",
        "reason": "billing, not asked for", "preview_page": "1"})  # fmt: skip
    assert done.status_code == 302 and done["Location"] == f"{url}?page=2#preview"
    page = client.get(done["Location"]).content.decode()
    assert f'src="{png_url(item, 2)}"' in page and "Page 2 of 2" in page
    (style,) = re.findall(r'class="redaction-box" style="([^"]+)"', page)
    # 36 of 595.3 points from the left, (419.5 - 310) of 419.5 from the top
    assert style.startswith("left:6.048%;top:26.10")
    # a text redaction is drawn where the text is; page 1 shows only its own
    client.post(f"{url}/redactions", {"text": "123-45-6789", "reason": "not needed"})
    page1 = client.get(url).content.decode()
    assert len(re.findall(r'class="redaction-box"', page1)) == 1


def test_a_note_the_role_may_not_read_is_not_previewed_r_pn_1(roi, facility):
    """The release desk's preview is a read like the viewer's: a psychotherapy note
    (readable only by its author, and the privacy officer after break-the-glass) is
    refused there too, naming the label, while the chart's other documents show."""
    from tests.labelled import labelled_chart

    chart = labelled_chart(facility)
    req = make_request(roi, chart.patient)
    scope.select_documents(actor=factories.SYSTEM, req=req)
    items = {i.document_id: i for i in ReleaseItem.objects.filter(request=req)}
    client = signed_in(roi)
    refused = client.get(png_url(items[chart.therapy.pk], 1))
    assert refused.status_code == 403
    assert "Psychotherapy note" in refused.content.decode()
    page = client.get(f"/release/{req.pk}/items/{items[chart.therapy.pk].pk}")
    assert page.status_code == 403
    assert client.get(png_url(items[chart.plain.pk], 1)).status_code == 200
