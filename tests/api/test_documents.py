"""Documents over the API: metadata, verified content, uploads, versions, status,
signatures, and bad input that writes nothing (R-SEC-3)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.records.models import Document, DocumentVersion, Signature
from recordroom.records.services import sign_version
from tests import factories

from .conftest import api_for, blob_count


def last_event(**filters) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).order_by("-id").first()


def pdf(name="scan.pdf", text="Operative report", content_type="application/pdf"):
    return SimpleUploadedFile(
        name, factories.pdf_bytes(text), content_type=content_type
    )


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buf, format="PNG")
    return buf.getvalue()


# --- reading ----------------------------------------------------------------------------


def test_document_metadata_with_versions_and_signatures(him_api, document):
    author = factories.provider(family="Hale", given="Nora")
    sign_version(actor=factories.SYSTEM, version=document.versions.get(), signer=author)
    response = him_api.get(f"/documents/{document.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["type"]["display"] == "Discharge summary"
    assert (body["version"], body["signed"], body["sensitivity"]) == (1, True, ["HIV"])
    (v1,) = body["versions"]
    assert (v1["number"], v1["kind"], v1["media_type"]) == (
        1,
        "original",
        "application/pdf",
    )
    assert v1["sha256"] == document.versions.get().sha256
    (sig,) = v1["signatures"]
    assert sig["signer"]["name"] == "Nora Hale, MD" and sig["meaning"] == "author"
    assert sig["sha256"] == v1["sha256"] and sig["version"] == 1
    event = last_event(action="chart.open")
    assert event.detail == f'{{"document":"{document.pk}","label_access":"grant"}}'
    assert event.patient_id == str(document.patient_id)


def test_content_is_served_verified_and_audited_as_view_or_download(him_api, document):
    viewed = him_api.get(f"/documents/{document.pk}/content")
    assert viewed.status_code == 200
    assert viewed.content.startswith(b"%PDF-")
    assert viewed["Content-Type"] == "application/pdf"
    assert viewed["Content-Disposition"].startswith("inline")
    assert viewed["Cache-Control"] == "no-store"
    assert viewed["ETag"] == f'"{document.versions.get().sha256}"'
    assert last_event(action="document.view").username == "him1"
    downloaded = him_api.get(f"/documents/{document.pk}/content", how="download")
    assert downloaded["Content-Disposition"] == 'attachment; filename="note.pdf"'
    event = last_event(action="document.download")
    assert event.patient_id == str(document.patient_id) and event.channel == "api"


def test_content_read_mode_and_version_are_validated(him_api, document):
    bad_how = him_api.get(f"/documents/{document.pk}/content", how="fax")
    assert (bad_how.status_code, bad_how.json()["field"]) == (422, "how")
    missing = him_api.get(f"/documents/{document.pk}/content", version=9)
    assert missing.status_code == 404
    assert "has no version 9" in missing.json()["message"]


def test_r_sec_3_tampered_blob_is_a_500_naming_the_problem_never_the_bytes(
    him_api, document
):
    path = default_store().path_for(document.versions.get().sha256)
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    response = him_api.get(f"/documents/{document.pk}/content")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "integrity_error"
    assert "failed its integrity check" in body["message"]
    assert b"%PDF" not in response.content
    event = last_event(action="document.integrity_failure")
    assert (event.outcome, event.username) == ("failure", "him1")


def test_unknown_and_malformed_document_ids(him_api):
    assert (
        him_api.get("/documents/01890000-0000-7000-8000-000000000000").status_code
        == 404
    )
    malformed = him_api.get("/documents/../../etc/passwd/content")
    assert malformed.status_code == 404
    bad = him_api.get("/documents/12345/content")
    assert (bad.status_code, bad.json()["field"]) == (422, "document_id")


def test_document_outside_scope_is_403_and_audited(other_facility, facility, him_api):
    stranger = factories.patient(facility=other_facility, family="Ito", given="Ken")
    doc = factories.document(patient=stranger, facility=other_facility)
    response = him_api.get(f"/documents/{doc.pk}/content")
    assert response.status_code == 403
    event = last_event(action="document.view")
    assert (event.outcome, event.object_id) == ("denied", str(doc.pk))


# --- uploading --------------------------------------------------------------------------


def test_upload_files_a_document_with_labels_and_is_audited(
    him_api, chart_patient, encounter
):
    response = him_api.upload(
        f"/patients/{chart_patient.pk}/documents",
        {"file": pdf(), "type": "11504-8", "encounter": str(encounter.pk),
         "service_date": "2024-03-05", "sensitivity": ["PSY", "SUD"],
         "title": "Appendectomy"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["type"]["code"] == "11504-8" and body["title"] == "Appendectomy"
    assert body["sensitivity"] == ["PSY", "SUD"] and body["source"] == "upload"
    assert body["facility"] == "NORTH" and body["encounter"] == str(encounter.pk)
    # a date alone is midnight in the facility's zone (America/New_York)
    assert body["service_start"] == "2024-03-05T05:00:00Z"
    assert body["versions"][0]["filename"] == "scan.pdf"
    created = last_event(action="document.create")
    assert created.object_id == body["id"] and created.username == "him1"
    # Filed, but Part 2 (R-P2-1): an HIM specialist may not read it back.
    content = him_api.get(f"/documents/{body['id']}/content")
    assert content.status_code == 403 and "42 CFR Part 2" in content.json()["message"]


def test_upload_accepts_comma_separated_labels_and_a_facility_code(
    him_api, chart_patient
):
    response = him_api.upload(
        f"/patients/{chart_patient.pk}/documents",
        {
            "file": pdf(),
            "type": "11506-3",
            "facility": "NORTH",
            "sensitivity": "HIV, STD",
        },
    )
    assert response.status_code == 201
    assert response.json()["sensitivity"] == ["HIV", "STD"]


@pytest.fixture
def counts():
    def snapshot():
        return Document.objects.count(), DocumentVersion.objects.count(), blob_count()

    return snapshot


@pytest.mark.parametrize(
    ("fields", "status", "field", "text"),
    [
        ({"file": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 5000)}, 413, "file",
         "the limit is"),
        ({"file": SimpleUploadedFile("x.pdf", png_bytes(), content_type="application/pdf")},
         422, "media_type", "labelled application/pdf but its content is image/png"),
        ({"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00binary", "application/x-msdownload")}, 422, "file",
         "is not a PDF, PNG, JPEG, TIFF or UTF-8 text file"),
        ({"file": pdf(), "filename": "../../etc/passwd"}, 422, "filename",
         "contains a path"),
        ({"file": SimpleUploadedFile("empty.pdf", b"")}, 422, "file", "is empty"),
        ({"type": "11506-3"}, 422, "file", "Field required"),
        ({"file": pdf(), "type": "00000-0"}, 422, "type", "unknown document type code"),
        ({"file": pdf(), "sensitivity": "XYZ"}, 422, "sensitivity", "unknown sensitivity"),
        ({"file": pdf(), "facility": ""}, 422, "facility", "say which facility"),
        ({"file": pdf(), "facility": "SOUTH"}, 403, "facility", "outside your facilities"),
        ({"file": pdf(), "encounter": "01890000-0000-7000-8000-000000000000"}, 422,
         "encounter", "has no encounter"),
        ({"file": pdf(), "status": "final-ish"}, 422, "status", "Input should be"),
    ],
)  # fmt: skip
def test_bad_uploads_are_refused_by_name_and_write_nothing(
    him_api,
    chart_patient,
    other_facility,
    settings,
    counts,
    fields,
    status,
    field,
    text,
):
    settings.MAX_UPLOAD_BYTES = 4000
    data = {"type": "11506-3", "facility": "NORTH", **fields}
    before = counts()
    response = him_api.upload(f"/patients/{chart_patient.pk}/documents", data)
    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert text in response.json()["message"]
    assert counts() == before


def test_a_path_in_the_multipart_file_name_is_cut_to_its_last_part(
    him_api, chart_patient
):
    """Django keeps only the base name of an uploaded file: no path reaches the store."""
    boundary = "rrboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="type"\r\n\r\n11506-3\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="facility"\r\n\r\n'
            f'NORTH\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="../../../etc/cron.d/evil.pdf"\r\nContent-Type: application/pdf'
            f"\r\n\r\n"
        ).encode()
        + factories.pdf_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = him_api.client.post(
        f"/api/v1/patients/{chart_patient.pk}/documents", data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=him_api.headers,
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["versions"][0]["filename"] == "evil.pdf"


# --- versions, status, signatures ---------------------------------------------------


def test_new_version_keeps_the_original(him_api, document):
    response = him_api.upload(
        f"/documents/{document.pk}/versions",
        {"file": pdf("v2.pdf", "Discharge summary, amended"), "kind": "amendment",
         "reason": "wrong discharge medication"},
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert (body["number"], body["kind"], body["parent"]) == (2, "amendment", 1)
    meta = him_api.get(f"/documents/{document.pk}").json()
    assert meta["status"] == "amended" and meta["version"] == 2
    original = him_api.get(f"/documents/{document.pk}/content", version=1)
    assert original.content == default_store().get(meta["versions"][0]["sha256"])
    missing_reason = him_api.upload(
        f"/documents/{document.pk}/versions", {"file": pdf(), "kind": "addendum"}
    )
    assert (missing_reason.status_code, missing_reason.json()["field"]) == (
        422,
        "reason",
    )


def test_status_change_with_reason_and_refused_transitions(him_api, document):
    no_reason = him_api.post(
        f"/documents/{document.pk}/status", {"status": "entered-in-error"}
    )
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    done = him_api.post(
        f"/documents/{document.pk}/status",
        {"status": "entered-in-error", "reason": "filed to the wrong patient"},
    )
    assert done.status_code == 200
    assert done.json()["status"] == "entered-in-error"
    assert done.json()["status_reason"] == "filed to the wrong patient"
    again = him_api.post(f"/documents/{document.pk}/status", {"status": "final"})
    assert again.status_code == 409
    assert "entered-in-error document cannot become final" in again.json()["message"]
    event = last_event(action="document.status")
    assert event.detail.startswith('{"from":"final"')


def test_provider_signs_the_current_version(facility, document):
    doctor = factories.grant_labels(  # the shared chart is a VIP's
        factories.user("drhale", "provider", facilities=[facility]), "VIP"
    )
    provider = factories.provider(family="Hale", given="Nora")
    provider.user = doctor
    provider.save()
    response = api_for(doctor).post(
        f"/documents/{document.pk}/signatures", {"meaning": "author"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["signer"]["id"] == str(provider.pk) and body["version"] == 1
    assert body["sha256"] == document.versions.get().sha256
    assert Signature.objects.get().signer == provider
    twice = api_for(doctor).post(f"/documents/{document.pk}/signatures", {})
    assert twice.status_code == 409


def test_a_provider_user_without_a_provider_record_cannot_sign(facility, document):
    doctor = factories.grant_labels(  # the shared chart is a VIP's
        factories.user("drnobody", "provider", facilities=[facility]), "VIP"
    )
    response = api_for(doctor).post(f"/documents/{document.pk}/signatures", {})
    assert response.status_code == 403
    assert "not linked to an active provider" in response.json()["message"]
    assert Signature.objects.count() == 0
