"""The request page's legal side: an authorization recorded element by element, the
defect letter, the correction that makes it valid, revocation, letters and their
PDFs, denials and their review."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.release.authorizations import checklist
from recordroom.release.models import Authorization, Denial, Letter
from tests import factories
from tests.factories import facility_today
from tests.release.authorizing import authorize, pdf_text

from .conftest import signed_in
from .test_release_desk import make_request


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.ROI_CONTACT = "Privacy Officer"
    settings.ROI_CONTACT_PHONE = "(217) 555-0199"


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


@pytest.fixture
def roi_client(roi):
    return signed_in(roi)


@pytest.fixture
def third_party(roi, patient):
    return make_request(roi, patient, requester_type="authorized",
                        requester_name="Ortega & Lane LLP",
                        requester_organization="Ortega & Lane")  # fmt: skip


def auth_post(kind="hipaa", missing=(), **over):
    data = {"kind": kind, "recipient": "Ortega & Lane", "purpose": "legal review",
            "description": "records of the 2025 admission",
            "signed_on": (facility_today() - timedelta(days=3)).isoformat(),
            "signed_by": "José Núñez", "expires_on": "", "expiration_event": ""}  # fmt: skip
    for el in checklist(kind):
        if el.code not in missing and not el.when:
            data[f"el_{el.code}"] = "on"
    data.update(over)
    return data


def test_an_authorization_without_its_expiration_pends_with_the_defect_letter_then_is_fixed(
    roi_client, third_party
):
    req = third_party
    form = roi_client.get(f"/release/{req.pk}/authorizations/new", {"kind": "hipaa"})
    assert form.status_code == 200
    assert "expiration date or event" in form.content.decode()
    recorded = roi_client.post(f"/release/{req.pk}/authorizations/new",
                               auth_post(missing=("expiration",)))  # fmt: skip
    assert recorded.status_code == 302
    auth = Authorization.objects.get()
    assert auth.request_id == req.pk and not auth.elements["expiration"]["present"]
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert "Not releasable yet" in page and "R-AUTH-2(5)" in page
    assert (
        "with 1 defect: expiration date or event (R-AUTH-2(5))" in page
    )  # the message

    pended = roi_client.post(f"/release/{req.pk}/defect-letter")
    assert pended.status_code == 302
    req.refresh_from_db()
    assert req.status == "pending" and "expiration date or event" in req.status_note
    letter = Letter.objects.get(kind="defect")
    pdf = roi_client.get(f"/release/letters/{letter.pk}")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "expiration" in text.lower() and req.number in text
    read = AuditEvent.objects.filter(action="chart.open").latest("id")
    assert json.loads(read.detail) == {"release_request": req.number,
                                       "part": "defect letter"}  # fmt: skip

    edit = roi_client.get(f"/release/{req.pk}/authorizations/{auth.pk}")
    assert edit.status_code == 200 and "1 defect" in edit.content.decode()
    in_a_year = (facility_today() + timedelta(days=365)).isoformat()
    fixed = roi_client.post(f"/release/{req.pk}/authorizations/{auth.pk}",
                            auth_post(expires_on=in_a_year))  # fmt: skip
    assert fixed.status_code == 302
    auth.refresh_from_db()
    assert (
        auth.elements["expiration"]["present"]
        and auth.expires_on.isoformat() == in_a_year
    )
    event = AuditEvent.objects.filter(action="release.authorization").latest("id")
    assert json.loads(event.detail)["changed"] == ["expires_on"]
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert "Basis: the patient&#x27;s authorization signed" in page


def test_a_bad_authorization_names_its_field_and_records_nothing(
    roi_client, third_party
):
    future = (facility_today() + timedelta(days=2)).isoformat()
    response = roi_client.post(f"/release/{third_party.pk}/authorizations/new",
                               auth_post(signed_on=future))  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 422 and "Nothing was recorded" in body
    at = body.index('name="signed_on"')
    block = body[body.rindex('<div class="field', 0, at) : body.index("</div>", at)]
    assert "is in the future" in block
    assert not Authorization.objects.exists()
    unknown = roi_client.get(f"/release/{third_party.pk}/authorizations/new",
                             {"kind": "napkin"})  # fmt: skip
    assert (
        unknown.status_code == 422
        and "unknown authorization kind" in unknown.content.decode()
    )


def test_revoking_needs_the_written_revocation(roi, roi_client, third_party):
    auth = authorize(factories.actor(roi), third_party)
    url = f"/release/{third_party.pk}/authorizations/{auth.pk}/revoke"
    refused = roi_client.post(
        url, {"revoked_on": facility_today().isoformat(), "note": ""}
    )
    assert refused.status_code == 422
    assert "a revocation is in writing" in refused.content.decode()
    done = roi_client.post(url, {"revoked_on": facility_today().isoformat(),
                                 "note": "letter dated today"})  # fmt: skip
    assert done.status_code == 302
    auth.refresh_from_db()
    assert auth.revoked_at is not None
    page = roi_client.get(f"/release/{third_party.pk}").content.decode()
    assert "revoked " + facility_today().isoformat() in page and "R-AUTH-5(iii)" in page


def test_write_an_acknowledgment_letter_and_refuse_an_extension_notice_without_extension(
    roi_client, third_party
):
    url = f"/release/{third_party.pk}/letters"
    assert roi_client.post(url, {"kind": "acknowledgment"}).status_code == 302
    assert Letter.objects.filter(kind="acknowledgment").count() == 1
    refused = roi_client.post(url, {"kind": "extension"})
    assert refused.status_code == 422
    assert Letter.objects.count() == 1


def test_deny_then_review_by_a_different_professional(roi, roi_client, patient):
    req = make_request(roi, patient, identity_verified=True, verification_method="ID")
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert 'value="endangerment"' in page and 'value="no-basis"' not in page
    url = f"/release/{req.pk}/deny"
    basis = "Access now is likely to endanger your safety."
    refused = roi_client.post(url, {"ground": "endangerment", "basis": basis})
    body = refused.content.decode()
    assert refused.status_code == 422 and "name the professional" in body
    assert basis in body  # what was typed is kept
    assert not Denial.objects.exists()
    roi_client.post(url, {"ground": "endangerment", "basis": basis,
                          "professional": "Dr. Ada Lovelace"})  # fmt: skip
    req.refresh_from_db()
    denial = Denial.objects.get()
    assert req.status == "denied" and denial.reviewable
    assert Letter.objects.filter(kind="denial").count() == 1
    review = f"/release/{req.pk}/denials/{denial.pk}/review"
    roi_client.post(review, {"step": "asked"})
    same = roi_client.post(review, {"step": "decided", "reviewer": "Dr. Ada Lovelace",
                                    "outcome": "reversed"})  # fmt: skip
    assert (
        same.status_code == 422 and "took part in the denial" in same.content.decode()
    )
    roi_client.post(review, {"step": "decided", "reviewer": "Dr. Grace Hopper",
                             "outcome": "reversed"})  # fmt: skip
    req.refresh_from_db()
    assert req.status == "in-progress"
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert "Reviewed by Dr. Grace Hopper" in page and "reversed" in page


def test_a_letter_of_another_facilitys_request_is_not_found(roi_client, other_facility):
    stranger = factories.patient(facility=other_facility, family="Far", mrn="S9")
    south = factories.user("roi-s", "roi_specialist", facilities=[other_facility])
    req = make_request(south, stranger, facility_code="SOUTH")
    from recordroom.release.letters import render_letter

    letter = render_letter(actor=factories.actor(south), req=req, kind="acknowledgment")
    assert roi_client.get(f"/release/letters/{letter.pk}").status_code == 404
