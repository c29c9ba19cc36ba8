"""POST /api/v1/capture/batches and GET a batch, with a real token."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from recordroom.capture.models import CaptureBatch
from recordroom.capture.pipeline import run_batch
from tests import factories
from tests.api.conftest import api_for

from . import scans


def test_many_files_are_uploaded_as_batches_and_followed_to_the_queue(
    capturer, facility
):
    api = api_for(capturer)
    pdf = scans.text_pdf(scans.LINES)
    response = api.client.post(
        "/api/v1/capture/batches",
        data={"files": [SimpleUploadedFile("a.pdf", pdf, "application/pdf"),
                        SimpleUploadedFile("b.pdf", pdf, "application/pdf"),
                        SimpleUploadedFile("memo.docx", b"PK\x03\x04", "application/msword")],
              "source": "Front desk", "facility": "north"},
        headers=api.headers,
    )  # fmt: skip
    assert response.status_code == 201, response.content
    a, b, memo = response.json()
    assert (a["status"], a["pages"], a["facility"], a["source"]) == (
        "received",
        1,
        "NORTH",
        "Front desk",
    )
    assert (b["status"], b["duplicate_of"]) == ("duplicate", a["id"])
    assert memo["status"] == "refused"
    assert (
        memo["problem"] == "a .docx is not a scan: capture takes PDF, TIFF, PNG or JPEG"
    )
    run_batch(a["id"])
    got = api.get(f"/capture/batches/{a['id']}")
    assert got.status_code == 200
    body = got.json()
    assert (body["status"], body["step"], body["documents"]) == (
        "indexing",
        "file",
        {"queued": 1},
    )
    assert CaptureBatch.objects.count() == 3


def test_an_unknown_facility_is_refused_by_name(capturer):
    api = api_for(capturer)
    response = api.client.post(
        "/api/v1/capture/batches",
        data={"files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4", "application/pdf")],
              "facility": "MARS"}, headers=api.headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["message"] == "unknown facility code 'MARS'"


def test_a_batch_of_another_facility_is_not_found(
    capturer, source, other_facility, actor
):
    from recordroom.capture.intake import receive_file

    south_user = factories.user("south1", "him_manager", facilities=[other_facility])
    batch = receive_file(actor=actor, data=scans.text_pdf(("x",)), filename="x.pdf",
                         source=source)  # fmt: skip
    assert api_for(south_user).get(f"/capture/batches/{batch.pk}").status_code == 404
    assert api_for(capturer).get(f"/capture/batches/{batch.pk}").status_code == 200


def test_a_coder_may_not_capture(db, facility):
    coder = factories.user("coder1", "coder", facilities=[facility])
    api = api_for(coder)
    response = api.client.post(
        "/api/v1/capture/batches",
        data={"files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4", "application/pdf")]},
        headers=api.headers,
    )  # fmt: skip
    assert response.status_code == 403
    assert "bring in scanned paper" in response.json()["message"]
