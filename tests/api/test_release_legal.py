"""The release desk's legal side over the API: an authorization missing its
expiration, the defect letter, the correction; revocation; letters; denials."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recordroom.release.models import ReleaseRequest
from tests import factories
from tests.factories import facility_today
from tests.release.authorizing import elements, pdf_text

from .conftest import api_for
from .test_release import body


@pytest.fixture(autouse=True)
def _contact(settings):
    settings.ROI_CONTACT_PHONE = "(217) 555-0199"


@pytest.fixture
def roi_api(db, facility):
    return api_for(factories.user("roi1", "roi_specialist", facilities=[facility]))


@pytest.fixture
def third_party(roi_api, patient):
    made = roi_api.post("/release-requests", body(
        patient, requester_type="authorized", requester_name="Ortega & Lane LLP",
        delivery="mail", requester_address="1 Court Sq"))  # fmt: skip
    return made.json()["id"]


def test_an_authorization_missing_its_expiration_then_corrected(roi_api, third_party):
    url = f"/release-requests/{third_party}"
    signed = (facility_today() - timedelta(days=2)).isoformat()
    made = roi_api.post(url + "/authorizations", {
        "kind": "hipaa", "elements": elements("hipaa", missing=("expiration",)),
        "recipient": "Ortega & Lane", "signed_on": signed})  # fmt: skip
    assert made.status_code == 201, made.content
    auth = made.json()
    assert [(d["rule"], d["element"]) for d in auth["defects"]] == [
        ("R-AUTH-2(5)", "expiration date or event")]  # fmt: skip
    basis = roi_api.get(url + "/basis").json()
    assert basis["ok"] is False and basis["defects"][0]["rule"] == "R-AUTH-2(5)"
    letter = roi_api.post(url + "/defect-letter")
    assert letter.status_code == 201 and letter.json()["kind"] == "defect"
    assert ReleaseRequest.objects.get().status == "pending"
    listed = roi_api.get(url + "/letters").json()
    assert [x["kind"] for x in listed] == ["defect"]
    pdf = roi_api.get(f"/release-letters/{listed[0]['id']}/content")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert "attachment" in pdf["Content-Disposition"]
    assert "expiration" in pdf_text(pdf.content).lower()
    in_90 = (facility_today() + timedelta(days=90)).isoformat()
    fixed = roi_api.post(f"{url}/authorizations/{auth['id']}",
                         {"elements": {"expiration": True}, "expires_on": in_90})  # fmt: skip
    assert fixed.status_code == 200 and fixed.json()["defects"] == []
    now = roi_api.get(url + "/basis").json()
    assert now["ok"] is True and now["authorization_id"] == auth["id"]
    assert [a["id"] for a in roi_api.get(url + "/authorizations").json()] == [
        auth["id"]
    ]
    revoked = roi_api.post(f"{url}/authorizations/{auth['id']}/revoke",
                           {"note": "letter from the patient"})  # fmt: skip
    assert revoked.json()["defects"][0]["rule"] == "R-AUTH-5(iii)"
    again = roi_api.post(f"{url}/authorizations/{auth['id']}/revoke", {"note": "again"})
    assert again.status_code == 422 and again.json()["field"] == "at"


def test_bad_authorizations_are_refused_by_field(roi_api, third_party):
    url = f"/release-requests/{third_party}/authorizations"
    unknown = roi_api.post(url, {"kind": "hipaa", "elements": {"napkin": True}})
    assert unknown.status_code == 422 and unknown.json()["field"] == "elements"
    kind = roi_api.post(url, {"kind": "vague", "elements": {}})
    assert kind.status_code == 422 and kind.json()["field"] == "kind"
    label = roi_api.post(url, {"kind": "hipaa", "elements": {}, "covers": ["XYZ"]})
    assert (
        label.status_code == 422
        and "unknown sensitivity label" in label.json()["message"]
    )
    assert roi_api.get(url).json() == []


def test_letters_and_a_denial_with_its_review(roi_api, patient):
    req = roi_api.post("/release-requests", body(
        patient, identity_verified=True, verification_method="ID")).json()  # fmt: skip
    url = f"/release-requests/{req['id']}"
    ack = roi_api.post(url + "/letters", {"kind": "acknowledgment"})
    assert ack.status_code == 201
    refused = roi_api.post(url + "/letters", {"kind": "extension"})
    assert refused.status_code == 422
    no_pro = roi_api.post(
        url + "/denials", {"ground": "endangerment", "basis": "unsafe"}
    )
    assert no_pro.status_code == 422 and no_pro.json()["field"] == "professional"
    denial = roi_api.post(url + "/denials", {"ground": "endangerment", "basis": "unsafe",
                                             "professional": "Dr. Ada"}).json()  # fmt: skip
    assert denial["reviewable"] is True
    assert ReleaseRequest.objects.get().status == "denied"
    asked = roi_api.post(f"{url}/denials/{denial['id']}/review-request")
    assert asked.json()["review_requested_at"]
    decided = roi_api.post(f"{url}/denials/{denial['id']}/review",
                           {"reviewer": "Dr. Grace", "outcome": "upheld"})  # fmt: skip
    assert decided.json()["review_outcome"] == "upheld"
    kinds = sorted(x["kind"] for x in roi_api.get(url + "/letters").json())
    assert kinds == ["acknowledgment", "denial", "review"]
