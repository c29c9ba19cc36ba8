"""Delivery: an expiring, passcode-protected download link (only hashes kept, every
download and refusal audited on the patient's record) and logged mail/fax/pickup."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.release import delivery, packets, review, scope
from recordroom.release.models import DownloadLink
from recordroom.release.releasing import release
from tests.release.makers import file_doc, page_texts


@pytest.fixture
def released(make_request, roi_actor, reviewer_actor, patient, facility):
    file_doc(patient=patient, facility=facility, title="Discharge summary",
             pages=[["Discharged home in good condition"]])  # fmt: skip
    req = make_request(patient, identity_verified=True, verification_method="photo ID")
    scope.select_documents(actor=roi_actor, req=req)
    packet = packets.build_packet(actor=roi_actor, req=req)
    review.quality_review(actor=reviewer_actor, req=req, passed=True,
                          checks={"patient": True, "scope": True})  # fmt: skip
    release(actor=roi_actor, req=req)
    return packet


def _last(action):
    event = AuditEvent.objects.filter(action=action).latest("id")
    return event, json.loads(event.detail)


def test_a_download_with_the_passcode_returns_the_packet_and_is_audited(
    released, roi_actor, patient, settings
):
    link, token, passcode = delivery.create_link(actor=roi_actor, packet=released)
    assert link.token_hash != token and token not in link.passcode_hash
    assert passcode not in link.passcode_hash and len(passcode) == 8
    assert link.expires_at - link.created_at == timedelta(days=settings.ROI_LINK_DAYS)
    data = delivery.download(token, passcode, "203.0.113.9")
    assert data == packets.packet_bytes(released)
    assert "Discharged home in good condition" in page_texts(data)[2]
    event, detail = _last("release.download")
    assert event.patient_id == str(patient.pk) and event.outcome == "success"
    assert event.client_address == "203.0.113.9" and detail["download"] == "1 of 5"
    link.refresh_from_db()
    assert link.downloads == 1
    created, _ = _last("release.link")
    assert created.username == "roi1"


def test_a_wrong_passcode_is_refused_audited_and_locks_the_link_after_five(
    released, roi_actor, patient
):
    link, token, passcode = delivery.create_link(actor=roi_actor, packet=released)
    with pytest.raises(PermissionDenied, match="wrong passcode \\(4 tries left"):
        delivery.download(token, "WRONG123", "198.51.100.7")
    event, detail = _last("release.refused")
    assert event.patient_id == str(patient.pk) and event.outcome == "failure"
    assert detail["step"] == "download" and detail["client"] == "198.51.100.7"
    for _ in range(4):
        with pytest.raises(PermissionDenied, match="wrong passcode"):
            delivery.download(token, "WRONG123", "198.51.100.7")
    with pytest.raises(PermissionDenied, match="revoked"):
        delivery.download(token, passcode, "198.51.100.7")  # locked now
    link.refresh_from_db()
    assert link.failed_attempts == 5 and link.downloads == 0 and link.revoked_at


def test_an_expired_link_is_refused_and_audited(released, roi_actor):
    link, token, passcode = delivery.create_link(actor=roi_actor, packet=released)
    DownloadLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(PermissionDenied, match="this link expired on"):
        delivery.download(token, passcode, "203.0.113.9")
    _, detail = _last("release.refused")
    assert "expired" in detail["reason"]
    assert not AuditEvent.objects.filter(action="release.download").exists()


def test_a_used_up_or_revoked_link_is_refused(released, roi_actor):
    link, token, passcode = delivery.create_link(actor=roi_actor, packet=released,
                                                 max_downloads=1)  # fmt: skip
    delivery.download(token, passcode, "203.0.113.9")
    with pytest.raises(PermissionDenied, match="used its 1 times"):
        delivery.download(token, passcode, "203.0.113.9")
    other, token2, passcode2 = delivery.create_link(actor=roi_actor, packet=released)
    delivery.revoke_link(
        actor=roi_actor, link=other, reason="sent to the wrong address"
    )
    with pytest.raises(PermissionDenied, match="revoked"):
        delivery.download(token2, passcode2, "203.0.113.9")
    with pytest.raises(NotFound, match="no such download link"):
        delivery.download("not-a-token", passcode2, "203.0.113.9")


def test_nothing_is_sent_before_release(make_request, roi_actor, patient, facility):
    file_doc(patient=patient, facility=facility)
    req = make_request(patient)
    scope.select_documents(actor=roi_actor, req=req)
    packet = packets.build_packet(actor=roi_actor, req=req)
    with pytest.raises(ValidationFailed, match="has not been released"):
        delivery.create_link(actor=roi_actor, packet=packet)
    with pytest.raises(ValidationFailed, match="nothing is sent before its release"):
        delivery.log_delivery(actor=roi_actor, req=req, method="mail", detail="USPS")
    _, detail = _last("release.refused")
    assert detail["step"] == "log delivery"


def test_mail_fax_and_pickup_are_logged(released, roi_actor):
    req = released.request
    req.refresh_from_db()
    row = delivery.log_delivery(actor=roi_actor, req=req, method="fax",
                                detail="to 217-555-0199, confirmation 88412")  # fmt: skip
    assert row.packet == released and row.method == "fax"
    _, detail = _last("release.deliver")
    assert detail["method"] == "fax" and "88412" in detail["detail"]
    with pytest.raises(ValidationFailed, match="who picked it up"):
        delivery.log_delivery(actor=roi_actor, req=req, method="pickup", detail=" ")
    with pytest.raises(ValidationFailed, match="not 'email'"):
        delivery.log_delivery(actor=roi_actor, req=req, method="email", detail="x")
    assert list(req.deliveries.values_list("method", flat=True)) == ["fax"]
