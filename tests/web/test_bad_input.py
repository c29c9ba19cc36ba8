"""Bad input gives a clear error naming the problem, nothing half-written, and the
attempt audited where it touches PHI (issue 2, "Bad input")."""

from __future__ import annotations

import json
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.records.models import Document, DocumentType
from tests import factories

from .conftest import signed_in


def _upload(client, patient, encounter, *, file, **extra):
    data = {
        "doc_type": DocumentType.objects.get(code="18842-5").pk,
        "encounter": encounter.pk,
        "service_date": "2024-03-05",
        "status": "final",
        "file": file,
        **extra,
    }
    return client.post(reverse("web:upload", kwargs={"patient_id": patient.pk}), data)


def test_path_traversal_file_name_is_refused_with_the_reason(
    him_client, chart_patient, encounter
):
    pdf = SimpleUploadedFile("ok.pdf", factories.pdf_bytes(), "application/pdf")
    response = _upload(
        him_client,
        chart_patient,
        encounter,
        file=pdf,
        filename="../../etc/cron.d/x.pdf",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "The document was not filed." in html
    assert "file name &#x27;../../etc/cron.d/x.pdf&#x27; contains a path" in html
    assert not Document.objects.filter(patient=chart_patient).exists()
    assert not AuditEvent.objects.filter(action="document.create").exists()


def test_mislabelled_upload_is_refused_naming_both_types(
    him_client, chart_patient, encounter
):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    fake = SimpleUploadedFile("summary.pdf", png, content_type="application/pdf")
    response = _upload(him_client, chart_patient, encounter, file=fake)
    assert response.status_code == 422
    assert (
        "file &#x27;summary.pdf&#x27; is labelled application/pdf but its content is "
        "image/png" in response.content.decode()
    )
    assert not Document.objects.filter(patient=chart_patient).exists()


def test_unknown_file_kind_and_oversized_files_are_refused(
    him_client, chart_patient, encounter, settings
):
    exe = SimpleUploadedFile(
        "tool.pdf", b"MZ\x90\x00binary", "application/octet-stream"
    )
    response = _upload(him_client, chart_patient, encounter, file=exe)
    assert response.status_code == 422
    assert (
        "is not a PDF, PNG, JPEG, TIFF or UTF-8 text file" in response.content.decode()
    )

    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (2 * 1024 * 1024))
    response = _upload(him_client, chart_patient, encounter, file=big)
    assert response.status_code == 413
    assert "file &#x27;big.pdf&#x27; is 2.0 MB; the limit is 1 MB" in (
        response.content.decode()
    )
    assert not Document.objects.filter(patient=chart_patient).exists()


def test_upload_form_errors_keep_the_form(him_client, chart_patient, encounter):
    url = reverse("web:upload", kwargs={"patient_id": chart_patient.pk})
    response = him_client.post(url, {"status": "final"})
    assert response.status_code == 422
    html = response.content.decode()
    assert html.count("This field is required.") == 3  # type, date, file
    # An encounter of another patient cannot be picked.
    other = factories.patient(facility=encounter.facility, family="Other")
    theirs = factories.encounter(patient=other, facility=encounter.facility)
    pdf = SimpleUploadedFile("ok.pdf", factories.pdf_bytes(), "application/pdf")
    response = _upload(him_client, chart_patient, theirs, file=pdf)
    assert "Select a valid choice." in response.content.decode()


def test_tampered_blob_gives_an_integrity_error_never_the_bytes(
    him_client, pdf_document
):
    version = pdf_document.versions.get()
    path = default_store().path_for(version.sha256)
    original = path.read_bytes()
    path.write_bytes(original[:-10] + b"0123456789")  # flip the last bytes on disk
    url = reverse("web:document_content", kwargs={"document_id": pdf_document.pk})
    response = him_client.get(url, {"how": "view"})
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f"blob {version.sha256} failed its integrity check" in html
    assert "%PDF" not in html
    event = AuditEvent.objects.get(action="document.integrity_failure")
    assert (event.outcome, event.patient_id, event.object_id) == (
        "failure",
        str(pdf_document.patient_id),
        str(version.pk),
    )
    assert not AuditEvent.objects.filter(action="document.view").exists()


