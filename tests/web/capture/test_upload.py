"""The capture upload page: many files in one post (CSRF checked), each a batch shown
with its status; the nav link only for those who may capture."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from recordroom.capture.models import CaptureBatch
from recordroom.capture.pipeline import run_batch
from tests import factories
from tests.capture import scans
from tests.web.conftest import signed_in


def test_many_files_become_batches_listed_with_their_status(db, facility):
    user = factories.user("scan1", "him_specialist", facilities=[facility])
    client = signed_in(user)
    page = client.get("/capture/upload")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        'href="/capture/upload">Capture</a>' in html and "Nothing uploaded yet." in html
    )
    pdf = scans.text_pdf(scans.LINES)
    sent = client.post("/capture/upload", {
        "files": [SimpleUploadedFile("a.pdf", pdf), SimpleUploadedFile("b.tif", b"II*\x00bad"),
                  SimpleUploadedFile("c.pdf", pdf)],
        "source": "Unit 4 scanner", "facility": "NORTH",
    }, follow=True)  # fmt: skip
    html = sent.content.decode()
    assert (
        "3 files received; 1 already received before (not read again); 1 refused"
        in html
    )
    a = CaptureBatch.objects.get(filename="a.pdf")
    assert a.source.name == "Unit 4 scanner" and a.facility == facility
    assert "&#x27;b.tif&#x27; is a damaged TIFF image that cannot be read" in html
    assert 'data-working="1"' in html
    run_batch(a.pk)
    fragment = client.get("/capture/upload/batches").content.decode()
    assert "Waiting for indexing" in fragment and "1 queued" in fragment
    assert 'data-working=""' in fragment


def test_the_post_needs_the_csrf_token(db, facility):
    user = factories.user("scan1", "him_specialist", facilities=[facility])
    client = signed_in(user)
    client.handler.enforce_csrf_checks = True
    sent = client.post(
        "/capture/upload", {"files": [SimpleUploadedFile("a.pdf", b"%PDF")]}
    )
    assert sent.status_code == 403 and not CaptureBatch.objects.exists()


def test_a_coder_sees_no_capture_link_and_is_refused(db, facility):
    coder = factories.user("coder1", "coder", facilities=[facility])
    client = signed_in(coder)
    assert 'href="/capture/upload"' not in client.get("/").content.decode()
    assert client.get("/capture/upload").status_code == 403


def test_anonymous_is_sent_to_sign_in(db):
    assert Client().get("/capture/upload").status_code == 302
