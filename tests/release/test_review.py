"""Quality review by a second person (or the same one, by setting, in a separate
step) and the release gate: nothing leaves without a passing review of the current
packet, a valid basis and payment when required; every refusal audited."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.release import authorizations, fees, packets, redaction, review, scope
from recordroom.release.models import Disclosure, Status
from recordroom.release.releasing import release
from tests.release.makers import authorization, file_doc

CHECKS = {"patient": True, "scope": True}


@pytest.fixture
def built(make_request, roi_actor, patient, facility):
    """A verified patient's own request with a built packet (3 document pages)."""
    file_doc(patient=patient, facility=facility, title="Admission H&P",
             pages=[["Admission page one"], ["Admission page two"]])  # fmt: skip
    file_doc(patient=patient, facility=facility, title="CBC", code="11502-2")
    req = make_request(patient, identity_verified=True,
                       verification_method="driver's licence checked at the desk")  # fmt: skip
    scope.select_documents(actor=roi_actor, req=req)
    packets.build_packet(actor=roi_actor, req=req)
    return req


def _refused(step):
    event = AuditEvent.objects.filter(action="release.refused").latest("id")
    detail = json.loads(event.detail)
    assert event.outcome == "failure" and detail["step"] == step
    return detail["reason"]


def test_the_person_who_built_the_packet_cannot_review_it(built, roi_actor):
    with pytest.raises(PermissionDenied, match="a second person must review"):
        review.quality_review(actor=roi_actor, req=built, passed=True, checks=CHECKS)
    assert "roi1 built packet" in _refused("quality review")
    built.refresh_from_db()
    assert built.status == Status.QUALITY_REVIEW and not built.reviews.exists()


def test_the_same_person_may_review_in_a_separate_step_when_the_setting_allows(
    built, roi_actor, settings
):
    settings.ROI_SAME_PERSON_QA = True
    done = review.quality_review(actor=roi_actor, req=built, passed=True, checks=CHECKS)
    assert done.reviewed_by == "roi1" and done.passed
    assert done.reviewed_at >= packets.current_packet(built).built_at
    built.refresh_from_db()
    assert built.status == Status.READY


def test_a_pass_records_the_checks_and_makes_the_request_ready(built, reviewer_actor):
    done = review.quality_review(actor=reviewer_actor, req=built, passed=True,
                                 checks=CHECKS, note="pages checked")  # fmt: skip
    packet = packets.current_packet(built)
    assert done.packet_sha256 == packet.sha256
    assert done.checks["patient"] is True and done.checks["scope"] is True
    assert done.checks["system"] == {"documents": 2, "pages": 5, "other_patient": [],
                                     "not_selected": [], "ok": True}  # fmt: skip
    built.refresh_from_db()
    assert built.status == Status.READY
    event = AuditEvent.objects.filter(action="release.review").latest("id")
    assert event.username == "roi2" and json.loads(event.detail)["passed"] is True


def test_a_pass_needs_every_check_confirmed_and_a_fail_needs_a_note(
    built, reviewer_actor
):
    with pytest.raises(ValidationFailed, match="not confirmed: scope"):
        review.quality_review(actor=reviewer_actor, req=built, passed=True,
                              checks={"patient": True, "scope": False})  # fmt: skip
    with pytest.raises(ValidationFailed, match="say what is wrong"):
        review.quality_review(actor=reviewer_actor, req=built, passed=False, checks={})
    review.quality_review(actor=reviewer_actor, req=built, passed=False,
                          checks={"patient": False}, note="page 4 is another patient's")  # fmt: skip
    built.refresh_from_db()
    assert built.status == Status.IN_PROGRESS


def test_a_release_without_a_passing_review_is_refused_and_audited(built, roi_actor):
    with pytest.raises(ValidationFailed, match="has not passed its quality review"):
        release(actor=roi_actor, req=built)
    assert "a release cannot skip it" in _refused("release")
    built.refresh_from_db()
    assert built.status == Status.QUALITY_REVIEW and built.release_number == ""
    assert not Disclosure.objects.filter(request=built).exists()