def test_missing_blob_is_an_integrity_error_too(him_client, pdf_document):
    default_store().path_for(pdf_document.versions.get().sha256).unlink()
    response = him_client.get(
        reverse("web:document_content", kwargs={"document_id": pdf_document.pk}),
        {"how": "download"},
    )
    assert response.status_code == 500
    assert "is missing from the store" in response.content.decode()


def test_unknown_ids_are_404_with_the_id(him_client, db):
    missing = uuid.uuid4()
    for name, key in (
        ("chart", "patient_id"),
        ("upload", "patient_id"),
        ("document", "document_id"),
        ("document_content", "document_id"),
    ):
        response = him_client.get(reverse(f"web:{name}", kwargs={key: missing}))
        assert response.status_code == 404, name
        assert str(missing) in response.content.decode()
    assert him_client.get("/patients/not-a-uuid").status_code == 404


def test_bad_query_parameters_name_the_value(him_client, pdf_document):
    url = reverse("web:document_content", kwargs={"document_id": pdf_document.pk})
    bad_how = him_client.get(url, {"how": "shred"})
    assert bad_how.status_code == 422
    assert "read as view, download or print, not &#x27;shred&#x27;" in (
        bad_how.content.decode()
    )
    bad_version = him_client.get(url, {"version": "two"})
    assert (
        "version must be a number from 1, got &#x27;two&#x27;"
        in bad_version.content.decode()
    )
    for odd in ("\u00b2", "0"):  # a superscript digit; a version before the first
        assert him_client.get(url, {"version": odd}).status_code == 422
    assert him_client.get(url, {"version": "9"}).status_code == 404
    assert him_client.get(url, {"disposition": "x"}).status_code == 422
    access = reverse("web:access_log", kwargs={"patient_id": pdf_document.patient_id})
    privacy = factories.user("p1", "privacy_officer", all_facilities=True)
    assert signed_in(privacy).get(access, {"before": "x"}).status_code == 422
    assert signed_in(privacy).get(access, {"before": "\u00b2"}).status_code == 422


def test_out_of_scope_chart_and_document_are_refused_and_audited(
    db, pdf_document, other_facility
):
    outsider = factories.user("south1", "him_specialist", facilities=[other_facility])
    client = signed_in(outsider)
    patient_id = str(pdf_document.patient_id)
    chart = client.get(reverse("web:chart", kwargs={"patient_id": patient_id}))
    assert chart.status_code == 403
    assert "has no record at your facilities" in chart.content.decode()
    denied = AuditEvent.objects.get(action="chart.open")
    assert (denied.outcome, denied.patient_id, denied.username) == (
        "denied", patient_id, "south1",
    )  # fmt: skip
    content = client.get(
        reverse("web:document_content", kwargs={"document_id": pdf_document.pk}),
        {"how": "download"},
    )
    assert content.status_code == 403
    assert b"%PDF" not in content.content
    denied = AuditEvent.objects.get(action="document.download")
    assert (denied.outcome, denied.patient_id) == ("denied", patient_id)
    assert json.loads(denied.detail)["document"] == str(pdf_document.pk)
    page = client.get(reverse("web:document", kwargs={"document_id": pdf_document.pk}))
    assert page.status_code == 403
    assert AuditEvent.objects.get(action="document.view").outcome == "denied"
    upload = client.get(reverse("web:upload", kwargs={"patient_id": patient_id}))
    assert upload.status_code == 403
    refused = AuditEvent.objects.get(action="document.create", outcome="denied")
    assert (refused.username, refused.patient_id) == ("south1", patient_id)
