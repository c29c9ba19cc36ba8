"""Documents: immutable versions, signatures over exact bytes, verified reads (R-SEC-3)."""

import pytest
from django.db import DatabaseError, connection, transaction

from recordroom.audit.models import AuditEvent
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import (
    Conflict,
    IntegrityFailure,
    TooLarge,
    ValidationFailed,
)
from recordroom.records import services
from recordroom.records.models import DocumentStatus, DocumentVersion, Signature
from tests import factories


@pytest.fixture
def doc(patient, facility):
    enc = factories.encounter(patient=patient, facility=facility)
    return factories.document(patient=patient, facility=facility, encounter=enc)


def test_filed_document_is_stored_encrypted_and_read_back_verified(doc, him):
    version = doc.versions.get()
    raw = default_store().path_for(version.sha256).read_bytes()
    assert b"%PDF" not in raw  # encrypted at rest
    content = services.read_content(actor=factories.actor(him), document=doc)
    assert content.data.startswith(b"%PDF-") and content.version == version
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.patient_id, event.username) == (
        "document.view",
        str(doc.patient_id),
        "him1",
    )


def test_r_sec_3_tampered_blob_is_never_served_and_is_audited(doc, him):
    path = default_store().path_for(doc.versions.get().sha256)
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityFailure, match="failed its integrity check"):
        services.read_content(actor=factories.actor(him), document=doc, how="download")
    event = AuditEvent.objects.order_by("-id").first()
    assert (event.action, event.outcome) == ("document.integrity_failure", "failure")


def test_missing_blob_is_an_integrity_error(doc, him):
    default_store().path_for(doc.versions.get().sha256).unlink()
    with pytest.raises(IntegrityFailure, match="missing"):
        services.read_content(actor=factories.actor(him), document=doc)


def test_r_sec_3_amendment_keeps_the_signed_original(doc, him):
    author = factories.provider()
    original = doc.versions.get()
    sig = services.sign_version(actor=factories.SYSTEM, version=original, signer=author)
    assert sig.sha256 == original.sha256
    amended = services.add_version(
        actor=factories.actor(him),
        document=doc,
        kind="amendment",
        data=factories.pdf_bytes("Discharge summary, amended"),
        filename="v2.pdf",
        reason="wrong discharge medication",
    )
    doc.refresh_from_db()
    assert (amended.number, amended.parent_id, doc.status) == (
        2,
        original.pk,
        "amended",
    )
    assert DocumentVersion.objects.get(pk=original.pk).sha256 == original.sha256
    assert Signature.objects.get().version_id == original.pk
    content = services.read_content(
        actor=factories.actor(him), document=doc, version_number=1
    )
    assert content.data == default_store().get(original.sha256)


def test_versions_and_signatures_refuse_update_in_the_database(doc):
    services.sign_version(
        actor=factories.SYSTEM, version=doc.versions.get(), signer=factories.provider()
    )
    for sql in (
        "UPDATE records_documentversion SET sha256 = 'x'",
        "DELETE FROM records_signature",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql)


def test_entered_in_error_needs_a_reason_and_keeps_the_document(doc, him):
    with pytest.raises(ValidationFailed, match="say why"):
        services.change_document_status(
            actor=factories.actor(him),
            document=doc,
            status="entered-in-error",
            reason=" ",
        )
    services.change_document_status(
        actor=factories.actor(him),
        document=doc,
        status="entered-in-error",
        reason="wrong patient",
    )
    assert doc.status == DocumentStatus.ENTERED_IN_ERROR and doc.versions.count() == 1
    with pytest.raises(Conflict, match="cannot become final"):
        services.change_document_status(
            actor=factories.actor(him), document=doc, status="final", reason=""
        )


