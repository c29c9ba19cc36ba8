"""Changing a request after intake from its page ("Change the request"): the legal
papers that arrive after a subpoena, what is asked for (R-MIN-6), contact and
delivery; a bad change is named at its field and nothing is written."""

from __future__ import annotations

import json
from datetime import date

import pytest

from recordroom.audit.models import AuditEvent
from recordroom.release.authorizations import check_basis
from recordroom.release.models import ReleaseRequest
from tests import factories

from .conftest import signed_in
from .forms import submitted
from .test_release_desk import make_request


@pytest.fixture
def roi(db, facility):
    return factories.user("roi1", "roi_specialist", facilities=[facility])


@pytest.fixture
def roi_client(roi):
    return signed_in(roi)


@pytest.fixture
def subpoena(roi, patient) -> ReleaseRequest:
    return make_request(roi, patient, requester_type="subpoena",
                        requester_name="Doe v. Roe", legal_detail={"assurance": "qpo"},
                        entire_record=False, date_from=date(2025, 1, 1),
                        date_to=date(2025, 12, 31))  # fmt: skip


def change(client, req: ReleaseRequest, **fields):
    """Post the request page's change form as it stands, with `fields` changed."""
    url = f"/release/{req.pk}/change"
    page = client.get(f"/release/{req.pk}").content.decode()
    return client.post(url, submitted(page, url, **fields))


def test_r_disc_3_assurance_papers_added_later_make_the_basis_check_pass(
    roi_client, subpoena
):
    before = check_basis(subpoena)
    assert not before.ok
    assert {d.element for d in before.defects} >= {
        "written statement", "documentation", "qualified protective order"}  # fmt: skip
    page = roi_client.get(f"/release/{subpoena.pk}").content.decode()
    assert "Change the request" in page and 'name="legal-qpo"' in page

    done = change(roi_client, subpoena, **{
        "legal-written_statement": "on", "legal-qpo": "filed",
        "legal-documents": "Stipulated protective order, filed 2026-11-02"})  # fmt: skip
    assert done.status_code == 302
    subpoena.refresh_from_db()
    assert subpoena.legal_detail == {
        "assurance": "qpo", "written_statement": True, "qpo": "filed",
        "documents": ["Stipulated protective order, filed 2026-11-02"]}  # fmt: skip
    assert subpoena.date_from == date(2025, 1, 1)  # untouched fields stay as they were
    assert check_basis(subpoena).ok
    event = AuditEvent.objects.filter(action="release.request_update").get()
    assert json.loads(event.detail)["changed"] == ["legal_detail"]
    assert "Nothing stands in the way" in roi_client.get(
        f"/release/{subpoena.pk}").content.decode()  # fmt: skip

    # a paper unticked is removed (not kept as "no")
    unticked = change(roi_client, subpoena, **{"legal-written_statement": None})
    assert unticked.status_code == 302
    subpoena.refresh_from_db()
    assert "written_statement" not in subpoena.legal_detail
    assert not check_basis(subpoena).ok


def test_a_bad_change_names_its_field_and_writes_nothing(roi_client, subpoena):
    refused = change(roi_client, subpoena, date_to="2024-01-01",
                     requester_phone="217 555 0100")  # fmt: skip
    assert refused.status_code == 422
    body = refused.content.decode()
    assert "Nothing was changed" in body
    field = body[body.index('id="change-date_to"') :]
    assert "ends (2024-01-01) before it starts" in field[: field.index("</div>")]
    subpoena.refresh_from_db()
    assert (subpoena.date_to, subpoena.requester_phone) == (date(2025, 12, 31), "")
    assert not AuditEvent.objects.filter(action="release.request_update").exists()
    event = AuditEvent.objects.filter(action="release.refused").latest("id")
    assert json.loads(event.detail)["field"] == "date_to"
    assert event.outcome == "failure"


def test_r_min_6_the_entire_record_for_a_third_party_needs_its_reason(
    roi_client, subpoena
):
    refused = change(roi_client, subpoena, entire_record="on", entire_record_reason="")
    assert refused.status_code == 422
    body = refused.content.decode()
    field = body[body.index('id="change-entire_record_reason"') :]
    assert "R-MIN-6" in field[: field.index("</div>")]
    subpoena.refresh_from_db()
    assert not subpoena.entire_record
    done = change(roi_client, subpoena, entire_record="on",
                  entire_record_reason="the claim spans every admission")  # fmt: skip
    assert done.status_code == 302
    subpoena.refresh_from_db()
    assert subpoena.entire_record
    assert subpoena.entire_record_reason == "the claim spans every admission"


def test_contact_and_delivery_change_and_nothing_changed_says_so(roi_client, subpoena):
    done = change(roi_client, subpoena, delivery="mail",
                  requester_address="1 Court Sq\nSpringfield IL 62701")  # fmt: skip
    assert done.status_code == 302
    subpoena.refresh_from_db()
    assert (subpoena.delivery, subpoena.requester_address[:7]) == ("mail", "1 Court")
    event = AuditEvent.objects.filter(action="release.request_update").get()
    assert json.loads(event.detail)["changed"] == ["delivery", "requester_address"]
    same = change(roi_client, subpoena)
    assert same.status_code == 302
    assert "Nothing was changed" in roi_client.get(same["Location"]).content.decode()
    assert AuditEvent.objects.filter(action="release.request_update").count() == 1


def test_a_closed_request_has_no_change_form(roi, roi_client, patient):
    req = make_request(roi, patient)
    roi_client.post(f"/release/{req.pk}/status", {"status": "cancelled",
                                                  "note": "asked by mistake"})  # fmt: skip
    page = roi_client.get(f"/release/{req.pk}").content.decode()
    assert "Change the request" not in page
    refused = roi_client.post(f"/release/{req.pk}/change", {
        "purpose": "x", "format": "pdf", "delivery": "download"})  # fmt: skip
    assert refused.status_code == 422 and "is closed" in refused.content.decode()