def test_a_review_of_an_earlier_packet_does_not_release_a_rebuilt_one(
    built, roi_actor, reviewer_actor
):
    review.quality_review(actor=reviewer_actor, req=built, passed=True, checks=CHECKS)
    item = built.items.get(document__title="Admission H&P")
    redaction.exclude_pages(actor=roi_actor, item=item, pages=[2], reason="duplicate")
    built.refresh_from_db()
    assert built.status == Status.IN_PROGRESS  # the reviewed packet is stale
    packets.build_packet(actor=roi_actor, req=built)
    with pytest.raises(
        ValidationFailed, match=rf"packet {built.number}\.2 has not passed"
    ):
        release(actor=roi_actor, req=built)


def test_r_aod_4_release_enters_the_disclosure_and_closes_the_request(
    built, roi_actor, reviewer_actor
):
    review.quality_review(actor=reviewer_actor, req=built, passed=True, checks=CHECKS)
    [entry] = release(actor=roi_actor, req=built)
    built.refresh_from_db()
    packet = packets.current_packet(built)
    assert (
        built.status == Status.RELEASED
        and built.release_number == packet.release_number
    )
    assert built.closed_at is not None
    assert (
        entry.request == built
        and entry.pages == 5
        and entry.legal_basis == "individual"
    )
    assert entry.recipient_name == "Jane Doe" and not entry.accountable
    assert {d["title"] for d in entry.documents} == {"Admission H&P", "CBC"}
    assert "2 document(s), 5 page(s)" in entry.description
    event = AuditEvent.objects.filter(action="release.release").latest("id")
    assert event.patient_id == str(built.patient_id)
    with pytest.raises(ValidationFailed, match="is released"):
        release(actor=roi_actor, req=built)


def test_r_acc_3_release_without_a_verified_requester_is_refused_naming_the_defect(
    make_request, roi_actor, reviewer_actor, patient, facility
):
    file_doc(patient=patient, facility=facility)
    req = make_request(patient)  # identity not verified
    scope.select_documents(actor=roi_actor, req=req)
    packets.build_packet(actor=roi_actor, req=req)
    review.quality_review(actor=reviewer_actor, req=req, passed=True, checks=CHECKS)
    with pytest.raises(ValidationFailed, match=r"no valid basis.*\(R-ACC-3\)"):
        release(actor=roi_actor, req=req)
    assert "R-ACC-3" in _refused("release")


def test_r_auth_8_an_authorization_revoked_after_review_stops_the_release(
    make_request, roi_actor, reviewer_actor, patient, facility
):
    file_doc(patient=patient, facility=facility)
    req = make_request(patient, requester_type="authorized", requester_name="Ann Counsel",
                       requester_organization="Counsel & Co LLP", identity_verified=True,
                       verification_method="bar number checked")  # fmt: skip
    auth = authorization(roi_actor, patient, req, purpose="litigation")
    scope.select_documents(actor=roi_actor, req=req)
    packets.build_packet(actor=roi_actor, req=req)
    review.quality_review(actor=reviewer_actor, req=req, passed=True, checks=CHECKS)
    authorizations.revoke(actor=roi_actor, auth=auth, at=timezone.now(),
                          note="patient's letter of revocation")  # fmt: skip
    with pytest.raises(ValidationFailed, match="no valid basis"):
        release(actor=roi_actor, req=req)
    assert not Disclosure.objects.filter(request=req).exists()


def test_release_waits_for_payment_when_the_setting_says_so(
    make_request, roi_actor, reviewer_actor, patient, facility, settings
):
    settings.ROI_WAIT_FOR_PAYMENT = True
    file_doc(
        patient=patient, facility=facility, pages=[[f"page {n}"] for n in range(30)]
    )
    req = make_request(patient, requester_type="authorized", requester_name="Ann Counsel",
                       requester_organization="Counsel & Co LLP", identity_verified=True,
                       verification_method="bar number checked")  # fmt: skip
    authorization(roi_actor, patient, req, purpose="litigation")
    scope.select_documents(actor=roi_actor, req=req)
    packet = packets.build_packet(actor=roi_actor, req=req)
    review.quality_review(actor=reviewer_actor, req=req, passed=True, checks=CHECKS)
    inv = fees.invoice(actor=roi_actor, req=req, pages=packet.pages)
    assert inv.total_cents > 0
    with pytest.raises(ValidationFailed, match=f"invoice {inv.number} has .* unpaid"):
        release(actor=roi_actor, req=req)
    fees.record_payment(actor=roi_actor, invoice=inv, amount_cents=inv.total_cents,
                        method="check", reference="1042")  # fmt: skip
    [entry] = release(actor=roi_actor, req=req)
    assert entry.legal_basis == "authorization"
