"""The indexing pages through the Django client: the queue, a document with its
thumbnails, the values read boxed on the large page, page images, edits posted with
and without the fragment header, filing, the chart's provenance, the misfile move
and review, the dashboard and cover sheets."""

from __future__ import annotations

import re

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.capture.models import CaptureDocument, DocumentMove
from recordroom.records.models import DocumentType
from tests import factories
from tests.capture.queue_data import batch, document, mrn_value, source

from .conftest import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(facility):
    return batch(["Page one\nMRN N100001", "Page two", "Page three"],
                 src=source("Scanner 1", facility), facility=facility)  # fmt: skip


@pytest.fixture
def discharge(db):
    return DocumentType.objects.get(code="18842-5")


def test_the_queue_and_a_document_with_its_values_boxed(him_client, scanned,
                                                        patient, discharge):  # fmt: skip
    doc = document(scanned, [1, 2, 3], patient=patient, confidence=0.99,
                   doc_type=discharge, values=[mrn_value(1, "N100001")])  # fmt: skip
    listing = him_client.get("/capture/").content.decode()
    assert "scan-0001.pdf" in listing and "NÚÑEZ, José" in listing
    assert f"/capture/documents/{doc.pk}" in listing
    page = him_client.get(f"/capture/documents/{doc.pk}").content.decode()
    assert page.count('class="thumb-label') == 3
    # the MRN read at [195,222,470,262] px of a 1700x2200 page
    assert 'style="left:11.47%;top:10.09%;width:16.18%;height:1.82%"' in page
    assert 'data-clean="1"' in page and "Filed" not in page
    png = him_client.get(f"/capture/documents/{doc.pk}/pages/1.png?size=thumb")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png["Cache-Control"] == "no-store, private"
    parts = AuditEvent.objects.filter(action="capture.view").values_list(
        "detail", flat=True
    )
    assert any('"part":"page 1 thumbnail"' in d for d in parts)


def test_the_reason_a_document_was_cut_where_it_starts_is_shown(
    him_client, scanned, patient, discharge
):
    doc = document(scanned, [2, 3], patient=patient, confidence=0.9,
                   doc_type=discharge)  # fmt: skip
    doc.evidence = {**doc.evidence, "split": "page 2 is page 1 of 2"}
    doc.save(update_fields=["evidence"])
    page = him_client.get(f"/capture/documents/{doc.pk}").content.decode()
    assert 'id="split-reason">Cut here because: page 2 is page 1 of 2</p>' in page


def test_edits_answer_with_the_fragment_or_a_redirect(him_client, scanned):
    doc = document(scanned, [1, 2, 3])
    url = f"/capture/documents/{doc.pk}/edit"
    frag = him_client.post(url, {"op": "rotate", "position": "2", "current": "2"},
                           HTTP_X_FRAGMENT="1")  # fmt: skip
    assert frag.status_code == 200
    assert (
        "<html" not in frag.content.decode()
        and "2.png?rotate=90" in frag.content.decode()
    )
    back = him_client.post(url, {"op": "split", "position": "3", "current": "3"})
    assert (
        back.status_code == 302
        and back["Location"] == f"/capture/documents/{doc.pk}?page=2"
    )
    assert [p["page"] for p in CaptureDocument.objects.get(pk=doc.pk).pages] == [1, 2]
    bad = him_client.post(url, {"op": "split", "position": "9"}, HTTP_X_FRAGMENT="1")
    assert "page 9 is not in this document (it has 2)" in bad.content.decode()


def test_filing_goes_on_to_the_next_document_and_the_chart_shows_provenance(
    him_client, scanned, patient, discharge
):
    first = document(
        scanned, [1, 2], patient=patient, confidence=0.99, doc_type=discharge
    )
    second = document(scanned, [3])
    done = him_client.post(f"/capture/documents/{first.pk}/file", {})
    assert (
        done.status_code == 302
        and done["Location"] == f"/capture/documents/{second.pk}"
    )
    filed = CaptureDocument.objects.get(pk=first.pk).filed
    page = him_client.get(f"/documents/{filed.pk}").content.decode()
    assert "scan-0001.pdf" in page and re.search(r'id="capture-pages">1, 2<', page)
    assert "Move to another patient (misfile)" in page


def test_a_doubtful_document_asks_for_the_patient_confirmation(him_client, scanned,
                                                              patient, discharge):  # fmt: skip
    doc = document(scanned, [1], patient=patient, confidence=0.6, doc_type=discharge)
    page = him_client.get(f"/capture/documents/{doc.pk}").content.decode()
    assert 'data-clean="0"' in page and 'id="confirm-patient"' in page
    refused = him_client.post(f"/capture/documents/{doc.pk}/file", {},
                              HTTP_X_FRAGMENT="1")  # fmt: skip
    assert "confirm the patient before filing" in refused.content.decode()
    ok = him_client.post(f"/capture/documents/{doc.pk}/file", {"confirm_patient": "1"},
                         HTTP_X_FRAGMENT="1")  # fmt: skip
    assert ok.status_code == 204 and ok["X-Redirect"] == "/capture/"


def test_misfile_move_and_privacy_review_pages(him_client, him, facility, patient):
    doc = factories.document(patient=patient, facility=facility, text="Wrong chart")
    right = factories.patient(facility=facility, family="Rivera", mrn="N100077")
    him_client.get(f"/documents/{doc.pk}/content?how=view")
    form = him_client.get(
        f"/documents/{doc.pk}/move?find=1&name=Rivera"
    ).content.decode()
    assert f"?to={right.pk}" in form
    moved = him_client.post(f"/documents/{doc.pk}/move",
                            {"to": str(right.pk), "reason": "DOB on page 1 differs"})  # fmt: skip
    assert moved.status_code == 302
    assert DocumentMove.objects.get().to_patient_id == right.pk
    chart = him_client.get(f"/patients/{patient.pk}").content.decode()
    assert "Moved out of this chart" in chart and "Wrong chart" not in chart
    officer = signed_in(factories.user("po1", "privacy_officer", facilities=[facility]))
    reviews = officer.get("/capture/misfiles").content.decode()
    assert "DOB on page 1 differs" in reviews and "him1" in reviews
    assert "document.view" in reviews
    move = DocumentMove.objects.get()
    officer.post(f"/capture/misfiles/{move.pk}", {"note": "indexer only"})
    move.refresh_from_db()
    assert move.privacy_reviewed_by == "po1" and move.privacy_note == "indexer only"


def test_cover_sheet_from_the_chart_and_after_registering(him_client, patient):
    chart = him_client.get(f"/patients/{patient.pk}").content.decode()
    assert "Print a cover sheet" in chart
    pdf = him_client.get(f"/patients/{patient.pk}/cover-sheet?type=18842-5&pages=2")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="capture.cover").count() == 1
    session = him_client.session
    session["capture_cover_for"] = str(patient.pk)
    session.save()
    assert (
        'id="cover-after-registration"'
        in him_client.get(f"/patients/{patient.pk}").content.decode()
    )


def test_the_dashboard_counts_for_a_supervisor(facility, scanned, patient, discharge):
    manager = signed_in(factories.user("mgr1", "him_manager", facilities=[facility]))
    document(scanned, [1, 2])
    page = manager.get("/capture/dashboard?days=7").content.decode()
    assert re.search(r'id="fig-received">3<', page)
    assert re.search(r'id="fig-waiting">1<', page)
    assert (
        re.search(r'id="fig-oldest">2 h 0 min<', page)
        or 'id="fig-oldest">1 h 59' in page
    )