@pytest.mark.parametrize(
    ("data", "filename", "media_type", "error", "message"),
    [
        (b"%PDF-1.4 x", "../../etc/passwd", "", ValidationFailed, "contains a path"),
        (b"%PDF-1.4 x", "a\\b.pdf", "", ValidationFailed, "contains a path"),
        (
            b"\x89PNG\r\n\x1a\nxx",
            "scan.pdf",
            "application/pdf",
            ValidationFailed,
            "labelled application/pdf but its content is image/png",
        ),
        (b"MZ\x90\x00binary", "note.pdf", "", ValidationFailed, "is not a PDF"),
        (b"", "empty.pdf", "", ValidationFailed, "is empty"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(
    patient, facility, him, data, filename, media_type, error, message
):
    from recordroom.records.models import Document, DocumentType

    before = (Document.objects.count(), AuditEvent.objects.count())
    with pytest.raises(error, match=message):
        services.file_document(
            actor=factories.actor(him),
            patient=patient,
            facility=facility,
            doc_type=DocumentType.objects.get(code="11506-3"),
            data=data,
            filename=filename,
            media_type=media_type,
        )
    assert (Document.objects.count(), AuditEvent.objects.count()) == before


def test_oversized_file_is_refused(settings, patient, facility, him):
    from recordroom.records.models import DocumentType

    settings.MAX_UPLOAD_BYTES = 1024
    with pytest.raises(TooLarge, match="the limit is"):
        services.file_document(
            actor=factories.actor(him),
            patient=patient,
            facility=facility,
            doc_type=DocumentType.objects.get(code="11506-3"),
            data=b"%PDF-" + b"0" * 2048,
            filename="big.pdf",
        )


def test_sensitive_document_type_carries_its_labels(patient, facility):
    doc = factories.document(
        patient=patient, facility=facility, code="SUDTX", sensitivity=["HIV"]
    )
    assert doc.sensitivity == ["ETH", "HIV", "SUD"]
    with pytest.raises(ValidationFailed, match="unknown sensitivity label"):
        factories.document(patient=patient, facility=facility, sensitivity=["SECRET"])


def test_document_outside_the_users_facilities_is_refused(
    patient, facility, other_facility
):
    from recordroom.kernel.errors import PermissionDenied

    doc = factories.document(patient=patient, facility=facility)
    outsider = factories.user("south1", "him_specialist", facilities=[other_facility])
    with pytest.raises(PermissionDenied, match="outside your facilities"):
        services.get_document(user=outsider, document_id=doc.pk)


def test_filing_at_a_facility_outside_the_users_scope_is_refused(
    patient, facility, other_facility
):
    from recordroom.kernel.errors import PermissionDenied
    from recordroom.records.models import Document, DocumentType

    south = factories.user("south2", "him_specialist", facilities=[other_facility])
    before = (Document.objects.count(), AuditEvent.objects.count())
    with pytest.raises(
        PermissionDenied, match="facility NORTH is outside your facilities"
    ):
        services.file_document(
            actor=factories.actor(south),
            patient=patient,
            facility=facility,
            doc_type=DocumentType.objects.get(code="11506-3"),
            data=factories.pdf_bytes(),
            filename="note.pdf",
        )
    assert (Document.objects.count(), AuditEvent.objects.count()) == before


def test_encounter_at_another_facility_is_refused(patient, facility, other_facility):
    enc = factories.encounter(patient=patient, facility=other_facility)
    with pytest.raises(ValidationFailed, match="is at another facility than NORTH"):
        factories.document(patient=patient, facility=facility, encounter=enc)


def test_a_user_signs_only_as_their_own_provider(doc, him):
    from recordroom.kernel.errors import PermissionDenied

    unlinked = factories.provider("Nobody", "Linked")
    with pytest.raises(PermissionDenied, match="cannot sign on behalf of"):
        services.sign_version(
            actor=factories.actor(him), version=doc.versions.get(), signer=unlinked
        )
    unlinked.user = him
    unlinked.save()
    sig = services.sign_version(
        actor=factories.actor(him), version=doc.versions.get(), signer=unlinked
    )
    assert sig.signer == unlinked


def test_entered_in_error_document_cannot_be_signed_or_amended(doc, him):
    services.change_document_status(
        actor=factories.actor(him), document=doc, status="entered-in-error",
        reason="wrong patient",
    )  # fmt: skip
    with pytest.raises(Conflict, match="cannot be signed"):
        services.sign_version(
            actor=factories.SYSTEM,
            version=doc.versions.get(),
            signer=factories.provider(),
        )
    with pytest.raises(Conflict, match="cannot get new versions"):
        services.add_version(
            actor=factories.actor(him), document=doc, kind="addendum",
            data=factories.pdf_bytes(), filename="a.pdf", reason="late entry",
        )  # fmt: skip


def test_audit_events_carry_the_facility_of_what_they_touch(patient, facility):
    doc = factories.document(patient=patient, facility=facility)
    event = AuditEvent.objects.filter(action="document.create").get()
    assert (event.facility_id, event.object_id) == (str(facility.pk), str(doc.pk))
