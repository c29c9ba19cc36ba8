"""Denials: unreviewable (R-ACC-7) and reviewable (R-ACC-8) grounds, the review by a
different licensed professional, and the letter's required content (R-ACC-9)."""

from __future__ import annotations

import json

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.kernel.errors import ValidationFailed
from recordroom.release import denials
from recordroom.release.letters import letter_bytes
from recordroom.release.models import Denial
from tests.release.authorizing import pdf_text

PHONE = "(217) 555-0199"


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.ROI_CONTACT = "Privacy Officer"
    settings.ROI_CONTACT_PHONE = PHONE


@pytest.fixture
def access(make_request, patient):
    return make_request(patient, identity_verified=True, verification_method="ID")


def letter_text(req, kind="denial"):
    return pdf_text(letter_bytes(req.letters.filter(kind=kind).latest("created_at")))


def test_r_acc_7_an_unreviewable_denial_closes_the_request_without_review(
    roi_actor, access
):
    denial = denials.deny(actor=roi_actor, req=access, ground="psychotherapy-notes",
                          basis="The notes of your counseling sessions are kept apart "
                          "from your medical record.")  # fmt: skip
    access.refresh_from_db()
    assert access.status == "denied" and access.closed_at is not None
    assert denial.reviewable is False and denial.ground == "psychotherapy-notes"
    text = letter_text(access)
    assert "psychotherapy notes, which are not part of the right of access" in text
    assert "kept apart from your medical record" in text
    assert "This decision cannot be reviewed" in text
    assert "R-ACC" not in text  # the rule is in the audit trail, not the letter
    with pytest.raises(ValidationFailed, match="cannot be reviewed"):
        denials.request_review(actor=roi_actor, denial=denial)
    event = AuditEvent.objects.filter(action="release.deny").latest("id")
    assert json.loads(event.detail)["rule"] == "R-ACC-7(i)"


def test_r_acc_8_a_reviewable_denial_is_reviewed_by_a_different_professional(
    roi_actor, reviewer_actor, access
):
    with pytest.raises(ValidationFailed, match="name the professional"):
        denials.deny(actor=roi_actor, req=access, ground="endangerment",
                     basis="Access now is likely to endanger your safety.")  # fmt: skip
    refused = AuditEvent.objects.filter(action="release.refused").latest("id")
    assert (
        refused.outcome == "failure"
        and "R-ACC-8" in json.loads(refused.detail)["reason"]
    )
    denial = denials.deny(actor=roi_actor, req=access, ground="endangerment",
                          basis="Access now is likely to endanger your safety.",
                          professional="Dr. Lena Ames, MD")  # fmt: skip
    text = letter_text(access)
    assert (
        "ask for this decision to be reviewed by a licensed health care professional"
        in text
    )
    assert f"or call {PHONE}" in text and "did not take part in it" in text
    with pytest.raises(ValidationFailed, match="request_review first"):
        denials.record_review(actor=reviewer_actor, denial=denial,
                              reviewer="Dr. Omar Haddad, MD", outcome="upheld")  # fmt: skip
    denials.request_review(actor=roi_actor, denial=denial)
    with pytest.raises(ValidationFailed, match="different licensed professional"):
        denials.record_review(actor=reviewer_actor, denial=denial,
                              reviewer="dr.  lena AMES, md", outcome="upheld")  # fmt: skip
    denials.record_review(actor=reviewer_actor, denial=denial,
                          reviewer="Dr. Omar Haddad, MD", outcome="reversed")  # fmt: skip
    access.refresh_from_db()
    assert access.status == "in-progress" and access.closed_at is None
    review = letter_text(access, "review")
    assert "Dr. Omar Haddad, MD" in review and "should have access" in review
    with pytest.raises(ValidationFailed, match="already reviewed"):
        denials.record_review(actor=reviewer_actor, denial=denial,
                              reviewer="Dr. Kim Park", outcome="upheld")  # fmt: skip


def test_r_acc_8_representative_harm_applies_only_to_a_representative(
    roi_actor, access, make_request, patient
):
    with pytest.raises(
        ValidationFailed, match="does not apply to this request, from the patient"
    ):
        denials.deny(actor=roi_actor, req=access, ground="representative-harm",
                     basis="x", professional="Dr. Ames")  # fmt: skip
    parent = make_request(patient, requester_type="representative",
                          requester_name="Ann Nunez", representative_authority="mother",
                          identity_verified=True, verification_method="ID")  # fmt: skip
    denial = denials.deny(actor=roi_actor, req=parent, ground="representative-harm",
                          basis="Access by you is likely to cause the patient harm.",
                          professional="Dr. Ames")  # fmt: skip
    assert denial.reviewable and "as the patient's personal representative" in (
        letter_text(parent))  # fmt: skip


def test_r_acc_9_the_denial_letter_has_the_required_content(roi_actor, access):
    denials.deny(actor=roi_actor, req=access, ground="confidential-source", partial=True,
                 basis="One page holds what a neighbour told us in confidence.")  # fmt: skip
    access.refresh_from_db()
    assert access.status == "received"  # a partial denial: the rest goes out
    text = letter_text(access)
    for words in (
        "Part of your request has been denied",
        "promise of confidentiality",  # (i) the basis
        "what a neighbour told us in confidence",
        "This decision cannot be reviewed",  # (ii) review rights
        f"Privacy Officer, {access.facility.name}, telephone {PHONE}",  # (iii) us
        "Office for Civil Rights",  # (iii) HHS
        "1-800-368-1019",
        "You will receive the rest of the records you asked for",
    ):
        assert words in text, words
    assert "R-ACC" not in text


def test_r_acc_9_no_denial_without_the_complaint_contacts_phone(
    roi_actor, access, settings
):
    settings.ROI_CONTACT_PHONE = ""
    with pytest.raises(ValidationFailed, match="RECORDROOM_ROI_CONTACT_PHONE"):
        denials.deny(actor=roi_actor, req=access, ground="litigation",
                     basis="Compiled for the lawsuit.")  # fmt: skip
    access.refresh_from_db()
    assert access.status == "received" and not Denial.objects.exists()
    assert not access.letters.exists()


def test_a_third_party_without_a_basis_is_denied_on_no_basis_only(
    roi_actor, access, make_request, patient
):
    with pytest.raises(ValidationFailed, match="does not apply"):
        denials.deny(actor=roi_actor, req=access, ground="no-basis", basis="x")
    attorney = make_request(patient, requester_type="attorney", requester_name="Lee")
    with pytest.raises(ValidationFailed, match="pended with the defect letter"):
        denials.deny(actor=roi_actor, req=attorney, ground="litigation", basis="x")
    denials.deny(actor=roi_actor, req=attorney, ground="no-basis",
                 basis="The authorization you sent expired in 2024.")  # fmt: skip
    assert "no valid authorization" in letter_text(attorney)
    with pytest.raises(ValidationFailed, match="is denied"):
        denials.deny(actor=roi_actor, req=attorney, ground="no-basis", basis="again")
